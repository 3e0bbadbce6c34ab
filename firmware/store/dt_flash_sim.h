/*
 * An in-RAM NOR flash simulator implementing dt_flash_t, for the host build (with
 * load/save to a file: the host board's file-backed flash) and for tests.
 *
 * It enforces the rules of dt_flash.h: word alignment, range, and programming only
 * erased words (so only 1 -> 0 transitions); a refused call changes nothing and bumps
 * `violations`.
 *
 * Power cuts: every programmed word and every page erase is one operation, numbered
 * from 1 in `ops`. After dt_flash_sim_cut_at(sim, n, torn), operation n does not complete
 * and power is off: that operation and every later one return DT_STORE_ERR_IO and the
 * contents freeze. The `torn` argument says what the cut operation leaves behind:
 *   DT_FLASH_SIM_CLEAN     nothing (the word or page is unchanged);
 *   DT_FLASH_SIM_TORN_LOW  a word gets only the low 16 bits of its new value programmed
 *                          (old & (new | 0xFFFF0000)); an erase sets only the first half
 *                          of the page to 0xFF (the page header goes first);
 *   DT_FLASH_SIM_TORN_HIGH the high 16 bits (old & (new | 0x0000FFFF)); an erase sets only
 *                          the second half (the page header survives, records do not).
 */
#ifndef DT_FLASH_SIM_H
#define DT_FLASH_SIM_H

#include <stdint.h>

#include "dt_flash.h"

enum { DT_FLASH_SIM_CLEAN = 0, DT_FLASH_SIM_TORN_LOW = 1, DT_FLASH_SIM_TORN_HIGH = 2 };

typedef struct {
    dt_flash_t flash;      /* hand &sim->flash to dt_store_open                      */
    uint8_t *mem;          /* page_size * page_count bytes, owned by the caller       */
    uint32_t ops;          /* operations attempted so far (programmed words + erases) */
    uint32_t cut_at;       /* operation number that fails, 0 = never                  */
    int torn;              /* DT_FLASH_SIM_CLEAN / _TORN_LOW / _TORN_HIGH             */
    int powered_off;       /* set once the cut happened                               */
    uint32_t violations;   /* calls refused for breaking the NOR rules                */
} dt_flash_sim_t;

/* Attach mem (caller-owned, page_size * page_count bytes) and erase it all to 0xFF.
 * page_size must be a non-zero multiple of 4. */
int dt_flash_sim_init(dt_flash_sim_t *sim, uint8_t *mem, uint32_t page_size,
                      uint32_t page_count);

/* Arrange for operation number n (counted in sim->ops, 1-based, absolute) to be cut. */
void dt_flash_sim_cut_at(dt_flash_sim_t *sim, uint32_t n, int torn);

/* Power back on (a reboot): clears the cut, keeps the contents and the counter. */
void dt_flash_sim_power_on(dt_flash_sim_t *sim);

#ifndef DT_FLASH_SIM_NO_FILES
/* Replace the contents with a file of exactly page_size * page_count bytes, or write
 * them to one. Return DT_STORE_OK or DT_STORE_ERR_IO. Left out with
 * -DDT_FLASH_SIM_NO_FILES (boards without stdio, e.g. mps2-an386 under QEMU, where the
 * simulator over a RAM buffer is the board's flash). */
int dt_flash_sim_load(dt_flash_sim_t *sim, const char *path);
int dt_flash_sim_save(const dt_flash_sim_t *sim, const char *path);
#endif

#endif /* DT_FLASH_SIM_H */
