/*
 * Reset and exception entry for the emulated mps2-an386 (Cortex-M4F).
 *
 * Reset: copy .data from its load address, zero .bss, enable the FPU (CP10 and CP11 in
 * CPACR: the code is built with -mfloat-abi=hard, so the first float instruction would
 * fault otherwise), run static constructors, call main, then end the emulation through
 * semihosting with main's return value as QEMU's exit status.
 *
 * A fault ends the emulation with status 128 + exception number (HardFault: 131), so a
 * crash is never mistaken for a hang or a success; so does an interrupt nobody handles
 * (status 128 + 16 + IRQ number).
 *
 * The vector table has the 16 system exceptions and the AN386's 32 device interrupts
 * (QEMU hw/arm/mps2.c: UART0 receive is IRQ 0, transmit IRQ 1, the UARTs' overflows IRQ 12).
 * The UART0 ones are weak names a driver overrides (uart_cmsdk.c); the benchmarks enable no
 * interrupt, so for them the table is only 128 bytes more of image.
 */
#include <stddef.h>
#include <stdint.h>

#include "semihosting.h"

int main(void);

/* From link.ld. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[];
extern char __heap_start[], __heap_limit[];
extern void (*__preinit_array_start[])(void), (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

#define CPACR (*(volatile uint32_t *)0xE000ED88u)
#define CPACR_CP10_CP11_FULL (0xFu << 20)
#define DT_EXIT_FAULT_BASE 128

void dt_reset_handler(void) __attribute__((noreturn));
void dt_fault_handler(void);

void dt_reset_handler(void)
{
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss;) {
        *dst++ = 0;
    }
    CPACR |= CPACR_CP10_CP11_FULL;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (void (**f)(void) = __preinit_array_start; f < __preinit_array_end; f++) {
        (*f)();
    }
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
    dt_semihost_exit(main());
}

void dt_fault_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    dt_semihost_exit(DT_EXIT_FAULT_BASE + (int)(ipsr & 0x1FFu));
}

/* Weak, so a board driver or the firmware can take over any of them. */
void NMI_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void HardFault_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void MemManage_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void BusFault_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void SVC_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void PendSV_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void SysTick_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void UART0RX_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void UART0TX_Handler(void) __attribute__((weak, alias("dt_fault_handler")));
void UARTOVF_Handler(void) __attribute__((weak, alias("dt_fault_handler")));

#define DT_DEVICE_IRQS 32
#define DT_UNUSED dt_fault_handler

typedef void (*dt_vector_t)(void);

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
    /* device interrupts 0..31 */
    UART0RX_Handler, UART0TX_Handler, DT_UNUSED, DT_UNUSED,          /*  0..3  */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /*  4..7  */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /*  8..11 */
    UARTOVF_Handler, DT_UNUSED, DT_UNUSED, DT_UNUSED,                /* 12..15 */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /* 16..19 */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /* 20..23 */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /* 24..27 */
    DT_UNUSED, DT_UNUSED, DT_UNUSED, DT_UNUSED,                      /* 28..31 */
};

/* ---- the two system calls newlib-nano needs for malloc and exit ---- */

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
    dt_semihost_exit(status);
}
