/*
 * The mps2-an386's "flash": two ranges at the top of RAM that link.ld reserves outside
 * every loadable segment (the store and the settings pages), driven by the NOR flash
 * simulator (firmware/store/dt_flash_sim.c, built with -DDT_FLASH_SIM_NO_FILES), which
 * enforces dt_flash.h's rules: erase sets 0xFF, a word is programmed only when erased.
 *
 * QEMU zeroes RAM when it starts and keeps it across a system reset (it reloads only the
 * ELF's loadable segments). The simulators' state sits in .noinit next to the ranges, with
 * a magic word: absent (RAM is zero: QEMU just started), both ranges are erased, as fresh
 * flash is; present (a warm reset), the contents and the state are kept.
 */
#include <stdint.h>

#include "dt_board.h"
#include "dt_flash_sim.h"
#include "mps2_board.h"

#define PAGE_BYTES 4096u
#define NVRAM_MAGIC 0x4E56524Du /* "NVRM" */

/* From link.ld. */
extern uint8_t __dt_store_start[], __dt_store_end[];
extern uint8_t __dt_settings_start[], __dt_settings_end[];

typedef struct {
    uint32_t magic;
    dt_flash_sim_t store;
    dt_flash_sim_t settings;
} nvram_state_t;

static nvram_state_t nvram __attribute__((section(".noinit")));

static uint32_t pages(const uint8_t *start, const uint8_t *end)
{
    return (uint32_t)(end - start) / PAGE_BYTES;
}

/* A warm reset keeps the state only if it describes this image's ranges. */
static int still_valid(const dt_flash_sim_t *sim, uint8_t *start, uint8_t *end)
{
    return sim->mem == start && sim->flash.ctx == sim && sim->flash.page_size == PAGE_BYTES &&
           sim->flash.page_count == pages(start, end) && sim->flash.read != 0 &&
           sim->flash.program_words != 0 && sim->flash.erase_page != 0;
}

static void attach(dt_flash_sim_t *sim, uint8_t *start, uint8_t *end)
{
    dt_flash_sim_init(sim, start, PAGE_BYTES, pages(start, end)); /* erases to 0xFF */
    sim->flash.base = (uint32_t)(uintptr_t)start;
}

void dt_mps2_flash_init(void)
{
    if (nvram.magic == NVRAM_MAGIC &&
        still_valid(&nvram.store, __dt_store_start, __dt_store_end) &&
        still_valid(&nvram.settings, __dt_settings_start, __dt_settings_end)) {
        dt_flash_sim_power_on(&nvram.store);
        dt_flash_sim_power_on(&nvram.settings);
        return;
    }
    nvram.magic = 0;
    attach(&nvram.store, __dt_store_start, __dt_store_end);
    attach(&nvram.settings, __dt_settings_start, __dt_settings_end);
    nvram.magic = NVRAM_MAGIC;
}

const dt_flash_t *dt_board_store_flash(void)
{
    return &nvram.store.flash;
}

const dt_flash_t *dt_board_settings_flash(void)
{
    return &nvram.settings.flash;
}
