/*
 * Byte-at-a-time frame receiver (docs/protocol.md, framing): collects the encoded bytes
 * of one frame up to its 0x00 delimiter in a caller-owned buffer.
 *
 * - Empty frames (0x00 right after a delimiter) are ignored: the host sends one to end any
 *   partial frame the device may hold.
 * - A frame longer than the buffer is dropped up to its delimiter and reported once, at
 *   that delimiter, as DT_FRAME_TOO_LONG (the device answers ERR_TOO_LONG).
 */
#ifndef DT_FRAME_RX_H
#define DT_FRAME_RX_H

#include <stdint.h>

typedef enum {
    DT_FRAME_NONE = 0,   /* nothing complete yet */
    DT_FRAME_READY,      /* buf[0 .. len) holds one encoded frame, until the next feed */
    DT_FRAME_TOO_LONG    /* an oversize frame just ended */
} dt_frame_event_t;

typedef struct {
    uint8_t *buf;
    uint32_t cap;
    uint32_t len;
    uint8_t overflow; /* dropping bytes until the next delimiter */
    uint8_t ready;    /* the last feed returned READY: start over on the next byte */
} dt_frame_rx_t;

/* cap: the largest encoded frame accepted, without the delimiter. */
void dt_frame_rx_init(dt_frame_rx_t *rx, uint8_t *buf, uint32_t cap);

/* Start over, dropping a partial frame (used after a reset). */
void dt_frame_rx_clear(dt_frame_rx_t *rx);

dt_frame_event_t dt_frame_rx_feed(dt_frame_rx_t *rx, uint8_t byte);

#endif /* DT_FRAME_RX_H */
