/* Persisted thresholds. Refer to dt_settings.h and docs/storage-format.md. */
#include "dt_settings.h"

#include <math.h>
#include <string.h>

#include "drip_thresholds.h"
#include "dt_le.h"
#include "dt_store.h"

/* Record words: magic, seq, model hash, kind | classes << 16, thresholds hash, then the
 * thresholds record padded to a word, then the CRC-32 of everything before it. */
#define HEAD_WORDS 5u
#define PAYLOAD_WORDS ((DT_THRESHOLDS_RECORD_BYTES + 3u) / 4u)
#define RECORD_WORDS_MAX (HEAD_WORDS + PAYLOAD_WORDS + 1u)

static const drip_thresholds_t default_thresholds = DRIP_DEFAULT_THRESHOLDS;

/* Word buffer of the record being written or read (static: it may be large for models
 * with many classes, and settings are not reentrant anyway). */
static uint32_t record_words[RECORD_WORDS_MAX];

void dt_thresholds_to_wire(const drip_thresholds_t *t, uint8_t *out)
{
    uint32_t c;
    for (c = 0; c < (uint32_t)DRIP_NUM_CLASSES; c++) {
        uint8_t *p = out + c * DT_THRESHOLDS_CLASS_BYTES;
        dt_put_f32(p, t->lower[c]);
        dt_put_f32(p + 4, t->upper[c]);
        p[8] = t->has_window[c];
    }
}

const char *dt_thresholds_from_wire(const uint8_t *record, drip_thresholds_t *out)
{
    uint32_t c;
    for (c = 0; c < (uint32_t)DRIP_NUM_CLASSES; c++) {
        const uint8_t *p = record + c * DT_THRESHOLDS_CLASS_BYTES;
        float lo = dt_get_f32(p), hi = dt_get_f32(p + 4);
        if (!isfinite(lo) || !isfinite(hi)) {
            return "a bound is NaN or infinite";
        }
        if (p[8] > 1u) {
            return "has_window is not 0 or 1";
        }
        if (p[8] == 1u && lo > hi) {
            return "lower > upper";
        }
        out->lower[c] = lo;
        out->upper[c] = hi;
        out->has_window[c] = p[8];
    }
    return NULL;
}

uint32_t dt_thresholds_hash(const drip_thresholds_t *t)
{
    uint8_t rec[DT_THRESHOLDS_RECORD_BYTES];
    dt_thresholds_to_wire(t, rec);
    return dt_store_crc32(0, rec, DT_THRESHOLDS_RECORD_BYTES);
}

static void use_defaults(dt_settings_t *s)
{
    s->thresholds = default_thresholds;
    s->hash = dt_thresholds_hash(&default_thresholds);
    s->custom = 0;
}

static uint32_t record_words_for(uint32_t classes)
{
    return HEAD_WORDS + (classes * DT_THRESHOLDS_CLASS_BYTES + 3u) / 4u + 1u;
}

/* CRC-32 of `words` words of flash from off, read in small pieces. */
static int crc_of_flash(const dt_flash_t *f, uint32_t off, uint32_t words, uint32_t *crc)
{
    uint32_t chunk[16];
    uint32_t c = 0;
    while (words > 0) {
        uint32_t n = words < 16u ? words : 16u;
        int err = f->read(f, off, chunk, 4u * n);
        if (err) {
            return err;
        }
        c = dt_store_crc32(c, chunk, 4u * n);
        off += 4u * n;
        words -= n;
    }
    *crc = c;
    return DT_STORE_OK;
}

/* Reads the record of one page; returns 1 when it is a complete, intact record (its
 * header words then in head[]). */
static int read_record(const dt_flash_t *f, uint32_t page, uint32_t head[HEAD_WORDS])
{
    uint32_t off = page * f->page_size, classes, words, crc, stored;
    if (f->read(f, off, head, 4u * HEAD_WORDS) != DT_STORE_OK ||
        head[0] != DT_SETTINGS_MAGIC) {
        return 0;
    }
    classes = head[3] >> 16;
    words = record_words_for(classes);
    if (words * 4u > f->page_size) {
        return 0;
    }
    if (crc_of_flash(f, off, words - 1u, &crc) != DT_STORE_OK ||
        f->read(f, off + 4u * (words - 1u), &stored, 4) != DT_STORE_OK) {
        return 0;
    }
    return crc == stored;
}

/* Takes the thresholds of a custom record made for this model; 0 if it is not usable. */
static int load_custom(dt_settings_t *s, uint32_t page, const uint32_t head[HEAD_WORDS])
{
    uint8_t *rec = (uint8_t *)&record_words[HEAD_WORDS];
    drip_thresholds_t t;
    if (head[2] != DRIP_MODEL_HASH || (head[3] & 0xFFFFu) != DT_SETTINGS_KIND_CUSTOM ||
        (head[3] >> 16) != (uint32_t)DRIP_NUM_CLASSES) {
        return 0;
    }
    if (s->flash->read(s->flash, page * s->flash->page_size + 4u * HEAD_WORDS, rec,
                       DT_THRESHOLDS_RECORD_BYTES) != DT_STORE_OK ||
        dt_thresholds_from_wire(rec, &t) != NULL ||
        dt_store_crc32(0, rec, DT_THRESHOLDS_RECORD_BYTES) != head[4]) {
        return 0;
    }
    s->thresholds = t;
    s->hash = head[4];
    s->custom = 1;
    return 1;
}

void dt_settings_open(dt_settings_t *s, const dt_flash_t *flash)
{
    uint32_t p, head[HEAD_WORDS], best[HEAD_WORDS];
    memset(best, 0, sizeof(best));
    s->flash = flash;
    s->seq = 0;
    s->page = -1;
    use_defaults(s);
    if (flash == NULL) {
        return;
    }
    for (p = 0; p < flash->page_count; p++) {
        if (read_record(flash, p, head) && (s->page < 0 || head[1] > s->seq)) {
            s->seq = head[1];
            s->page = (int32_t)p;
            memcpy(best, head, sizeof(best));
        }
    }
    if (s->page >= 0) {
        (void)load_custom(s, (uint32_t)s->page, best);
    }
}

/* Erase the page after the newest record and program a whole record into it. */
static int write_record(dt_settings_t *s, uint32_t kind, const drip_thresholds_t *t)
{
    const dt_flash_t *f = s->flash;
    uint32_t classes = t != NULL ? (uint32_t)DRIP_NUM_CLASSES : 0u;
    uint32_t words = record_words_for(classes), page;
    int err;
    if (f == NULL || f->page_count < 2u) {
        return DT_STORE_ERR_ARG;
    }
    if (words * 4u > f->page_size) {
        return DT_STORE_ERR_TOO_BIG;
    }
    page = s->page < 0 ? 0u : ((uint32_t)s->page + 1u) % f->page_count;
    memset(record_words, 0, sizeof(record_words));
    record_words[0] = DT_SETTINGS_MAGIC;
    record_words[1] = s->seq + 1u;
    record_words[2] = DRIP_MODEL_HASH;
    record_words[3] = kind | (classes << 16);
    if (t != NULL) {
        dt_thresholds_to_wire(t, (uint8_t *)&record_words[HEAD_WORDS]);
        record_words[4] = dt_thresholds_hash(t);
    } else {
        record_words[4] = dt_thresholds_hash(&default_thresholds);
    }
    record_words[words - 1u] = dt_store_crc32(0, record_words, 4u * (words - 1u));
    err = f->erase_page(f, page);
    if (err == DT_STORE_OK) {
        err = f->program_words(f, page * f->page_size, record_words, words);
    }
    if (err != DT_STORE_OK) {
        return err;
    }
    s->seq++;
    s->page = (int32_t)page;
    return DT_STORE_OK;
}

int dt_settings_set(dt_settings_t *s, const drip_thresholds_t *t)
{
    int err = write_record(s, DT_SETTINGS_KIND_CUSTOM, t);
    if (err == DT_STORE_OK) {
        s->thresholds = *t;
        s->hash = dt_thresholds_hash(t);
        s->custom = 1;
    }
    return err;
}

int dt_settings_reset(dt_settings_t *s)
{
    int err = write_record(s, DT_SETTINGS_KIND_DEFAULTS, NULL);
    if (err == DT_STORE_OK) {
        use_defaults(s);
    }
    return err;
}
