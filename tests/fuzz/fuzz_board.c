/*
 * A dt_board.h for the command-handler fuzz target: serial output is counted and
 * dropped, both flash regions are dt_flash_sim over static RAM (small pages, so the store
 * fills and wraps within one input), cycles are a counter.
 */
#include <stdint.h>
#include <string.h>

#include "dt_board.h"
#include "dt_flash_sim.h"
#include "fuzz_board.h"

#define PAGE_BYTES 256u
#define STORE_PAGES 4u
#define SETTINGS_PAGES 2u

static uint8_t store_mem[PAGE_BYTES * STORE_PAGES];
static uint8_t settings_mem[PAGE_BYTES * SETTINGS_PAGES];
static dt_flash_sim_t store_sim, settings_sim;
static uint32_t cycles;

uint32_t fuzz_board_out_bytes;

void fuzz_board_power_on(void)
{
    dt_flash_sim_init(&store_sim, store_mem, PAGE_BYTES, STORE_PAGES);
    dt_flash_sim_init(&settings_sim, settings_mem, PAGE_BYTES, SETTINGS_PAGES);
    fuzz_board_out_bytes = 0;
}

uint32_t fuzz_board_flash_violations(void)
{
    return store_sim.violations + settings_sim.violations;
}

void dt_board_init(void) {}
const char *dt_board_name(void) { return "fuzz"; }
uint32_t dt_board_clock_hz(void) { return 0; }
int dt_board_serial_getc(void) { return -1; }
uint32_t dt_board_serial_overruns(void) { return 0; }
void dt_board_wait_for_event(void) {}
uint32_t dt_board_cycles_begin(void) { return cycles; }
uint32_t dt_board_cycles_end(uint32_t start) { return ++cycles - start; }
const dt_flash_t *dt_board_store_flash(void) { return &store_sim.flash; }
const dt_flash_t *dt_board_settings_flash(void) { return &settings_sim.flash; }
void dt_board_reset(void) {}

void dt_board_serial_write(const void *data, uint32_t len)
{
    /* Touch every byte so ASan checks the reply buffer is all initialized and in bounds. */
    const volatile uint8_t *p = (const volatile uint8_t *)data;
    uint32_t i;
    for (i = 0; i < len; i++) {
        (void)p[i];
    }
    fuzz_board_out_bytes += len;
}
