/*
 * dt_flash.h on the nRF52840's own flash through the NVMC: 4096-byte pages, 32-bit word
 * writes. Two regions, the sample store and the settings pages, placed by link.ld.
 *
 * The NOR rules are checked before anything is written: a program call with any target
 * word not erased (0xFFFFFFFF) is refused whole (DT_STORE_ERR_NOR). Each word is written
 * once per erase (the nRF52840 allows two writes per word between erases; this driver
 * never uses the second). Writes and erases stall the CPU while it fetches from flash
 * (a page erase takes up to 85 ms); reads are plain memory reads.
 */
#include <stdint.h>
#include <string.h>

#include "dt_board.h"
#include "nrf52840.h"

#ifndef DT_NVMC_PAGE_BYTES
#define DT_NVMC_PAGE_BYTES 4096u /* the nRF51's NVMC, same registers, has 1024 (tests) */
#endif
#define PAGE_BYTES DT_NVMC_PAGE_BYTES

/* From link.ld. */
extern uint8_t __dt_store_start[], __dt_store_end[];
extern uint8_t __dt_settings_start[], __dt_settings_end[];

static uint32_t region_bytes(const dt_flash_t *f)
{
    return f->page_size * f->page_count;
}

static void wait_ready(void)
{
    while (NVMC_READY == 0) {
    }
}

static void nvmc_mode(uint32_t mode)
{
    wait_ready();
    NVMC_CONFIG = mode;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

static int nvmc_read(const dt_flash_t *f, uint32_t off, void *dst, uint32_t len)
{
    if (dst == NULL || off > region_bytes(f) || len > region_bytes(f) - off) {
        return DT_STORE_ERR_ARG;
    }
    memcpy(dst, (const void *)(uintptr_t)(f->base + off), len);
    return DT_STORE_OK;
}

static int nvmc_program(const dt_flash_t *f, uint32_t off, const uint32_t *src,
                        uint32_t nwords)
{
    volatile uint32_t *words = (volatile uint32_t *)(uintptr_t)(f->base + off);
    uint32_t i;
    int status = DT_STORE_OK;
    if (src == NULL || (off & 3u) != 0 || off > region_bytes(f) ||
        nwords > (region_bytes(f) - off) / 4u) {
        return DT_STORE_ERR_ARG;
    }
    for (i = 0; i < nwords; i++) {
        if (words[i] != 0xFFFFFFFFu) {
            return DT_STORE_ERR_NOR;
        }
    }
    nvmc_mode(NVMC_CONFIG_WEN);
    for (i = 0; i < nwords; i++) {
        words[i] = src[i];
        wait_ready();
    }
    nvmc_mode(NVMC_CONFIG_REN);
    for (i = 0; i < nwords; i++) {
        if (words[i] != src[i]) {
            status = DT_STORE_ERR_IO; /* a worn or failing cell */
        }
    }
    return status;
}

static int nvmc_erase(const dt_flash_t *f, uint32_t page)
{
    const uint32_t *words;
    if (page >= f->page_count) {
        return DT_STORE_ERR_ARG;
    }
    nvmc_mode(NVMC_CONFIG_EEN);
    NVMC_ERASEPAGE = f->base + page * f->page_size;
    wait_ready();
    nvmc_mode(NVMC_CONFIG_REN);
    words = (const uint32_t *)(uintptr_t)(f->base + page * f->page_size);
    for (uint32_t i = 0; i < f->page_size / 4u; i++) {
        if (words[i] != 0xFFFFFFFFu) {
            return DT_STORE_ERR_IO;
        }
    }
    return DT_STORE_OK;
}

static dt_flash_t store_flash, settings_flash;

static void describe(dt_flash_t *f, const uint8_t *start, const uint8_t *end)
{
    f->page_size = PAGE_BYTES;
    f->page_count = (uint32_t)(end - start) / PAGE_BYTES;
    f->base = (uint32_t)(uintptr_t)start;
    f->ctx = NULL;
    f->read = nvmc_read;
    f->program_words = nvmc_program;
    f->erase_page = nvmc_erase;
}

void dt_nrf_flash_init(void);

void dt_nrf_flash_init(void)
{
    describe(&store_flash, __dt_store_start, __dt_store_end);
    describe(&settings_flash, __dt_settings_start, __dt_settings_end);
    nvmc_mode(NVMC_CONFIG_REN);
}

const dt_flash_t *dt_board_store_flash(void)
{
    return &store_flash;
}

const dt_flash_t *dt_board_settings_flash(void)
{
    return &settings_flash;
}
