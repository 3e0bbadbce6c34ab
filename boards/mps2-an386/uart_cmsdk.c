/*
 * CMSDK APB UART0 of the mps2-an386 (0x40004000) as QEMU models it: a one-byte receive
 * buffer and a one-byte transmit buffer, no FIFO. Receive is interrupt-driven (IRQ 0) into
 * a ring; transmit is blocking.
 *
 * No byte is ever dropped: when the ring is full the receive interrupt is switched off and
 * the byte stays in the UART, which then accepts nothing more (QEMU stops reading the TCP
 * socket, the host's writes wait). dt_board_serial_getc makes room and takes it. So
 * dt_board_serial_overruns counts only the UART's own overrun flag, looked at then;
 * QEMU never sets it.
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
static volatile uint8_t rx_masked; /* set by the interrupt when the ring was full */

static uint32_t ring_used(void)
{
    return ring_head - ring_tail;
}

/* Inlined so the receive handler stays self-contained (see below). */
static inline __attribute__((always_inline)) void ring_put(uint8_t byte)
{
    ring[ring_head % RING_BYTES] = byte;
    ring_head++;
}

/* The receive interrupt, one byte per call with two device accesses. Each access costs
 * QEMU a trip through the lock it shares with the thread that delivers the bytes, and
 * that thread cannot deliver the next byte before the guest has read this one: reading
 * DATA tells QEMU's main loop the buffer is free, it reads the socket and raises the
 * interrupt again, while the CPU computes as well as while it sleeps. So the handler
 * trusts that it runs only with a byte waiting: only a received byte sets INTSTATUS.RX
 * (and only while the interrupt is enabled), and the handler clears it before taking the
 * byte. With the ring full it leaves the byte in the UART (which then takes nothing
 * more) and masks the interrupt; dt_board_serial_getc takes the byte once there is room.
 * Self-contained (nothing called): QEMU's instruction counter leaves it out of the cycle
 * counts (board.json "uncounted"), since it runs whenever bytes arrive. */
void UART0RX_Handler(void); /* its vector is in startup.c */

void UART0RX_Handler(void)
{
    UART_INTSTATUS = INT_RX; /* clear first: the next byte comes only after DATA is read */
    if (ring_used() >= RING_BYTES) {
        UART_CTRL = CTRL_TX_EN | CTRL_RX_EN; /* receive interrupt off */
        rx_masked = 1;
        return;
    }
    ring_put((uint8_t)UART_DATA);
}

void dt_mps2_uart_init(void)
{
    UART_CTRL = 0;
    UART_BAUDDIV = SYSCLK_HZ / BAUD;
    UART_STATE = STATE_RX_OVERRUN;
    UART_INTSTATUS = 0xFu;
    ring_head = ring_tail = 0;
    overruns = 0;
    rx_masked = 0;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ICPR0 = 1u << UART0_RX_IRQ;
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

int dt_mps2_uart_rx_pending(void)
{
    return ring_used() != 0 || rx_masked;
}

int dt_board_serial_getc(void)
{
    uint8_t byte;
    if (ring_used() == 0) {
        return -1;
    }
    byte = ring[ring_tail % RING_BYTES];
    ring_tail++;
    if (rx_masked) {
        /* The ring was full: listen again and take the byte waiting in the UART here.
         * Any interrupt pending now would find no byte once this one is taken, so it is
         * cleared (no new byte can come before DATA is read); the handler relies on it. */
        uint32_t state;
        __asm__ volatile("cpsid i" ::: "memory");
        rx_masked = 0;
        UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
        UART_INTSTATUS = INT_RX;
        NVIC_ICPR0 = 1u << UART0_RX_IRQ;
        state = UART_STATE;
        if (state & STATE_RX_OVERRUN) { /* QEMU never sets it; real CMSDK UARTs might */
            UART_STATE = STATE_RX_OVERRUN;
            overruns++;
        }
        if (state & STATE_RX_FULL) {
            ring_put((uint8_t)UART_DATA);
        }
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
