/*
 * The flash sample store: an append-only log of samples (payload + metadata + CRC32) in
 * the flash region behind a dt_flash_t. The on-flash format, the commit protocol, boot
 * recovery and the guarantees are in docs/storage-format.md; this header is the API
 * contract.
 *
 * No malloc: a dt_store_t is a fixed-size struct the caller owns (about
 * 28 + 29 * DT_STORE_MAX_PAGES bytes). Not thread-safe: one caller at a time.
 * Every function returns a dt_store_status_t (negative = error) unless said otherwise.
 *
 * Samples are addressed either by index (0 = oldest in the store, count - 1 = newest)
 * or by id (assigned by dt_store_append, strictly increasing, never reused).
 * A sample may be larger than a page: its record then continues on the next pages
 * (docs/storage-format.md, section 3). Finding a record walks the records of one page, so a
 * read costs at most page_size / 24 small flash reads plus the payload.
 */
#ifndef DT_STORE_H
#define DT_STORE_H

#include <stdint.h>

#include "dt_flash.h"

#define DT_STORE_FORMAT_VERSION 2u

#ifndef DT_STORE_MAX_PAGES
#define DT_STORE_MAX_PAGES 64u
#endif
/* order[] holds page numbers in a byte. */
typedef char dt_store_max_pages_fits_a_byte[(DT_STORE_MAX_PAGES <= 256u) ? 1 : -1];

typedef enum {
    DT_STORE_FULL_STOP = 0,           /* when full, append fails: old samples are kept */
    DT_STORE_FULL_OVERWRITE_OLDEST = 1 /* when full, drop the oldest page's samples     */
} dt_store_full_policy_t;

/* What the device knows about a sample besides its bytes. */
typedef struct {
    uint32_t id;             /* out only: set by append/read                  */
    int32_t predicted_class; /* in (append) / out (read)                      */
    float drips;             /* in (append) / out (read): the DRIPS score     */
    uint32_t length;         /* out only: payload bytes                       */
} dt_sample_meta_t;

/* RAM state of one page, filled by recovery. Private: read through the API. */
typedef struct {
    uint32_t seq;
    uint32_t base_id;
    uint32_t last_id;   /* id of the last committed record (valid if count > 0)    */
    uint32_t end;       /* offset after the last committed record (page_size when
                           the last record continues on the next pages)            */
    uint32_t spill;     /* bytes of the last record that lie on later pages        */
    uint16_t cont;      /* bytes after the header continuing an earlier record     */
    uint16_t count;     /* committed records that start on this page               */
    uint8_t state;      /* erased / live / garbage                                 */
    uint8_t closed;     /* torn record found: never append here again              */
    uint8_t broken;     /* the last record's continuation is missing: it reads
                           DT_STORE_ERR_CORRUPT                                    */
} dt_store_page_t;

typedef struct {
    const dt_flash_t *flash;
    dt_store_full_policy_t policy;
    uint32_t next_seq;
    uint32_t next_id;
    uint32_t total;                          /* records in the log                */
    uint32_t live;                           /* entries used in order[]           */
    uint32_t ready;                          /* 1 once recovery succeeded; 0 after a
                                                failed recovery: every call then
                                                returns DT_STORE_ERR_IO until reopened */
    uint8_t order[DT_STORE_MAX_PAGES];       /* live pages, oldest first          */
    dt_store_page_t pages[DT_STORE_MAX_PAGES];
} dt_store_t;

/* Recover the store from flash (writes nothing). flash must outlive the store, have
 * 2 <= page_count <= DT_STORE_MAX_PAGES and 64 <= page_size <= 65536, page_size % 4 == 0.
 * Blank flash is an empty store. Returns DT_STORE_ERR_VERSION if the flash holds another
 * format version (nothing is erased then). */
int dt_store_open(dt_store_t *store, const dt_flash_t *flash, dt_store_full_policy_t policy);

/* Append one sample: len bytes at data (data may be NULL if len == 0), class and drips
 * from meta (meta->id and meta->length are ignored). On DT_STORE_OK the sample is
 * committed to flash and survives any later power cut, and *id (if id != NULL) is its id.
 * DT_STORE_ERR_TOO_BIG: len > dt_store_max_sample(). DT_STORE_ERR_FULL: policy STOP and
 * no room; nothing was written. DT_STORE_ERR_IO: the flash failed; the sample may or may
 * not be there after reboot, never torn; the RAM state is re-read from flash, and if that
 * fails as well the store refuses every call (DT_STORE_ERR_IO) until dt_store_open. */
int dt_store_append(dt_store_t *store, const dt_sample_meta_t *meta, const void *data,
                    uint32_t len, uint32_t *id);

/* Queries on a store that is not ready (see dt_store_t.ready) return 0. */

/* Samples in the store, including ones whose CRC no longer matches (reading those
 * returns DT_STORE_ERR_CORRUPT). */
uint32_t dt_store_count(const dt_store_t *store);

/* Read the sample at index (0 = oldest) or with the given id. meta (may be NULL) gets
 * its metadata; up to buf_len bytes of payload go to buf; *out_len (may be NULL) gets the
 * payload length. The CRC is checked on every read.
 * DT_STORE_ERR_NOT_FOUND: no such index/id. DT_STORE_ERR_TOO_BIG: buf_len < length
 * (*out_len is still set, buf untouched). DT_STORE_ERR_CORRUPT: CRC mismatch; buf is
 * cleared to zeros over the payload length and meta is not filled. */
int dt_store_read(const dt_store_t *store, uint32_t index, dt_sample_meta_t *meta,
                  void *buf, uint32_t buf_len, uint32_t *out_len);
int dt_store_read_id(const dt_store_t *store, uint32_t id, dt_sample_meta_t *meta,
                     void *buf, uint32_t buf_len, uint32_t *out_len);

/* Drop every sample (docs/storage-format.md section 5). Ids keep increasing afterwards.
 * A power cut in the middle leaves a suffix of the log. */
int dt_store_erase_all(dt_store_t *store);

/* Largest payload one append accepts: min((page_count - 1) * (page_size - 28) - 24, 65535).
 * A record may span pages; it always fits in page_count - 1 of them. */
uint32_t dt_store_max_sample(const dt_store_t *store);

/* Payload-plus-record-header bytes that can be appended before the store is full (before
 * STOP refuses or OVERWRITE drops samples): room left in the newest page plus every free
 * page's page_size - 28. A record of n bytes needs 24 + round_up(n, 4), and its 24-byte
 * header must fit on the page it starts on. */
uint32_t dt_store_free_bytes(const dt_store_t *store);

/* Bytes for records in an empty store: page_count * (page_size - 28). */
uint32_t dt_store_capacity_bytes(const dt_store_t *store);

/* The id the next append will get. */
uint32_t dt_store_next_id(const dt_store_t *store);

/* CRC-32 (reflected, poly 0xEDB88320, init and xorout 0xFFFFFFFF). Pass crc = 0 to start;
 * feed the result back to continue over more data. */
uint32_t dt_store_crc32(uint32_t crc, const void *data, uint32_t len);

#endif /* DT_STORE_H */
