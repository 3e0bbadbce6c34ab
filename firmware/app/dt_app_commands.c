/*
 * What each command of docs/protocol.md does, given a valid request packet: checks the
 * payload size, runs, and writes the reply payload (status first).
 */
#include <string.h>

#include "dt_app_internal.h"
#include "dt_board.h"
#include "dt_le.h"

static const uint16_t input_dims[DT_APP_INPUT_RANK] = DT_APP_INPUT_DIMS;

/* Writes at most n bytes of s, NUL-padded to n. */
static void put_text(uint8_t *out, const char *s, uint32_t n)
{
    uint32_t i = 0;
    for (; i < n && s[i] != '\0'; i++) {
        out[i] = (uint8_t)s[i];
    }
    for (; i < n; i++) {
        out[i] = 0;
    }
}

static int store_ready(const dt_app_t *app)
{
    return app->store_status == DT_STORE_OK;
}

static uint32_t identify(const dt_command_t *c)
{
    dt_app_t *app = c->app;
    uint8_t *o = c->out;
    uint32_t i, p = 1;
    o[0] = DT_STATUS_OK;
    dt_put_u16(o + p, (uint16_t)DT_PACKET_VERSION); p += 2;
    put_text(o + p, DT_APP_FIRMWARE_VERSION, 16); p += 16;
    put_text(o + p, dt_board_name(), 16); p += 16;
    dt_put_u32(o + p, DRIP_MODEL_HASH); p += 4;
    dt_put_u32(o + p, app->settings.hash); p += 4;
    o[p++] = (uint8_t)DT_APP_INPUT_RANK;
    for (i = 0; i < DT_APP_INPUT_RANK; i++) {
        dt_put_u16(o + p, input_dims[i]); p += 2;
    }
    dt_put_f32(o + p, DT_APP_INPUT_SCALE); p += 4;
    dt_put_u32(o + p, (uint32_t)(int32_t)DT_APP_INPUT_ZERO_POINT); p += 4;
    dt_put_u16(o + p, (uint16_t)DRIP_NUM_CLASSES); p += 2;
    o[p++] = (uint8_t)DT_APP_VARIANT_ID;
    dt_put_u32(o + p, store_ready(app) ? dt_store_capacity_bytes(&app->store) : 0u); p += 4;
    dt_put_u32(o + p, store_ready(app) ? dt_store_count(&app->store) : 0u); p += 4;
    o[p++] = (uint8_t)DT_APP_STORE_POLICY;
    dt_put_u32(o + p, DT_APP_MAX_FRAME); p += 4;
    dt_put_u32(o + p, dt_board_clock_hz()); p += 4;
    o[p++] = (uint8_t)DT_APP_REPLAY_DEPTH;
    return p;
}

/* Stores the sample when kept; fills result, index and cycles. The store stage is always
 * one cycles region, empty when nothing is appended: every CLASSIFY then brackets exactly
 * three regions, which an emulator counting outside the device (QEMU's insn_count plugin,
 * drip_tiny.link.emulated) relies on. Its cycles are reported as 0 unless a record was
 * written. */
static void store_sample(dt_app_t *app, const drip_decision_t *d, const uint8_t *sample,
                         uint8_t *result, uint32_t *index, uint32_t *cycles)
{
    dt_sample_meta_t meta;
    uint32_t start, elapsed;
    int err = DT_STORE_OK;
    *index = DT_WIRE_NOT_STORED;
    *cycles = 0;
    meta.id = 0;
    meta.length = 0;
    meta.predicted_class = d->predicted;
    meta.drips = d->drips;
    start = dt_board_cycles_begin();
    if (d->keep && store_ready(app)) {
        err = dt_store_append(&app->store, &meta, sample, DT_APP_INPUT_BYTES, NULL);
    }
    elapsed = dt_board_cycles_end(start);
    if (!d->keep) {
        *result = DT_STORE_RESULT_DISCARDED;
    } else if (!store_ready(app)) {
        *result = DT_STORE_RESULT_ERROR;
        app->stats.store_failures++;
    } else if (err == DT_STORE_OK) {
        *result = DT_STORE_RESULT_STORED;
        *index = dt_store_count(&app->store) - 1u;
        *cycles = elapsed;
    } else if (err == DT_STORE_ERR_FULL) {
        *result = DT_STORE_RESULT_FULL; /* nothing was written */
    } else {
        *result = DT_STORE_RESULT_ERROR;
        *cycles = elapsed; /* the flash may have been written */
        app->stats.store_failures++;
    }
}

static uint32_t classify(const dt_command_t *c)
{
    dt_app_t *app = c->app;
    const uint8_t *sample = c->request->payload;
    drip_decision_t d;
    uint32_t start, infer, drip, store, index, p = 1;
    uint8_t result;
    if (c->request->length != DT_APP_INPUT_BYTES) {
        return dt_app_error(c->out, DT_STATUS_ERR_SAMPLE_SIZE,
                            "sample size is not the model's input size");
    }
    /* The request stays in the receive buffer: invoke may overwrite the input tensor, and
     * the store gets the sample exactly as sent. */
    memcpy(DT_APP_INPUT(), sample, DT_APP_INPUT_BYTES);
    start = dt_board_cycles_begin();
    (void)dt_model_invoke();
    infer = dt_board_cycles_end(start);
    {
        const int8_t *const head[] = DT_APP_HEAD_INIT;
        start = dt_board_cycles_begin();
        drip_decide(DT_APP_TARGET(), DT_APP_LOGITS(), head, &app->settings.thresholds, &d);
        drip = dt_board_cycles_end(start);
    }
    store_sample(app, &d, sample, &result, &index, &store);
    app->stats.classified++;
    if (d.keep) {
        app->stats.kept++;
    } else {
        app->stats.discarded++;
    }
    c->out[0] = DT_STATUS_OK;
    c->out[p++] = (uint8_t)d.predicted;
    memcpy(c->out + p, DT_APP_LOGITS(), DRIP_NUM_CLASSES); p += DRIP_NUM_CLASSES;
    dt_put_f32(c->out + p, d.drips); p += 4;
    c->out[p++] = d.keep ? 1u : 0u;
    c->out[p++] = result;
    dt_put_u32(c->out + p, index); p += 4;
    dt_put_u32(c->out + p, infer); p += 4;
    dt_put_u32(c->out + p, drip); p += 4;
    dt_put_u32(c->out + p, store); p += 4;
    return p;
}

static uint32_t statistics(const dt_command_t *c)
{
    const dt_app_stats_t *s = &c->app->stats;
    /* docs/protocol.md STATISTICS: nine counters, the last from the board's receive ring. */
    const uint32_t values[9] = {s->classified, s->kept, s->discarded, s->store_failures,
                                s->crc_errors, s->length_errors, s->oversize_frames,
                                s->unknown_commands, dt_board_serial_overruns()};
    uint32_t i;
    c->out[0] = DT_STATUS_OK;
    for (i = 0; i < 9u; i++) {
        dt_put_u32(c->out + 1u + 4u * i, values[i]);
    }
    return 37u;
}

static uint32_t store_unavailable(const dt_command_t *c)
{
    return dt_app_error(c->out, DT_STATUS_ERR_STORE,
                        dt_app_store_error_text(c->app->store_status));
}

static uint32_t store_list(const dt_command_t *c)
{
    dt_app_t *app = c->app;
    uint32_t first = dt_get_u32(c->request->payload);
    uint32_t want = dt_get_u16(c->request->payload + 4);
    uint32_t count, room, n = 0, p = 3;
    if (!store_ready(app)) {
        return store_unavailable(c);
    }
    count = dt_store_count(&app->store);
    room = (c->cap - 3u) / DT_APP_LIST_ENTRY_BYTES;
    while (n < want && n < room && first < count && n < count - first) {
        dt_sample_meta_t meta;
        uint32_t len = 0, index = first + n;
        /* The receive buffer is free once the request's fields are read: it holds the
         * payload, whose CRC the store checks before it gives the metadata. */
        int err = dt_store_read(&app->store, index, &meta, app->rx_buf,
                                (uint32_t)sizeof(app->rx_buf), &len);
        if (err != DT_STORE_OK && err != DT_STORE_ERR_CORRUPT && err != DT_STORE_ERR_TOO_BIG) {
            app->stats.store_failures++;
            return dt_app_error(c->out, DT_STATUS_ERR_STORE, dt_app_store_error_text(err));
        }
        if (err != DT_STORE_OK) { /* listed, but marked unreadable */
            meta.id = 0xFFFFFFFFu;
            meta.predicted_class = 0xFF;
            meta.drips = 0.0f;
        }
        dt_put_u32(c->out + p, index);
        dt_put_u32(c->out + p + 4u, meta.id);
        c->out[p + 8u] = (uint8_t)meta.predicted_class;
        dt_put_f32(c->out + p + 9u, meta.drips);
        dt_put_u32(c->out + p + 13u, len);
        p += DT_APP_LIST_ENTRY_BYTES;
        n++;
    }
    c->out[0] = DT_STATUS_OK;
    dt_put_u16(c->out + 1, (uint16_t)n);
    return p;
}

static uint32_t store_read(const dt_command_t *c)
{
    dt_app_t *app = c->app;
    dt_sample_meta_t meta;
    uint32_t len = 0;
    int err;
    if (!store_ready(app)) {
        return store_unavailable(c);
    }
    err = dt_store_read(&app->store, dt_get_u32(c->request->payload), &meta, c->out + 10u,
                        c->cap - 10u, &len);
    if (err == DT_STORE_ERR_NOT_FOUND) {
        return dt_app_error(c->out, DT_STATUS_ERR_NOT_FOUND, "no stored sample at that index");
    }
    if (err != DT_STORE_OK) {
        app->stats.store_failures++;
        return dt_app_error(c->out, DT_STATUS_ERR_STORE, dt_app_store_error_text(err));
    }
    c->out[0] = DT_STATUS_OK;
    dt_put_u32(c->out + 1, meta.id);
    c->out[5] = (uint8_t)meta.predicted_class;
    dt_put_f32(c->out + 6, meta.drips);
    return 10u + len;
}

/* Erase every page and open again: how STORE_ERASE recovers a store that could not be
 * opened (e.g. another format version), since erase_all needs an open store. */
static int format_store(dt_app_t *app)
{
    const dt_flash_t *f = dt_board_store_flash();
    uint32_t page;
    for (page = 0; page < f->page_count; page++) {
        int err = f->erase_page(f, page);
        if (err != DT_STORE_OK) {
            return err;
        }
    }
    return dt_store_open(&app->store, f, DT_APP_STORE_POLICY);
}

static uint32_t store_erase(const dt_command_t *c)
{
    dt_app_t *app = c->app;
    int err;
    if (store_ready(app)) {
        err = dt_store_erase_all(&app->store);
    } else {
        err = format_store(app);
        app->store_status = err;
    }
    if (err != DT_STORE_OK) {
        app->stats.store_failures++;
        return dt_app_error(c->out, DT_STATUS_ERR_STORE, dt_app_store_error_text(err));
    }
    c->out[0] = DT_STATUS_OK;
    return 1;
}

static uint32_t thresholds_length_error(const dt_command_t *c)
{
    c->app->stats.length_errors++;
    return dt_app_error(c->out, DT_STATUS_ERR_LENGTH, "SET_THRESHOLDS needs 6 + 9 x classes bytes");
}

static uint32_t set_thresholds(const dt_command_t *c)
{
    const dt_packet_t *r = c->request;
    drip_thresholds_t t;
    const char *why;
    int err;
    if (r->length < 6u) {
        return thresholds_length_error(c);
    }
    if (dt_get_u16(r->payload) != (uint16_t)DRIP_NUM_CLASSES) {
        return dt_app_error(c->out, DT_STATUS_ERR_THRESHOLDS, "wrong class count");
    }
    if (r->length != 6u + DT_THRESHOLDS_RECORD_BYTES) {
        return thresholds_length_error(c);
    }
    if (dt_get_u32(r->payload + 2) !=
        dt_packet_crc32(r->payload + 6, DT_THRESHOLDS_RECORD_BYTES)) {
        return dt_app_error(c->out, DT_STATUS_ERR_THRESHOLDS,
                            "hash is not the CRC-32 of the thresholds");
    }
    why = dt_thresholds_from_wire(r->payload + 6, &t);
    if (why != NULL) {
        return dt_app_error(c->out, DT_STATUS_ERR_THRESHOLDS, why);
    }
    err = dt_settings_set(&c->app->settings, &t);
    if (err != DT_STORE_OK) {
        return dt_app_error(c->out, DT_STATUS_ERR_STORE, "settings flash write failed");
    }
    c->out[0] = DT_STATUS_OK;
    return 1;
}

static uint32_t reset_thresholds(const dt_command_t *c)
{
    if (dt_settings_reset(&c->app->settings) != DT_STORE_OK) {
        return dt_app_error(c->out, DT_STATUS_ERR_STORE, "settings flash write failed");
    }
    c->out[0] = DT_STATUS_OK;
    return 1;
}

static uint32_t reset(const dt_command_t *c)
{
    c->app->reset_requested = 1; /* after the reply has gone out */
    c->out[0] = DT_STATUS_OK;
    return 1;
}

typedef struct {
    uint8_t command;
    int32_t length; /* fixed payload size, or -1: the handler checks */
    uint32_t (*run)(const dt_command_t *c);
} command_entry_t;

static const command_entry_t commands[] = {
    {DT_CMD_IDENTIFY, 0, identify},
    {DT_CMD_CLASSIFY, -1, classify},
    {DT_CMD_STATISTICS, 0, statistics},
    {DT_CMD_STORE_LIST, 6, store_list},
    {DT_CMD_STORE_READ, 4, store_read},
    {DT_CMD_STORE_ERASE, 0, store_erase},
    {DT_CMD_SET_THRESHOLDS, -1, set_thresholds},
    {DT_CMD_RESET_THRESHOLDS, 0, reset_thresholds},
    {DT_CMD_RESET, 0, reset},
};

uint32_t dt_app_run_command(const dt_command_t *c)
{
    uint32_t i;
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].command != c->request->command) {
            continue;
        }
        if (commands[i].length >= 0 && c->request->length != (uint32_t)commands[i].length) {
            c->app->stats.length_errors++;
            return dt_app_error(c->out, DT_STATUS_ERR_LENGTH,
                                "payload size is not the command's fixed size");
        }
        return commands[i].run(c);
    }
    c->app->stats.unknown_commands++;
    return dt_app_error(c->out, DT_STATUS_ERR_UNKNOWN_COMMAND, "no such command");
}
