/*
 * What the mps2-an386 drivers (dt_board_mps2.c, uart_cmsdk.c, flash_ram.c) share; the
 * application sees only firmware/board/dt_board.h.
 */
#ifndef DT_MPS2_BOARD_H
#define DT_MPS2_BOARD_H

#include <stdint.h>

/* UART0 at 0x40004000: receive interrupt on, transmitter on. */
void dt_mps2_uart_init(void);

/* 1 when a received byte waits in the ring (or, ring full, in the UART). */
int dt_mps2_uart_rx_pending(void);

/* Returns once the transmitter holds no byte (before a reset). */
void dt_mps2_uart_flush(void);

/* Attach the store and settings regions; a cold boot erases them to 0xFF. */
void dt_mps2_flash_init(void);

/* The instruction-count markers: the QEMU insn_count plugin gets their addresses (the
 * runner reads them from the ELF) and counts the instructions between a call to the first
 * and a call to the second. */
void dt_cycles_region_begin(void);
void dt_cycles_region_end(void);

#endif /* DT_MPS2_BOARD_H */
