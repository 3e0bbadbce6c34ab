/*
 * Reset and vectors of the nRF52840 (Cortex-M4F), no SoftDevice, no bootloader: the vector
 * table is at 0x00000000.
 *
 * Reset: enable the FPU (CP10, CP11: the code is built with -mfloat-abi=hard), copy .data,
 * zero .bss, start the external 32 MHz crystal (HFXO: the UARTE's baud clock comes from
 * HFCLK, and the internal RC oscillator is too inaccurate for 1 Mbaud), run static
 * constructors, call main. If main returns, the chip resets.
 *
 * Every exception or interrupt without a driver stops at a breakpoint when a debugger is
 * attached and resets the chip otherwise, so a fault in the field ends in a clean reboot
 * rather than a hang. The Nordic errata workarounds of the vendor's SystemInit are not
 * applied: none concerns the UARTE, NVMC or DWT used here.
 */
#include <stddef.h>
#include <stdint.h>

#include "nrf52840.h"

int main(void);

/* From link.ld. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[];
extern char __heap_start[], __heap_limit[];
extern void (*__preinit_array_start[])(void), (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

/* About 1 ms at 64 MHz is plenty for the crystal (typically 0.36 ms); on timeout the
 * chip runs on the RC oscillator rather than hang. */
#define HFXO_START_SPINS 200000u

void dt_reset_handler(void) __attribute__((noreturn));
void dt_unhandled_handler(void);
void dt_system_reset(void) __attribute__((noreturn));

void dt_system_reset(void)
{
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}

static void start_hfxo(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    for (uint32_t i = 0; i < HFXO_START_SPINS && CLOCK_EVENTS_HFCLKSTARTED == 0; i++) {
    }
}

void dt_reset_handler(void)
{
    SCB_CPACR |= CPACR_CP10_CP11_FULL;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss;) {
        *dst++ = 0;
    }
    start_hfxo();
    for (void (**f)(void) = __preinit_array_start; f < __preinit_array_end; f++) {
        (*f)();
    }
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
    (void)main();
    dt_system_reset();
}

void dt_unhandled_handler(void)
{
    if (CORE_DHCSR & DHCSR_C_DEBUGEN) {
        __asm__ volatile("bkpt #0");
    }
    dt_system_reset();
}

/* Weak, so a driver (uarte.c) or the application can take over any of them. */
void NMI_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void HardFault_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void MemManage_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void BusFault_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void SVC_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void PendSV_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void SysTick_Handler(void) __attribute__((weak, alias("dt_unhandled_handler")));
void UARTE0_UART0_IRQHandler(void) __attribute__((weak, alias("dt_unhandled_handler")));

typedef void (*dt_vector_t)(void);

#define DT_DEVICE_IRQS 48 /* nRF52840: peripheral interrupts 0..47 */
#define U dt_unhandled_handler

__attribute__((section(".isr_vector"), used))
const dt_vector_t dt_vectors[16 + DT_DEVICE_IRQS] = {
    (dt_vector_t)(uintptr_t)_estack,
    dt_reset_handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    /* 0 POWER_CLOCK, 1 RADIO, 2 UARTE0_UART0, 3..47 other peripherals (PS: Instantiation) */
    U, U, UARTE0_UART0_IRQHandler, U, U, U, U, U,  /*  0..7  */
    U, U, U, U, U, U, U, U,                        /*  8..15 */
    U, U, U, U, U, U, U, U,                        /* 16..23 */
    U, U, U, U, U, U, U, U,                        /* 24..31 */
    U, U, U, U, U, U, U, U,                        /* 32..39 */
    U, U, U, U, U, U, U, U,                        /* 40..47 */
};

#undef U

/* ---- what newlib-nano needs for malloc and exit ---- */

void *_sbrk(ptrdiff_t increment);
void _exit(int status) __attribute__((noreturn));

void *_sbrk(ptrdiff_t increment)
{
    static char *brk = __heap_start;
    if (increment > __heap_limit - brk || increment < __heap_start - brk) {
        return (void *)-1;
    }
    char *previous = brk;
    brk += increment;
    return previous;
}

void _exit(int status)
{
    (void)status;
    dt_system_reset();
}
