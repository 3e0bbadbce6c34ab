/*
 * CMSDK APB UART0 of the mps2-an386 (0x40004000) as QEMU models it: a one-byte receive
 * buffer and a one-byte transmit buffer, no FIFO. Receive is interrupt-driven (IRQ 0) into
 * a ring; transmit is blocking.
 *
 * No byte is ever dropped: when the ring is full the receive interrupt is switched off and
 * the byte stays in the UART, which then accepts nothing more (QEMU stops reading the TCP
 * socket, the host's writes wait). dt_board_serial_getc makes room and drains it again.
 * So dt_board_serial_overruns counts only the UART's own overrun flag, never set by QEMU.
 */
#include <stdint.h>

#include "dt_board.h"
#include "mps2_board.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_INTSTATUS (*(volatile uint32_t *)(UART0_BASE + 0x0Cu)) /* write 1 to clear */
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_RX_OVERRUN (1u << 3) /* write 1 to clear */
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INT_EN (1u << 3)
#define INT_RX (1u << 1)

/* NVIC: UART0 receive is device interrupt 0 (QEMU hw/arm/mps2.c, uartirq[] = {0, ...}). */
#define UART0_RX_IRQ 0u
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280u)

/* 25 MHz / 16: QEMU only requires BAUDDIV >= 16; the rate itself is not modelled. */
#define SYSCLK_HZ 25000000u
#define BAUD 115200u

#ifndef DT_UART_RING_BYTES
#define DT_UART_RING_BYTES 4096u /* a power of two; tests shrink it to fill it quickly */
#endif
#define RING_BYTES DT_UART_RING_BYTES

static volatile uint8_t ring[RING_BYTES];
static volatile uint32_t ring_head; /* written by the interrupt only */
static volatile uint32_t ring_tail; /* written by dt_board_serial_getc only */
static volatile uint32_t overruns;

static uint32_t ring_used(void)
{
    return ring_head - ring_tail;
}

/* Moves the byte in the UART, if any, into the ring; with the ring full, leaves it in the
 * UART and masks the receive interrupt. Called with the interrupt unable to preempt (from
 * the handler itself, or with PRIMASK set). Always inlined: the handler must be one
 * self-contained function, which QEMU's instruction counter leaves out of the cycle
 * counts (board.json "uncounted"), since it runs whenever bytes arrive.
 *
 * One byte per call, three device accesses: each costs QEMU a trip through the lock it
 * shares with the thread that delivers the bytes, and that thread cannot deliver the
 * next byte before the guest has read this one (reading DATA tells QEMU's main loop the
 * buffer is free; it then reads the socket and raises the interrupt again, which works
 * while the CPU computes as well as while it sleeps). The STATE read doubles as the
 * overrun check. */
static inline __attribute__((always_inline)) void drain_uart(void)
{
    uint32_t state;
    UART_INTSTATUS = INT_RX; /* clear first: a byte arriving later re-raises it */
    state = UART_STATE;
    if (state & STATE_RX_FULL) {
        if (ring_used() >= RING_BYTES) {
            UART_CTRL &= ~CTRL_RX_INT_EN;
            return;
        }
        ring[ring_head % RING_BYTES] = (uint8_t)UART_DATA;
        ring_head++;
    }
    if (state & STATE_RX_OVERRUN) {
        UART_STATE = STATE_RX_OVERRUN;
        overruns++;
    }
}

void UART0RX_Handler(void); /* its vector is in startup.c */

void UART0RX_Handler(void)
{
    drain_uart();
}

void dt_mps2_uart_init(void)
{
    UART_CTRL = 0;
    UART_BAUDDIV = SYSCLK_HZ / BAUD;
    UART_STATE = STATE_RX_OVERRUN;
    UART_INTSTATUS = 0xFu;
    ring_head = ring_tail = 0;
    overruns = 0;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ICPR0 = 1u << UART0_RX_IRQ;
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

int dt_mps2_uart_rx_pending(void)
{
    return ring_used() != 0 || (UART_STATE & STATE_RX_FULL) != 0;
}

int dt_board_serial_getc(void)
{
    uint8_t byte;
    if (ring_used() == 0) {
        return -1;
    }
    byte = ring[ring_tail % RING_BYTES];
    ring_tail++;
    if ((UART_CTRL & CTRL_RX_INT_EN) == 0) {
        /* The ring was full: take what waits in the UART and listen again. */
        __asm__ volatile("cpsid i" ::: "memory");
        UART_CTRL |= CTRL_RX_INT_EN;
        drain_uart();
        __asm__ volatile("cpsie i" ::: "memory");
    }
    return byte;
}

uint32_t dt_board_serial_overruns(void)
{
    return overruns;
}

void dt_board_serial_write(const void *data, uint32_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    for (uint32_t i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = bytes[i];
    }
}

void dt_mps2_uart_flush(void)
{
    while (UART_STATE & STATE_TX_FULL) {
    }
}
