/*
 * The board-independent application: receives frames of docs/protocol.md from the
 * board's serial port, runs the command of each (IDENTIFY, CLASSIFY, STATISTICS, STORE_*,
 * SET/RESET_THRESHOLDS, RESET) and answers. One instance, no heap, not reentrant.
 *
 * Use (dt_main.c): dt_board_init(); for (;;) { dt_app_init();
 * while (!dt_app_poll()) dt_board_wait_for_event(); dt_board_reset(); }
 */
#ifndef DT_APP_H
#define DT_APP_H

#include <stdint.h>

/* Counters of STATISTICS, since the last dt_app_init. */
typedef struct {
    uint32_t classified;
    uint32_t kept;           /* decision keep (stored or not) */
    uint32_t discarded;
    uint32_t store_failures; /* CLASSIFY store result 3, failed STORE_READ/ERASE */
    uint32_t crc_errors;     /* bad CRC or a frame that is not valid COBS */
    uint32_t length_errors;  /* size disagreeing with the header or the command */
    uint32_t oversize_frames;
    uint32_t unknown_commands;
} dt_app_stats_t;

/* As after power-on: open the sample store and the settings (a store that cannot be
 * opened is reported, never fatal), clear the counters and the receiver. */
void dt_app_init(void);

/* Take every byte the board has received and answer each complete frame. Returns 1 once
 * a RESET was answered (the caller then calls dt_board_reset), else 0. */
int dt_app_poll(void);

/* One received byte (dt_app_poll calls this); returns 1 when a RESET was answered. */
int dt_app_feed(uint8_t byte);

const dt_app_stats_t *dt_app_stats(void);

#endif /* DT_APP_H */
