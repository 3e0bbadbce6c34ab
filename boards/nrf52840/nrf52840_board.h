/* What the nrf52840 drivers share; the application sees only firmware/board/dt_board.h. */
#ifndef DT_NRF52840_BOARD_H
#define DT_NRF52840_BOARD_H

#include <stdint.h>

#define DT_NRF_CLOCK_HZ 64000000u

/* UARTE0 at 1 Mbaud on the DK's interface-MCU pins, receive interrupt running. */
void dt_nrf_uarte_init(void);

/* 1 when a received byte waits in the ring. */
int dt_nrf_uarte_rx_pending(void);

/* Returns once the last byte written has left the TXD pin (or a time limit passed). */
void dt_nrf_uarte_flush(void);

/* Busy-waits until *event is non-zero or `cycles` CPU cycles passed (DWT->CYCCNT);
 * returns 1 if the event came. */
int dt_nrf_wait_event(volatile uint32_t *event, uint32_t cycles);

void dt_system_reset(void) __attribute__((noreturn)); /* startup.c */

#endif /* DT_NRF52840_BOARD_H */
