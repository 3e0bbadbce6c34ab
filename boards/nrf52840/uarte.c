/*
 * UARTE0 of the nRF52840 at 1 Mbaud, 8N1, on the nRF52840 DK's virtual COM port pins
 * (TXD P0.06, RXD P0.08, RTS P0.05, CTS P0.07), with hardware flow control.
 *
 * Receive (boards/README.md explains the choice): one byte per EasyDMA transfer
 * (RXD.MAXCNT = 1) and no ENDRX->STARTRX shortcut. Each ENDRX interrupt moves the byte
 * into a 4 KB ring and starts the next transfer. Bytes that arrive before that restart
 * wait in the UARTE's own RX FIFO, and with flow control the UARTE deasserts RTS while
 * that FIFO is nearly full, so the sender (the interface MCU) pauses instead of losing
 * data: an interrupt held off by a long flash erase (the CPU stalls up to 85 ms) or a
 * full ring costs time, never bytes. When the ring is full the restart is left to
 * dt_board_serial_getc, which is exactly flow control from the ring to the host.
 * dt_board_serial_overruns counts the UARTE's OVERRUN errors (only possible if the
 * sender ignores RTS).
 *
 * Transmit: blocking, through a RAM buffer (EasyDMA reads RAM only, so data in flash is
 * copied first), chunk by chunk; a time limit per chunk keeps a sender held forever by
 * CTS (no host on the port) from hanging the firmware: the rest is then dropped.
 */
#include <stdint.h>
#include <string.h>

#include "dt_board.h"
#include "nrf52840.h"
#include "nrf52840_board.h"

#define PIN_TXD 6u
#define PIN_RXD 8u
#define PIN_RTS 5u
#define PIN_CTS 7u

#define RING_BYTES 4096u /* a power of two */
#define TX_CHUNK 64u
/* A 64-byte chunk takes 0.64 ms at 1 Mbaud; allow 100 ms for CTS pauses. */
#define TX_CHUNK_CYCLES (DT_NRF_CLOCK_HZ / 10u)

static volatile uint8_t ring[RING_BYTES];
static volatile uint32_t ring_head;  /* written by the interrupt (and getc on restart) */
static volatile uint32_t ring_tail;  /* written by dt_board_serial_getc only */
static volatile uint32_t rx_paused;  /* ring was full: no transfer running */
static volatile uint32_t overruns;
static volatile uint8_t rx_dma;      /* EasyDMA's one-byte receive buffer */
static uint8_t tx_dma[TX_CHUNK];     /* EasyDMA's transmit buffer, in RAM */

static void start_rx(void)
{
    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&rx_dma;
    UARTE_RXD_MAXCNT = 1;
    UARTE_TASKS_STARTRX = 1;
}

void UARTE0_UART0_IRQHandler(void); /* its vector is in startup.c */

void UARTE0_UART0_IRQHandler(void)
{
    if (UARTE_EVENTS_ERROR) {
        uint32_t source = UARTE_ERRORSRC;
        UARTE_EVENTS_ERROR = 0;
        UARTE_ERRORSRC = source;
        if (source & UARTE_ERROR_OVERRUN) {
            overruns++;
        }
    }
    if (UARTE_EVENTS_ENDRX) {
        UARTE_EVENTS_ENDRX = 0;
        if (UARTE_RXD_AMOUNT == 1) {
            ring[ring_head % RING_BYTES] = rx_dma;
            ring_head++;
        }
        if (ring_head - ring_tail < RING_BYTES) {
            start_rx();
        } else {
            rx_paused = 1;
        }
    }
    (void)UARTE_EVENTS_ENDRX; /* the event clears reach the peripheral before return */
}

void dt_nrf_uarte_init(void)
{
    P0_OUTSET = 1u << PIN_TXD; /* idle high while the UARTE is off, and no glitch */
    P0_OUTSET = 1u << PIN_RTS;
    P0_PIN_CNF(PIN_TXD) = PIN_CNF_OUTPUT;
    P0_PIN_CNF(PIN_RTS) = PIN_CNF_OUTPUT;
    P0_PIN_CNF(PIN_RXD) = PIN_CNF_INPUT;
    P0_PIN_CNF(PIN_CTS) = PIN_CNF_INPUT;
    UARTE_ENABLE = 0;
    UARTE_PSEL_TXD = PIN_TXD; /* port 0, CONNECT bit 31 = 0: connected */
    UARTE_PSEL_RXD = PIN_RXD;
    UARTE_PSEL_RTS = PIN_RTS;
    UARTE_PSEL_CTS = PIN_CTS;
    UARTE_BAUDRATE = UARTE_BAUD_1M;
    UARTE_CONFIG = UARTE_CONFIG_HWFC; /* no parity, one stop bit */
    UARTE_SHORTS = 0;
    ring_head = ring_tail = 0;
    rx_paused = 0;
    overruns = 0;
    UARTE_EVENTS_ENDRX = 0;
    UARTE_EVENTS_ERROR = 0;
    UARTE_ERRORSRC = UARTE_ERRORSRC;
    UARTE_ENABLE = UARTE_ENABLE_ON;
    UARTE_INTENSET = UARTE_INT_ENDRX | UARTE_INT_ERROR;
    NVIC_ICPR0 = 1u << UARTE0_IRQ;
    NVIC_ISER0 = 1u << UARTE0_IRQ;
    start_rx();
}

int dt_nrf_uarte_rx_pending(void)
{
    return ring_head != ring_tail;
}

int dt_board_serial_getc(void)
{
    uint8_t byte;
    if (ring_head == ring_tail) {
        return -1;
    }
    byte = ring[ring_tail % RING_BYTES];
    ring_tail++;
    if (rx_paused) {
        __asm__ volatile("cpsid i" ::: "memory");
        rx_paused = 0;
        start_rx();
        __asm__ volatile("cpsie i" ::: "memory");
    }
    return byte;
}

uint32_t dt_board_serial_overruns(void)
{
    return overruns;
}

int dt_nrf_wait_event(volatile uint32_t *event, uint32_t cycles)
{
    uint32_t start = DWT_CYCCNT;
    while (*event == 0) {
        if (DWT_CYCCNT - start > cycles) {
            return 0;
        }
    }
    return 1;
}

static void stop_tx(void)
{
    UARTE_EVENTS_TXSTOPPED = 0;
    UARTE_TASKS_STOPTX = 1;
    (void)dt_nrf_wait_event(&UARTE_EVENTS_TXSTOPPED, TX_CHUNK_CYCLES);
}

void dt_board_serial_write(const void *data, uint32_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    while (len > 0) {
        uint32_t n = len < TX_CHUNK ? len : TX_CHUNK;
        memcpy(tx_dma, bytes, n);
        UARTE_TXD_PTR = (uint32_t)(uintptr_t)tx_dma;
        UARTE_TXD_MAXCNT = n;
        UARTE_EVENTS_ENDTX = 0;
        UARTE_TASKS_STARTTX = 1;
        if (!dt_nrf_wait_event(&UARTE_EVENTS_ENDTX, TX_CHUNK_CYCLES)) {
            stop_tx(); /* held by CTS too long: nobody listens; drop the rest */
            return;
        }
        bytes += n;
        len -= n;
    }
}

void dt_nrf_uarte_flush(void)
{
    /* ENDTX means EasyDMA has read the last byte; the byte itself may still be shifting
     * out. STOPTX lets it finish; TXSTOPPED comes after. Then two byte times for safety. */
    stop_tx();
    uint32_t start = DWT_CYCCNT;
    while (DWT_CYCCNT - start < DT_NRF_CLOCK_HZ / 50000u) { /* 20 us */
    }
}
