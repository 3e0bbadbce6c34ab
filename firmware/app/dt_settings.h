/*
 * Persisted settings: the DRIP thresholds in use, replaceable at run time
 * (SET_THRESHOLDS / RESET_THRESHOLDS) and kept across resets and power cuts in the
 * board's settings flash (dt_board_settings_flash(), at least two pages).
 *
 * On-flash format: docs/storage-format.md, "Settings pages". One record per page; a write
 * goes to the page after the newest record, so the newest valid record is never touched
 * and a power cut at any moment leaves either the old or the new thresholds.
 * Anything unreadable, or written for another model, falls back to the compiled-in
 * DRIP_DEFAULT_THRESHOLDS.
 */
#ifndef DT_SETTINGS_H
#define DT_SETTINGS_H

#include <stdint.h>

#include "drips_kernel.h"
#include "dt_flash.h"

/* Bytes of one class in the wire and flash record: lower f32, upper f32, has_window u8. */
#define DT_THRESHOLDS_CLASS_BYTES 9u
#define DT_THRESHOLDS_RECORD_BYTES (DT_THRESHOLDS_CLASS_BYTES * (uint32_t)DRIP_NUM_CLASSES)

#define DT_SETTINGS_MAGIC 0x31535444u /* "DTS1" in memory */
#define DT_SETTINGS_KIND_DEFAULTS 0u
#define DT_SETTINGS_KIND_CUSTOM 1u

typedef struct {
    const dt_flash_t *flash;
    drip_thresholds_t thresholds; /* in use */
    uint32_t hash;                /* CRC-32 of the thresholds record in use */
    uint32_t seq;                 /* of the newest valid record; 0: none */
    int32_t page;                 /* of the newest valid record; -1: none */
    uint8_t custom;               /* 1: from SET_THRESHOLDS; 0: the compiled-in ones */
} dt_settings_t;

/* Read the settings pages (writes nothing) and take the newest valid record made for
 * this model, or the defaults. Never fails. */
void dt_settings_open(dt_settings_t *s, const dt_flash_t *flash);

/* Persist and use t (already checked with dt_thresholds_from_wire). Returns DT_STORE_OK
 * or a dt_store_status_t error; on error the thresholds in use are unchanged. */
int dt_settings_set(dt_settings_t *s, const drip_thresholds_t *t);

/* Persist "use the compiled-in defaults" and use them. */
int dt_settings_reset(dt_settings_t *s);

/* The wire/flash record of docs/protocol.md SET_THRESHOLDS (DT_THRESHOLDS_RECORD_BYTES). */
void dt_thresholds_to_wire(const drip_thresholds_t *t, uint8_t *out);

/* Parse and check a record: returns NULL when valid (then *out is filled), else why not
 * (NaN or infinite bound, has_window not 0 or 1, lower > upper). */
const char *dt_thresholds_from_wire(const uint8_t *record, drip_thresholds_t *out);

/* CRC-32 of t's record: DRIP_THRESHOLDS_HASH for the defaults. */
uint32_t dt_thresholds_hash(const drip_thresholds_t *t);

#endif /* DT_SETTINGS_H */
