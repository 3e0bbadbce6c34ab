/*
 * Flash sample store. Refer to dt_store.h for the API and docs/storage-format.md for the
 * format; section numbers below point into that document.
 */
#include "dt_store.h"

#include <string.h>

/// Format constants (section 2 and 3) ///

#define PAGE_MAGIC 0x53544454u
#define PAGE_HDR_BYTES 28u
#define PAGE_HDR_CRC_BYTES 16u
#define PAGE_RETIRED_OFF 20u
#define PAGE_CONT_OFF 24u
#define REC_COMMITTED 0x4C4F4752u
#define REC_HDR_BYTES 24u
#define ERASED_WORD 0xFFFFFFFFu
#define MAX_PAYLOAD 65535u

enum { PAGE_ERASED = 0, PAGE_LIVE = 1, PAGE_GARBAGE = 2 };

/* Record words, as indexes into the 6-word record header. */
enum { R_COMMIT = 0, R_LEN = 1, R_ID = 2, R_CLASS = 3, R_DRIPS = 4, R_CRC = 5 };

/// CRC-32 ///

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t dt_store_crc32(uint32_t crc, const void *data, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    }
    return ~crc;
}

/// Small helpers ///

static uint32_t round4(uint32_t n)
{
    return (n + 3u) & ~3u;
}

static uint32_t page_off(const dt_store_t *s, uint32_t page)
{
    return page * s->flash->page_size;
}

/* A 16-bit value with its complement in the high half: the record's len and the page's
 * cont word. A torn or damaged word fails len_ok. */
static uint32_t len_word(uint32_t n)
{
    return (n & 0xFFFFu) | ((~n & 0xFFFFu) << 16);
}

/* 1 if w is a well-formed len word, with the length in *n. */
static int len_ok(uint32_t w, uint32_t *n)
{
    *n = w & 0xFFFFu;
    return (w >> 16) == (~w & 0xFFFFu);
}

/* Record bytes one page holds after its header. */
static uint32_t page_room(const dt_store_t *s)
{
    return s->flash->page_size - PAGE_HDR_BYTES;
}

static int flash_read(const dt_store_t *s, uint32_t off, void *dst, uint32_t len)
{
    return s->flash->read(s->flash, off, dst, len);
}

/* 1 if [off, off + len) reads as all 0xFF, 0 if not, negative on a read error. */
static int is_erased(const dt_store_t *s, uint32_t off, uint32_t len)
{
    uint32_t buf[16];
    while (len > 0) {
        uint32_t chunk = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        uint32_t i;
        int err = flash_read(s, off, buf, chunk);
        if (err) {
            return err;
        }
        for (i = 0; i < chunk; i++) {
            if (((const uint8_t *)buf)[i] != 0xFFu) {
                return 0;
            }
        }
        off += chunk;
        len -= chunk;
    }
    return 1;
}

/// Recovery (section 6) ///

/* Walk the records of a LIVE page from the end of its continuation: count them, find the
 * append point, close the page at anything that is neither a committed record nor erased
 * space. A committed record longer than the rest of the page continues on the next
 * pages: it is the page's last record, and pg->spill says how much of it lies beyond.
 * Reads only. */
static int scan_records(dt_store_t *s, uint32_t page)
{
    dt_store_page_t *pg = &s->pages[page];
    const uint32_t psize = s->flash->page_size;
    const uint32_t base = page_off(s, page);
    uint32_t off = PAGE_HDR_BYTES + pg->cont;

    pg->count = 0;
    pg->closed = 0;
    pg->spill = 0;
    while (off + REC_HDR_BYTES <= psize) {
        uint32_t w[3], n;
        int err = flash_read(s, base + off, w, sizeof(w));
        if (err) {
            return err;
        }
        if (w[R_COMMIT] == REC_COMMITTED && len_ok(w[R_LEN], &n)) {
            const uint32_t size = REC_HDR_BYTES + round4(n);
            pg->count++;
            pg->last_id = w[R_ID];
            if (size > psize - off) {
                pg->spill = size - (psize - off);
                off = psize;
                break;
            }
            off += size;
            continue;
        }
        if (w[R_COMMIT] == ERASED_WORD) {
            err = is_erased(s, base + off, psize - off);
            if (err < 0) {
                return err;
            }
            pg->closed = (uint8_t)(err == 0);
        } else {
            pg->closed = 1;
        }
        break;
    }
    pg->end = off;
    return DT_STORE_OK;
}

/* Classify one page (section 2). Updates *max_seq from any header with a valid CRC. */
static int classify_page(dt_store_t *s, uint32_t page, uint32_t *max_seq)
{
    dt_store_page_t *pg = &s->pages[page];
    uint32_t h[7], cont;
    int err = flash_read(s, page_off(s, page), h, sizeof(h));
    if (err) {
        return err;
    }
    memset(pg, 0, sizeof(*pg));
    if (h[0] == PAGE_MAGIC && dt_store_crc32(0, h, PAGE_HDR_CRC_BYTES) == h[4]) {
        if (h[1] != DT_STORE_FORMAT_VERSION) {
            return DT_STORE_ERR_VERSION;
        }
        if (h[2] > *max_seq) {
            *max_seq = h[2];
        }
        /* A torn cont word can only be left by a cut while the page was being opened,
         * before anything was written to it: the page is garbage. */
        if (h[5] == ERASED_WORD && len_ok(h[6], &cont) && cont <= page_room(s) &&
            (cont & 3u) == 0) {
            pg->state = PAGE_LIVE;
            pg->seq = h[2];
            pg->base_id = h[3];
            pg->cont = (uint16_t)cont;
            return scan_records(s, page);
        }
        pg->state = PAGE_GARBAGE;
        return DT_STORE_OK;
    }
    err = is_erased(s, page_off(s, page), s->flash->page_size);
    if (err < 0) {
        return err;
    }
    pg->state = err ? PAGE_ERASED : PAGE_GARBAGE;
    return DT_STORE_OK;
}

/* The continuation of the last record of the page at order[i]: the next LIVE pages in
 * seq order must each carry the expected number of continuation bytes. 1 if the record is
 * whole. (Their seq need not be consecutive: a page torn while being opened, before a
 * reboot, used up a seq number. The record's CRC is the final check.) */
static int continuation_whole(const dt_store_t *s, uint32_t i)
{
    uint32_t left = s->pages[s->order[i]].spill;
    while (left > 0) {
        uint32_t want = left < page_room(s) ? left : page_room(s);
        if (++i >= s->live || s->pages[s->order[i]].cont != want) {
            return 0;
        }
        left -= want;
    }
    return 1;
}

/* Rebuild the RAM state from flash. On failure the store is left not ready: a partial
 * picture of the flash could make open_page erase a LIVE page it did not see. */
static int recover(dt_store_t *s)
{
    uint32_t p, i, max_seq = 0;
    s->ready = 0;
    s->live = 0;
    s->total = 0;
    s->next_id = 1;
    for (p = 0; p < s->flash->page_count; p++) {
        int err = classify_page(s, p, &max_seq);
        if (err) {
            return err;
        }
    }
    for (p = 0; p < s->flash->page_count; p++) {
        const dt_store_page_t *pg = &s->pages[p];
        if (pg->state != PAGE_LIVE) {
            continue;
        }
        /* Insertion sort by seq: at most DT_STORE_MAX_PAGES entries. */
        for (i = s->live; i > 0 && s->pages[s->order[i - 1]].seq > pg->seq; i--) {
            s->order[i] = s->order[i - 1];
        }
        s->order[i] = (uint8_t)p;
        s->live++;
        s->total += pg->count;
        if (pg->base_id > s->next_id) {
            s->next_id = pg->base_id;
        }
        if (pg->count > 0 && pg->last_id >= s->next_id) {
            s->next_id = pg->last_id + 1u;
        }
    }
    for (i = 0; i < s->live; i++) {
        dt_store_page_t *pg = &s->pages[s->order[i]];
        pg->broken = (uint8_t)(pg->spill > 0 && !continuation_whole(s, i));
    }
    s->next_seq = max_seq + 1u;
    s->ready = 1;
    return DT_STORE_OK;
}

int dt_store_open(dt_store_t *store, const dt_flash_t *flash, dt_store_full_policy_t policy)
{
    if (store == NULL || flash == NULL || flash->read == NULL ||
        flash->program_words == NULL || flash->erase_page == NULL ||
        flash->page_count < 2 || flash->page_count > DT_STORE_MAX_PAGES ||
        flash->page_size < 64 || flash->page_size > 65536u || (flash->page_size & 3u) ||
        (policy != DT_STORE_FULL_STOP && policy != DT_STORE_FULL_OVERWRITE_OLDEST)) {
        return DT_STORE_ERR_ARG;
    }
    memset(store, 0, sizeof(*store));
    store->flash = flash;
    store->policy = policy;
    return recover(store);
}

/// Page allocation, retiring and erasing (section 5) ///

static int retire_and_erase(dt_store_t *s, uint32_t page)
{
    const uint32_t zero = 0;
    int err = s->flash->program_words(s->flash, page_off(s, page) + PAGE_RETIRED_OFF, &zero, 1);
    if (err) {
        return err;
    }
    s->pages[page].state = PAGE_GARBAGE;
    err = s->flash->erase_page(s->flash, page);
    if (err) {
        return err;
    }
    s->pages[page].state = PAGE_ERASED;
    return DT_STORE_OK;
}

/* Remove page from order[] and the totals (it is no longer part of the log). */
static void drop_from_log(dt_store_t *s, uint32_t page)
{
    uint32_t i, j;
    for (i = 0; i < s->live; i++) {
        if (s->order[i] == page) {
            s->total -= s->pages[page].count;
            for (j = i + 1u; j < s->live; j++) {
                s->order[j - 1u] = s->order[j];
            }
            s->live--;
            return;
        }
    }
}

/* Drop the oldest LIVE page: retire it, then erase it (section 5). */
static int drop_oldest(dt_store_t *s)
{
    uint32_t page = s->order[0];
    drop_from_log(s, page);
    return retire_and_erase(s, page);
}

/* Open a new page at the head of the log, whose first cont bytes will continue the
 * record being appended (0: none). overwrite: allowed to drop the oldest page when every
 * page is LIVE. */
static int open_page(dt_store_t *s, int overwrite, uint32_t cont)
{
    const uint32_t npages = s->flash->page_count;
    uint32_t start = s->live ? s->order[s->live - 1u] : npages - 1u;
    uint32_t k, target = npages;
    uint32_t h[5], cont_word = len_word(cont);
    int err;

    for (k = 1; k <= npages; k++) {
        uint32_t p = (start + k) % npages;
        if (s->pages[p].state != PAGE_LIVE) {
            target = p;
            break;
        }
    }
    if (target == npages) {
        if (!overwrite) {
            return DT_STORE_ERR_FULL;
        }
        target = s->order[0];
        err = drop_oldest(s);
        if (err) {
            return err;
        }
    }
    if (s->pages[target].state != PAGE_ERASED) {
        err = is_erased(s, page_off(s, target), s->flash->page_size);
        if (err < 0) {
            return err;
        }
        if (err == 0) {
            err = s->flash->erase_page(s->flash, target);
            if (err) {
                return err;
            }
        }
        s->pages[target].state = PAGE_ERASED;
    }
    h[0] = PAGE_MAGIC;
    h[1] = DT_STORE_FORMAT_VERSION;
    h[2] = s->next_seq;
    h[3] = s->next_id;
    h[4] = dt_store_crc32(0, h, PAGE_HDR_CRC_BYTES);
    /* The retired word (offset 20) stays erased; cont goes last, so a page whose header
     * reads whole was opened completely. */
    err = s->flash->program_words(s->flash, page_off(s, target), h, 5);
    if (!err) {
        err = s->flash->program_words(s->flash, page_off(s, target) + PAGE_CONT_OFF,
                                      &cont_word, 1);
    }
    if (err) {
        s->pages[target].state = PAGE_GARBAGE;
        return err;
    }
    memset(&s->pages[target], 0, sizeof(s->pages[target]));
    s->pages[target].state = PAGE_LIVE;
    s->pages[target].seq = s->next_seq;
    s->pages[target].base_id = s->next_id;
    s->pages[target].cont = (uint16_t)cont;
    s->pages[target].end = PAGE_HDR_BYTES + cont;
    s->next_seq++;
    s->order[s->live++] = (uint8_t)target;
    return DT_STORE_OK;
}

/// Append (section 4) ///

/* Program len bytes from an arbitrarily aligned buffer as words, padding with 0xFF. */
static int program_bytes(dt_store_t *s, uint32_t off, const uint8_t *src, uint32_t len)
{
    uint32_t buf[16];
    while (len > 0) {
        uint32_t chunk = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        int err;
        memset(buf, 0xFF, sizeof(buf));
        memcpy(buf, src, chunk);
        err = s->flash->program_words(s->flash, off, buf, round4(chunk) / 4u);
        if (err) {
            return err;
        }
        off += round4(chunk);
        src += chunk;
        len -= chunk;
    }
    return DT_STORE_OK;
}

/* Make sure `pages` free pages exist for an append whose record starts on the newest page
 * (keep_newest) or on a page of its own. STOP: DT_STORE_ERR_FULL, nothing written.
 * OVERWRITE: drop the oldest pages until there is room, never the newest when the record
 * starts on it (dt_store_max_sample guarantees that is never needed). */
static int reserve_pages(dt_store_t *s, uint32_t pages, int keep_newest)
{
    const uint32_t npages = s->flash->page_count;
    if (npages - s->live >= pages) {
        return DT_STORE_OK;
    }
    if (s->policy != DT_STORE_FULL_OVERWRITE_OLDEST) {
        return DT_STORE_ERR_FULL;
    }
    while (npages - s->live < pages) {
        int err;
        if (s->live == 0 || (keep_newest && s->live == 1)) {
            return DT_STORE_ERR_TOO_BIG;
        }
        err = drop_oldest(s);
        if (err) {
            return err;
        }
    }
    return DT_STORE_OK;
}

static int append_locked(dt_store_t *s, const dt_sample_meta_t *meta, const uint8_t *data,
                         uint32_t len, uint32_t *id)
{
    const uint32_t psize = s->flash->page_size;
    const uint32_t need = REC_HDR_BYTES + round4(len);
    const uint32_t committed = REC_COMMITTED;
    dt_store_page_t *pg = NULL;
    uint32_t w[6], off, first, left, done, extra;
    int err;

    /* The record starts on the newest page if its header fits there (section 4). */
    if (s->live > 0) {
        pg = &s->pages[s->order[s->live - 1u]];
        if (pg->closed || pg->end + REC_HDR_BYTES > psize) {
            pg = NULL;
        }
    }
    first = pg != NULL ? psize - pg->end : page_room(s);
    extra = need > first ? (need - first + page_room(s) - 1u) / page_room(s) : 0u;
    err = reserve_pages(s, extra + (pg == NULL ? 1u : 0u), pg != NULL);
    if (err) {
        return err;
    }
    if (pg == NULL) {
        err = open_page(s, 0, 0);
        if (err) {
            return err;
        }
        pg = &s->pages[s->order[s->live - 1u]];
    }
    off = page_off(s, s->order[s->live - 1u]) + pg->end;

    w[R_COMMIT] = ERASED_WORD;
    w[R_LEN] = len_word(len);
    w[R_ID] = s->next_id;
    memcpy(&w[R_CLASS], &meta->predicted_class, 4);
    memcpy(&w[R_DRIPS], &meta->drips, 4);
    w[R_CRC] = dt_store_crc32(dt_store_crc32(0, &w[R_LEN], 16), data, len);

    /* Everything but the commit word first, the continuation pages included; the commit
     * word makes the record exist. */
    done = len < first - REC_HDR_BYTES ? len : first - REC_HDR_BYTES;
    err = s->flash->program_words(s->flash, off + 4u, &w[R_LEN], 5);
    if (!err) {
        err = program_bytes(s, off + REC_HDR_BYTES, data, done);
    }
    left = need > first ? need - first : 0u;
    while (!err && left > 0) {
        const uint32_t here = left < page_room(s) ? left : page_room(s);
        const uint32_t bytes = len - done < here ? len - done : here;
        err = open_page(s, 0, here);
        if (!err) {
            err = program_bytes(s, page_off(s, s->order[s->live - 1u]) + PAGE_HDR_BYTES,
                                data + done, bytes);
        }
        done += bytes;
        left -= here;
    }
    if (!err) {
        err = s->flash->program_words(s->flash, off, &committed, 1);
    }
    if (err) {
        pg->closed = 1;
        return err;
    }
    pg->count++;
    pg->last_id = s->next_id;
    if (need > first) {
        pg->spill = need - first;
        pg->end = psize;
    } else {
        pg->end += need;
    }
    s->total++;
    if (id != NULL) {
        *id = s->next_id;
    }
    s->next_id++;
    return DT_STORE_OK;
}

/* ERR_ARG without a store or flash, ERR_IO while a failed recovery keeps it closed. */
static int check_usable(const dt_store_t *store)
{
    if (store == NULL || store->flash == NULL) {
        return DT_STORE_ERR_ARG;
    }
    return store->ready ? DT_STORE_OK : DT_STORE_ERR_IO;
}

int dt_store_append(dt_store_t *store, const dt_sample_meta_t *meta, const void *data,
                    uint32_t len, uint32_t *id)
{
    int err;
    if (meta == NULL || (data == NULL && len > 0)) {
        return DT_STORE_ERR_ARG;
    }
    err = check_usable(store);
    if (err) {
        return err;
    }
    if (len > dt_store_max_sample(store)) {
        return DT_STORE_ERR_TOO_BIG;
    }
    err = append_locked(store, meta, (const uint8_t *)data, len, id);
    if (err == DT_STORE_ERR_IO || err == DT_STORE_ERR_NOR) {
        /* The RAM state may no longer describe the flash: read it again, as a reboot
         * would. If that fails too, the store stays unusable until reopened. */
        (void)recover(store);
    }
    return err;
}

/// Reading ///

/* Find the record at position k of the LIVE page order[i]; *off gets its flash offset.
 * Only a page's last record can continue on later pages, so skipping stays in the page. */
static int locate_in_page(const dt_store_t *s, uint32_t i, uint32_t k, uint32_t *off)
{
    const uint32_t page = s->order[i];
    uint32_t o = page_off(s, page) + PAGE_HDR_BYTES + s->pages[page].cont;
    while (k--) {
        uint32_t w[2], n;
        int err = flash_read(s, o, w, sizeof(w));
        if (err) {
            return err;
        }
        (void)len_ok(w[R_LEN], &n); /* checked by recovery */
        o += REC_HDR_BYTES + round4(n);
    }
    *off = o;
    return DT_STORE_OK;
}

/* Read the payload of a record whose header is at off on page order[i]: from its own page,
 * then from the continuation area of the pages after it (recovery checked they exist). */
static int read_payload(const dt_store_t *s, uint32_t i, uint32_t off, uint8_t *buf,
                        uint32_t n)
{
    const uint32_t psize = s->flash->page_size;
    uint32_t here = psize - (off - page_off(s, s->order[i])) - REC_HDR_BYTES;
    uint32_t done = 0;
    uint32_t src = off + REC_HDR_BYTES;
    while (done < n) {
        uint32_t chunk = n - done < here ? n - done : here;
        int err = flash_read(s, src, buf + done, chunk);
        if (err) {
            return err;
        }
        done += chunk;
        if (++i >= s->live && done < n) {
            return DT_STORE_ERR_CORRUPT;
        }
        if (done < n) {
            src = page_off(s, s->order[i]) + PAGE_HDR_BYTES;
            here = page_room(s);
        }
    }
    return DT_STORE_OK;
}

/* The record at off, the k-th of page order[i]. */
static int read_at(const dt_store_t *s, uint32_t i, uint32_t k, uint32_t off,
                   dt_sample_meta_t *meta, void *buf, uint32_t buf_len, uint32_t *out_len)
{
    const dt_store_page_t *pg = &s->pages[s->order[i]];
    uint32_t w[6], n;
    int err = flash_read(s, off, w, sizeof(w));
    if (err) {
        return err;
    }
    (void)len_ok(w[R_LEN], &n);
    if (out_len != NULL) {
        *out_len = n;
    }
    if (n > buf_len) {
        return DT_STORE_ERR_TOO_BIG;
    }
    if (n > 0 && buf == NULL) {
        return DT_STORE_ERR_ARG;
    }
    /* A last record whose continuation pages are gone (section 6) reads as corrupt. */
    err = (pg->broken && k + 1u == pg->count) ? DT_STORE_ERR_CORRUPT
                                              : read_payload(s, i, off, buf, n);
    if (err && err != DT_STORE_ERR_CORRUPT) {
        return err;
    }
    if (err || dt_store_crc32(dt_store_crc32(0, &w[R_LEN], 16), buf, n) != w[R_CRC]) {
        if (n > 0) {
            memset(buf, 0, n);
        }
        return DT_STORE_ERR_CORRUPT;
    }
    if (meta != NULL) {
        meta->id = w[R_ID];
        memcpy(&meta->predicted_class, &w[R_CLASS], 4);
        memcpy(&meta->drips, &w[R_DRIPS], 4);
        meta->length = n;
    }
    return DT_STORE_OK;
}

int dt_store_read(const dt_store_t *store, uint32_t index, dt_sample_meta_t *meta,
                  void *buf, uint32_t buf_len, uint32_t *out_len)
{
    uint32_t i, off;
    int err;
    err = check_usable(store);
    if (err) {
        return err;
    }
    for (i = 0; i < store->live; i++) {
        uint32_t count = store->pages[store->order[i]].count;
        if (index < count) {
            err = locate_in_page(store, i, index, &off);
            if (err) {
                return err;
            }
            return read_at(store, i, index, off, meta, buf, buf_len, out_len);
        }
        index -= count;
    }
    return DT_STORE_ERR_NOT_FOUND;
}

int dt_store_read_id(const dt_store_t *store, uint32_t id, dt_sample_meta_t *meta,
                     void *buf, uint32_t buf_len, uint32_t *out_len)
{
    uint32_t i, k;
    int err;
    err = check_usable(store);
    if (err) {
        return err;
    }
    for (i = 0; i < store->live; i++) {
        uint32_t page = store->order[i];
        const dt_store_page_t *pg = &store->pages[page];
        uint32_t off = page_off(store, page) + PAGE_HDR_BYTES + pg->cont;
        if (pg->count == 0 || id < pg->base_id || id > pg->last_id) {
            continue;
        }
        /* Ids inside a page are increasing but may skip (an id cut by power loss is
         * reused on the next page), so compare each one. */
        for (k = 0; k < pg->count; k++) {
            uint32_t w[3], n;
            err = flash_read(store, off, w, sizeof(w));
            if (err) {
                return err;
            }
            if (w[R_ID] == id) {
                return read_at(store, i, k, off, meta, buf, buf_len, out_len);
            }
            (void)len_ok(w[R_LEN], &n);
            off += REC_HDR_BYTES + round4(n);
        }
    }
    return DT_STORE_ERR_NOT_FOUND;
}

/// Erase all, queries ///

int dt_store_erase_all(dt_store_t *store)
{
    uint32_t keep, p;
    int err;
    err = check_usable(store);
    if (err) {
        return err;
    }
    /* A fresh page first, so base_id keeps ids monotonic even if every other page goes. */
    err = open_page(store, 1, 0);
    if (err) {
        goto fail;
    }
    keep = store->order[store->live - 1u];
    while (store->live > 1) {
        err = drop_oldest(store);
        if (err) {
            goto fail;
        }
    }
    for (p = 0; p < store->flash->page_count; p++) {
        if (p != keep && store->pages[p].state == PAGE_GARBAGE) {
            err = store->flash->erase_page(store->flash, p);
            if (err) {
                goto fail;
            }
            store->pages[p].state = PAGE_ERASED;
        }
    }
    return DT_STORE_OK;
fail:
    (void)recover(store);
    return err;
}

uint32_t dt_store_count(const dt_store_t *store)
{
    return (store == NULL || !store->ready) ? 0u : store->total;
}

uint32_t dt_store_max_sample(const dt_store_t *store)
{
    uint32_t m;
    if (store == NULL || store->flash == NULL) {
        return 0;
    }
    /* A record always fits in page_count - 1 pages, so overwrite-oldest never has to drop
     * the page the record starts on (section 5). */
    m = (store->flash->page_count - 1u) * page_room(store) - REC_HDR_BYTES;
    return m < MAX_PAYLOAD ? m : MAX_PAYLOAD;
}

uint32_t dt_store_free_bytes(const dt_store_t *store)
{
    uint32_t p, total = 0;
    uint32_t psize;
    if (check_usable(store) != DT_STORE_OK) {
        return 0;
    }
    psize = store->flash->page_size;
    if (store->live > 0) {
        const dt_store_page_t *pg = &store->pages[store->order[store->live - 1u]];
        if (!pg->closed) {
            total += psize - pg->end;
        }
    }
    for (p = 0; p < store->flash->page_count; p++) {
        if (store->pages[p].state != PAGE_LIVE) {
            total += page_room(store);
        }
    }
    return total;
}

uint32_t dt_store_capacity_bytes(const dt_store_t *store)
{
    return store->flash->page_count * page_room(store);
}

uint32_t dt_store_next_id(const dt_store_t *store)
{
    return store->next_id;
}
