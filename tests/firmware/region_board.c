/*
 * A test board for firmware/app: dt_board.h over memory, to check what the application
 * asks of a board. The whole serial input is read from stdin at init, replies go to
 * stdout, the flash is the simulator in RAM. Cycle regions are counted and checked
 * (never nested, never ended unopened); when the input runs out the board prints
 * "regions N boots B" on stderr and exits 0 (1 if a region was misused).
 */
#include <stdio.h>
#include <stdlib.h>

#include "dt_board.h"
#include "dt_flash_sim.h"

static uint8_t input[1 << 20];
static size_t input_len, input_pos;
static uint8_t store_mem[8 * 1024], settings_mem[2 * 1024];
static dt_flash_sim_t store_sim, settings_sim;
static unsigned regions, boots, misuse;
static int open_region;

void dt_board_init(void)
{
    input_len = fread(input, 1, sizeof(input), stdin);
    dt_flash_sim_init(&store_sim, store_mem, 1024, 8);
    dt_flash_sim_init(&settings_sim, settings_mem, 1024, 2);
    boots = 1;
}

const char *dt_board_name(void) { return "region-test"; }
uint32_t dt_board_clock_hz(void) { return 0; }
uint32_t dt_board_serial_overruns(void) { return 0; }

int dt_board_serial_getc(void)
{
    return input_pos < input_len ? input[input_pos++] : -1;
}

void dt_board_serial_write(const void *data, uint32_t len)
{
    fwrite(data, 1, len, stdout);
}

void dt_board_wait_for_event(void)
{
    if (input_pos >= input_len) {
        fflush(stdout);
        fprintf(stderr, "regions %u boots %u\n", regions, boots);
        exit(misuse ? 1 : 0);
    }
}

uint32_t dt_board_cycles_begin(void)
{
    misuse += open_region;
    open_region = 1;
    return 0;
}

uint32_t dt_board_cycles_end(uint32_t start)
{
    (void)start;
    misuse += !open_region;
    open_region = 0;
    regions++;
    return DT_BOARD_CYCLES_EXTERNAL;
}

const dt_flash_t *dt_board_store_flash(void) { return &store_sim.flash; }
const dt_flash_t *dt_board_settings_flash(void) { return &settings_sim.flash; }

void dt_board_reset(void)
{
    fflush(stdout);
    boots++;
}
