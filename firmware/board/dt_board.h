/*
 * What a board gives the application (firmware/app): the contract every folder under
 * boards/ implements in its drivers. The application is board-independent; it only calls
 * these functions.
 *
 * Boards: nrf52840 (UARTE0 + NVMC + DWT), mps2-an386 under QEMU (CMSDK UART0, a RAM
 * region with the NOR rules enforced, instruction counts from the QEMU plugin), host
 * (POSIX: a pseudo-terminal or stdin/stdout, a file-backed flash).
 */
#ifndef DT_BOARD_H
#define DT_BOARD_H

#include <stdint.h>

#include "dt_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by dt_board_cycles_end when the board cannot count on the device and the count
 * is taken outside it (mps2-an386: the QEMU insn_count plugin sees the begin/end calls). */
#define DT_BOARD_CYCLES_EXTERNAL 0xFFFFFFFFu

/* Clocks, serial port with its receive interrupt, cycle counter, flash. Called once per
 * boot, before anything else. */
void dt_board_init(void);

/* "nrf52840", "mps2-an386", "host": at most 15 characters (IDENTIFY's field). */
const char *dt_board_name(void);

/* Core clock in Hz; 0 when the board cannot tell (QEMU). */
uint32_t dt_board_clock_hz(void);

/* Serial receive: the receive interrupt puts bytes in a board-owned ring buffer; this
 * takes the oldest one. Returns 0..255, or -1 when the ring is empty. Never blocks. */
int dt_board_serial_getc(void);

/* Bytes lost because the ring was full (the application reports them in STATISTICS). */
uint32_t dt_board_serial_overruns(void);

/* Send len bytes; returns when all of them are handed to the hardware (the caller may
 * reuse data at once). */
void dt_board_serial_write(const void *data, uint32_t len);

/* Sleep until something may have happened (an interrupt: WFI on Cortex-M; the host
 * blocks until its input is readable). Returns at once if a byte is already waiting.
 * A spurious return is allowed: the caller re-checks. */
void dt_board_wait_for_event(void);

/* Cycle counting of one stage: start = dt_board_cycles_begin(); ...;
 * cycles = dt_board_cycles_end(start). On boards with a counter (DWT->CYCCNT on the
 * nRF52840, a monotonic clock on the host) the result is the elapsed count, wrapping at
 * 2^32; under QEMU the result is DT_BOARD_CYCLES_EXTERNAL and the instructions of the
 * region are counted by the emulator. Regions never nest. */
uint32_t dt_board_cycles_begin(void);
uint32_t dt_board_cycles_end(uint32_t start);

/* The flash region of the sample store, and the separate region (at least two pages) for
 * persisted settings (the run-time thresholds). Both follow dt_flash.h's NOR rules and
 * keep their contents across dt_board_reset and power cycles. Never NULL after init. */
const dt_flash_t *dt_board_store_flash(void);
const dt_flash_t *dt_board_settings_flash(void);

/* Reboot the device: every byte sent with dt_board_serial_write has left first. On an
 * MCU a system reset (never returns); the host board returns after re-opening its flash
 * file, and the caller then starts over as after power-on (dt_app_init). */
void dt_board_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* DT_BOARD_H */
