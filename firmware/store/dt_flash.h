/*
 * The flash driver contract a board implements for the sample store
 * (docs/storage-format.md, section 1).
 *
 * The driver covers only the region reserved for the store: offsets are bytes from its
 * start, page p spans [p * page_size, (p + 1) * page_size).
 *
 * NOR rules every driver enforces (a driver refuses, and returns DT_STORE_ERR_NOR, for a
 * violation instead of silently corrupting data):
 *   - erase_page sets every byte of one page to 0xFF;
 *   - program_words writes whole 32-bit words at word-aligned offsets, and only into
 *     words that are erased (0xFFFFFFFF): a word is programmed at most once per erase.
 *
 * Boards: nRF52840 (NVMC, 4096-byte pages), mps2-an386 under QEMU (a RAM region with
 * these rules enforced in software), and the host (dt_flash_sim.h, file-backed).
 */
#ifndef DT_FLASH_H
#define DT_FLASH_H

#include <stdint.h>

/* The one error enum of the store and its flash layer: negative, 0 is success. */
typedef enum {
    DT_STORE_OK = 0,
    DT_STORE_ERR_ARG = -1,      /* bad argument (NULL, misaligned, out of range)        */
    DT_STORE_ERR_IO = -2,       /* the flash failed (or power is gone, in the simulator) */
    DT_STORE_ERR_CORRUPT = -3,  /* a record's CRC does not match: data not returned      */
    DT_STORE_ERR_FULL = -4,     /* DT_STORE_FULL_STOP and no free page                   */
    DT_STORE_ERR_NOT_FOUND = -5,/* no record with this index or id                       */
    DT_STORE_ERR_TOO_BIG = -6,  /* payload larger than dt_store_max_sample(), or the
                                   caller's buffer is smaller than the payload           */
    DT_STORE_ERR_NOR = -7,      /* driver refused a program that breaks the NOR rules    */
    DT_STORE_ERR_VERSION = -8   /* flash holds a store of another format version         */
} dt_store_status_t;

typedef struct dt_flash dt_flash_t;

struct dt_flash {
    uint32_t page_size;   /* bytes, multiple of 4 (nRF52840: 4096)                */
    uint32_t page_count;  /* pages in the region                                   */
    uint32_t base;        /* absolute address of the region; informational only    */
    void *ctx;            /* the driver's own state                                */

    /* Copy len bytes at offset off into dst. Any alignment. Returns DT_STORE_OK or
     * DT_STORE_ERR_IO / DT_STORE_ERR_ARG (range). */
    int (*read)(const dt_flash_t *flash, uint32_t off, void *dst, uint32_t len);

    /* Program nwords words from src at offset off (off % 4 == 0). Every target word
     * must be erased; otherwise nothing is written and DT_STORE_ERR_NOR is returned.
     * Words are programmed in address order; a power cut may leave a prefix done and
     * the next word half-written. */
    int (*program_words)(const dt_flash_t *flash, uint32_t off, const uint32_t *src,
                         uint32_t nwords);

    /* Erase one page (all bytes 0xFF). */
    int (*erase_page)(const dt_flash_t *flash, uint32_t page);
};

#endif /* DT_FLASH_H */
