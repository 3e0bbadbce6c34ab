/*
 * dt_board.h for the mps2-an386 under QEMU: identity, idle, reset and the instruction-count
 * markers. The serial port is uart_cmsdk.c, the flash flash_ram.c.
 */
#include <stdint.h>

#include "dt_board.h"
#include "mps2_board.h"

#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_VECTKEY (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)

void dt_board_init(void)
{
    dt_mps2_flash_init();
    dt_mps2_uart_init();
}

const char *dt_board_name(void)
{
    return "mps2-an386";
}

uint32_t dt_board_clock_hz(void)
{
    return 0; /* QEMU runs instructions, not a clock */
}

/* Sleep with interrupts masked between the check and the WFI: an interrupt that arrives
 * in between stays pending and makes WFI return at once, so no wake-up is lost. */
void dt_board_wait_for_event(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
    if (!dt_mps2_uart_rx_pending()) {
        __asm__ volatile("dsb\n\twfi" ::: "memory");
    }
    __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

/* Out of line and opaque to the optimizer (noipa), different bodies (so identical-code
 * folding cannot merge them), with a memory clobber so no store crosses a marker. */
__attribute__((noinline, noipa)) void dt_cycles_region_begin(void)
{
    __asm__ volatile("@ dt_cycles_region_begin" ::: "memory");
}

__attribute__((noinline, noipa)) void dt_cycles_region_end(void)
{
    __asm__ volatile("@ dt_cycles_region_end\n\tnop" ::: "memory");
}

uint32_t dt_board_cycles_begin(void)
{
    dt_cycles_region_begin();
    return 0;
}

uint32_t dt_board_cycles_end(uint32_t start)
{
    (void)start;
    dt_cycles_region_end();
    return DT_BOARD_CYCLES_EXTERNAL;
}

/* QEMU honours SYSRESETREQ with a machine reset: the ELF's segments are copied again, the
 * rest of RAM (the store, the settings, .noinit) is kept, the TCP serial link stays open. */
void dt_board_reset(void)
{
    dt_mps2_uart_flush();
    __asm__ volatile("cpsid i\n\tdsb" ::: "memory");
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
        __asm__ volatile("wfi");
    }
}
