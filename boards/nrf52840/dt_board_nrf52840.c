/*
 * dt_board.h for the nRF52840 DK: identity, cycle counter (DWT->CYCCNT at 64 MHz), idle
 * (WFI) and reset. The serial port is uarte.c, the flash nvmc_flash.c.
 */
#include <stdint.h>

#include "dt_board.h"
#include "nrf52840.h"
#include "nrf52840_board.h"

void dt_nrf_flash_init(void); /* nvmc_flash.c */

void dt_board_init(void)
{
    CORE_DEMCR |= DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_KEY;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    dt_nrf_flash_init();
    dt_nrf_uarte_init();
}

const char *dt_board_name(void)
{
    return "nrf52840";
}

uint32_t dt_board_clock_hz(void)
{
    return DT_NRF_CLOCK_HZ;
}

/* Interrupts masked between the check and the WFI: one that arrives in between stays
 * pending and WFI returns at once, so no wake-up is lost. */
void dt_board_wait_for_event(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
    if (!dt_nrf_uarte_rx_pending()) {
        __asm__ volatile("dsb\n\twfi" ::: "memory");
    }
    __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

uint32_t dt_board_cycles_begin(void)
{
    return DWT_CYCCNT;
}

uint32_t dt_board_cycles_end(uint32_t start)
{
    return DWT_CYCCNT - start; /* wraps at 2^32 (67 s at 64 MHz) */
}

void dt_board_reset(void)
{
    dt_nrf_uarte_flush();
    __asm__ volatile("cpsid i" ::: "memory");
    dt_system_reset();
}
