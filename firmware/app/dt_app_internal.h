/*
 * Shared between dt_app.c (frames, replay, dispatch) and dt_app_commands.c (what each
 * command does). Private to firmware/app.
 */
#ifndef DT_APP_INTERNAL_H
#define DT_APP_INTERNAL_H

#include <stdint.h>

#include "dt_app.h"
#include "dt_app_config.h"
#include "dt_frame_rx.h"
#include "dt_packet.h"
#include "dt_settings.h"
#include "dt_store.h"
#include "dt_wire.h"

typedef struct {
    uint8_t packet[DT_APP_CLASSIFY_REPLY_PACKET];
    uint16_t len; /* 0: the slot is empty */
    uint16_t sequence;
    uint32_t crc; /* the request's */
} dt_classify_reply_t;

typedef struct {
    dt_store_t store;
    int store_status;      /* dt_store_open's result; the store is usable when 0 */
    dt_settings_t settings;
    dt_app_stats_t stats;
    dt_frame_rx_t rx;
    uint8_t rx_buf[DT_APP_RX_BYTES];
    /* The reply to the last valid request, kept to answer a repeat of it (same sequence
     * number and same CRC) without running it again. */
    uint8_t reply[DT_APP_REPLY_BYTES];
    uint32_t reply_len;
    uint16_t last_sequence;
    uint32_t last_crc;
    uint8_t have_last;
    uint8_t reset_requested;
    /* The replies to the last DT_APP_REPLAY_DEPTH CLASSIFY requests that ran (status OK),
     * oldest overwritten first: a pipelining host may resend any request it has in flight. */
    dt_classify_reply_t classified[DT_APP_REPLAY_DEPTH];
    uint32_t classified_next; /* the slot the next CLASSIFY reply goes to */
} dt_app_t;

/* A command handler writes its reply payload (status byte first) into out (cap bytes)
 * and returns its length. */
typedef struct {
    dt_app_t *app;
    const dt_packet_t *request;
    uint8_t *out;
    uint32_t cap;
} dt_command_t;

/* An error payload: status then message (at most 64 bytes). */
uint32_t dt_app_error(uint8_t *out, dt_status_t status, const char *message);

/* The store error's name for ERR_STORE messages. */
const char *dt_app_store_error_text(int err);

/* Runs the request; returns the reply payload length. */
uint32_t dt_app_run_command(const dt_command_t *cmd);

#endif /* DT_APP_INTERNAL_H */
