/* Frame receiver. Refer to dt_frame_rx.h. */
#include "dt_frame_rx.h"

void dt_frame_rx_init(dt_frame_rx_t *rx, uint8_t *buf, uint32_t cap)
{
    rx->buf = buf;
    rx->cap = cap;
    dt_frame_rx_clear(rx);
}

void dt_frame_rx_clear(dt_frame_rx_t *rx)
{
    rx->len = 0;
    rx->overflow = 0;
    rx->ready = 0;
}

dt_frame_event_t dt_frame_rx_feed(dt_frame_rx_t *rx, uint8_t byte)
{
    if (rx->ready) {
        rx->ready = 0;
        rx->len = 0;
    }
    if (byte == 0) {
        if (rx->overflow) {
            rx->overflow = 0;
            rx->len = 0;
            return DT_FRAME_TOO_LONG;
        }
        if (rx->len == 0) {
            return DT_FRAME_NONE; /* an empty frame */
        }
        rx->ready = 1;
        return DT_FRAME_READY;
    }
    if (rx->overflow) {
        return DT_FRAME_NONE;
    }
    if (rx->len >= rx->cap) {
        rx->overflow = 1;
        return DT_FRAME_NONE;
    }
    rx->buf[rx->len++] = byte;
    return DT_FRAME_NONE;
}
