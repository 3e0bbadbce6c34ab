/*
 * Compile-time choices and buffer sizes of the application, derived from the generated
 * dt_app_model.h (the model's input size and class count).
 */
#ifndef DT_APP_CONFIG_H
#define DT_APP_CONFIG_H

#include "dt_app_model.h"
#include "dt_cobs.h"
#include "dt_packet.h"
#include "dt_settings.h"
#include "dt_store.h"

/* What the store does when full (docs/firmware.md): DT_STORE_FULL_STOP (default: keep the
 * oldest samples, CLASSIFY answers store result 2) or DT_STORE_FULL_OVERWRITE_OLDEST. */
#ifndef DT_APP_STORE_POLICY
#define DT_APP_STORE_POLICY DT_STORE_FULL_STOP
#endif

#define DT_APP_MAX_(a, b) ((a) > (b) ? (a) : (b))

/* Largest request payload: a sample (plus 4 bytes of slack, as docs/protocol.md sizes
 * MAX_FRAME) or SET_THRESHOLDS (classes, hash, 9 bytes per class). */
#define DT_APP_MAX_REQUEST_PAYLOAD \
    DT_APP_MAX_((uint32_t)DT_APP_INPUT_BYTES + 4u, 6u + DT_THRESHOLDS_RECORD_BYTES)
#define DT_APP_MAX_REQUEST (DT_PACKET_OVERHEAD + DT_APP_MAX_REQUEST_PAYLOAD)

/* Encoded bytes of the largest request, without the delimiter: the receive buffer. */
#define DT_APP_RX_BYTES DT_COBS_MAX_ENCODED(DT_APP_MAX_REQUEST)
/* MAX_FRAME as IDENTIFY reports it: the encoded frame with its 0x00 delimiter. */
#define DT_APP_MAX_FRAME (DT_APP_RX_BYTES + 1u)

/* STORE_LIST answers at least this many entries per request (17 bytes each). */
#define DT_APP_LIST_MIN_ENTRIES 16u
#define DT_APP_LIST_ENTRY_BYTES 17u

/* Reply payloads (status byte included). */
#define DT_APP_IDENTIFY_BYTES (73u + 2u * (uint32_t)DT_APP_INPUT_RANK)
#define DT_APP_CLASSIFY_BYTES (24u + (uint32_t)DRIP_NUM_CLASSES)
#define DT_APP_STORE_READ_BYTES (10u + (uint32_t)DT_APP_INPUT_BYTES)
#define DT_APP_LIST_BYTES (3u + DT_APP_LIST_ENTRY_BYTES * DT_APP_LIST_MIN_ENTRIES)
#define DT_APP_ERROR_BYTES (1u + 64u)
#define DT_APP_MAX_REPLY_PAYLOAD                                                    \
    DT_APP_MAX_(DT_APP_MAX_(DT_APP_IDENTIFY_BYTES, DT_APP_CLASSIFY_BYTES),          \
                DT_APP_MAX_(DT_APP_MAX_(DT_APP_STORE_READ_BYTES, DT_APP_LIST_BYTES), \
                            DT_APP_ERROR_BYTES))
#define DT_APP_REPLY_BYTES (DT_PACKET_OVERHEAD + DT_APP_MAX_REPLY_PAYLOAD)

/* CLASSIFY requests whose replies the device keeps, to answer a repeat of any of them
 * without running it again: a host may have this many CLASSIFY in flight (IDENTIFY
 * reports it; docs/protocol.md, "Pipelining"). 1 means stop-and-wait only. */
#ifndef DT_APP_REPLAY_DEPTH
#define DT_APP_REPLAY_DEPTH 8u
#endif
typedef char dt_app_replay_depth_fits_a_byte[(DT_APP_REPLAY_DEPTH >= 1u &&
                                              DT_APP_REPLAY_DEPTH <= 255u) ? 1 : -1];
#define DT_APP_CLASSIFY_REPLY_PACKET (DT_PACKET_OVERHEAD + DT_APP_CLASSIFY_BYTES)

/* A packet's length field is 16 bits: a model whose sample does not fit cannot be served. */
typedef char dt_app_request_fits_a_packet[(DT_APP_MAX_REQUEST_PAYLOAD <= 0xFFFFu) ? 1 : -1];
typedef char dt_app_reply_fits_a_packet[(DT_APP_MAX_REPLY_PAYLOAD <= 0xFFFFu) ? 1 : -1];

#endif /* DT_APP_CONFIG_H */
