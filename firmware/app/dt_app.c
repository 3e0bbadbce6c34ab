/*
 * The application's frame layer: bytes in, COBS frames, packet checks, error replies,
 * the replay of the last reply for a repeated request, and replies out. What each command
 * does is in dt_app_commands.c.
 */
#include "dt_app.h"

#include <string.h>

#include "dt_app_internal.h"
#include "dt_board.h"
#include "dt_cobs.h"

static dt_app_t app;

/* Replies to invalid packets have their own buffer, so they never replace the reply kept
 * for a repeated request. */
static uint8_t error_reply[DT_PACKET_OVERHEAD + DT_APP_ERROR_BYTES];

uint32_t dt_app_error(uint8_t *out, dt_status_t status, const char *message)
{
    uint32_t n = 0;
    out[0] = (uint8_t)status;
    while (message != NULL && message[n] != '\0' && n < 64u) {
        out[1u + n] = (uint8_t)message[n];
        n++;
    }
    return 1u + n;
}

const char *dt_app_store_error_text(int err)
{
    switch (err) {
    case DT_STORE_ERR_ARG: return "store: bad argument";
    case DT_STORE_ERR_IO: return "store: flash I/O error";
    case DT_STORE_ERR_CORRUPT: return "store: record CRC mismatch";
    case DT_STORE_ERR_FULL: return "store: full";
    case DT_STORE_ERR_NOT_FOUND: return "store: no such record";
    case DT_STORE_ERR_TOO_BIG: return "store: record too big";
    case DT_STORE_ERR_NOR: return "store: flash refused a write (NOR rules)";
    case DT_STORE_ERR_VERSION: return "store: flash holds another store format version";
    default: return "store: unknown error";
    }
}

static void write_to_board(void *ctx, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    dt_board_serial_write(data, len);
}

static void send_packet(const uint8_t *packet, uint32_t len)
{
    static const uint8_t delimiter = 0;
    (void)dt_cobs_encode_stream(packet, len, write_to_board, NULL);
    dt_board_serial_write(&delimiter, 1);
}

/* An error reply to a packet that is not run (its header fields are echoed). */
static void send_error(uint8_t command, uint16_t sequence, dt_status_t status,
                       const char *message)
{
    uint32_t payload = dt_app_error(error_reply + DT_PACKET_HEADER_BYTES, status, message);
    uint32_t n = dt_packet_finish(error_reply, sizeof(error_reply),
                                  (uint8_t)(command | DT_PACKET_REPLY_BIT), sequence, payload);
    send_packet(error_reply, n);
}

/* The stored reply to an earlier run of this request, or NULL: the last request of any
 * command, or one of the last DT_APP_REPLAY_DEPTH CLASSIFY that ran. */
static const uint8_t *stored_reply(const dt_packet_t *request, uint32_t *len)
{
    uint32_t i;
    if (app.have_last && request->sequence == app.last_sequence &&
        request->crc == app.last_crc) {
        *len = app.reply_len;
        return app.reply;
    }
    if (request->command != DT_CMD_CLASSIFY) {
        return NULL;
    }
    for (i = 0; i < DT_APP_REPLAY_DEPTH; i++) {
        const dt_classify_reply_t *r = &app.classified[i];
        if (r->len != 0u && r->sequence == request->sequence && r->crc == request->crc) {
            *len = r->len;
            return r->packet;
        }
    }
    return NULL;
}

static void keep_classify_reply(const dt_packet_t *request)
{
    dt_classify_reply_t *r = &app.classified[app.classified_next];
    if (app.reply_len > sizeof(r->packet) || app.reply[DT_PACKET_HEADER_BYTES] != DT_STATUS_OK) {
        return; /* an error reply: nothing ran, so running it again is harmless */
    }
    memcpy(r->packet, app.reply, app.reply_len);
    r->len = (uint16_t)app.reply_len;
    r->sequence = request->sequence;
    r->crc = request->crc;
    app.classified_next = (app.classified_next + 1u) % DT_APP_REPLAY_DEPTH;
}

static void handle_packet(const dt_packet_t *request)
{
    dt_command_t cmd;
    uint32_t payload, len;
    const uint8_t *again = stored_reply(request, &len);
    if (again != NULL) {
        send_packet(again, len); /* a retry: the reply was lost */
        return;
    }
    cmd.app = &app;
    cmd.request = request;
    cmd.out = app.reply + DT_PACKET_HEADER_BYTES;
    cmd.cap = (uint32_t)sizeof(app.reply) - DT_PACKET_OVERHEAD;
    payload = dt_app_run_command(&cmd);
    app.reply_len = dt_packet_finish(app.reply, sizeof(app.reply),
                                     (uint8_t)(request->command | DT_PACKET_REPLY_BIT),
                                     request->sequence, payload);
    app.last_sequence = request->sequence;
    app.last_crc = request->crc;
    app.have_last = 1;
    if (request->command == DT_CMD_CLASSIFY) {
        keep_classify_reply(request);
    }
    send_packet(app.reply, app.reply_len);
}

static void handle_frame(uint32_t encoded_len)
{
    dt_packet_t p;
    int32_t n = dt_cobs_decode(app.rx_buf, encoded_len, app.rx_buf, sizeof(app.rx_buf));
    if (n < 0) {
        app.stats.crc_errors++; /* line noise: no header to answer */
        return;
    }
    switch (dt_packet_parse(app.rx_buf, (uint32_t)n, &p)) {
    case DT_PACKET_OK:
        handle_packet(&p);
        break;
    case DT_PACKET_SHORT:
        app.stats.length_errors++;
        break;
    case DT_PACKET_BAD_LENGTH:
        app.stats.length_errors++;
        send_error(p.command, p.sequence, DT_STATUS_ERR_LENGTH,
                   "packet size disagrees with its length field");
        break;
    case DT_PACKET_BAD_CRC:
        app.stats.crc_errors++;
        send_error(p.command, p.sequence, DT_STATUS_ERR_CRC, "CRC mismatch");
        break;
    case DT_PACKET_BAD_VERSION:
        send_error(p.command, p.sequence, DT_STATUS_ERR_VERSION,
                   "protocol version 1 only");
        break;
    }
}

void dt_app_init(void)
{
    memset(&app, 0, sizeof(app));
    app.store_status = dt_store_open(&app.store, dt_board_store_flash(),
                                     DT_APP_STORE_POLICY);
    dt_settings_open(&app.settings, dt_board_settings_flash());
    dt_frame_rx_init(&app.rx, app.rx_buf, sizeof(app.rx_buf));
    /* One empty cycles region per boot: the markers' own cost, which an emulator that
     * counts regions outside the device (QEMU's insn_count plugin) subtracts from every
     * stage (drip_tiny.link.emulated.PluginCycles). */
    (void)dt_board_cycles_end(dt_board_cycles_begin());
}

int dt_app_feed(uint8_t byte)
{
    switch (dt_frame_rx_feed(&app.rx, byte)) {
    case DT_FRAME_READY:
        handle_frame(app.rx.len);
        break;
    case DT_FRAME_TOO_LONG:
        app.stats.oversize_frames++;
        send_error(0, 0, DT_STATUS_ERR_TOO_LONG, "frame longer than MAX_FRAME");
        break;
    case DT_FRAME_NONE:
        break;
    }
    return app.reset_requested;
}

int dt_app_poll(void)
{
    int c;
    /* Stop at a RESET: bytes after it belong to the next boot. */
    while (!app.reset_requested && (c = dt_board_serial_getc()) >= 0) {
        (void)dt_app_feed((uint8_t)c);
    }
    return app.reset_requested;
}

const dt_app_stats_t *dt_app_stats(void)
{
    return &app.stats;
}
