/*
 * libFuzzer target: the frame decoder of firmware/protocol, as the app uses it. Bytes go
 * one at a time into dt_frame_rx; each complete frame is COBS-decoded in place and parsed
 * as a packet. The buffer is exactly the capacity the app would have (RX_CAP), so any
 * read or write past it is an ASan report. Checks the decoders' own promises too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dt_cobs.h"
#include "dt_frame_rx.h"
#include "dt_packet.h"

#ifndef RX_CAP
#define RX_CAP 128u
#endif

static void check_frame(uint8_t *buf, uint32_t len)
{
    dt_packet_t p;
    int32_t n = dt_cobs_decode(buf, len, buf, len);
    if (n < 0) {
        return;
    }
    if ((uint32_t)n > len) {
        abort(); /* decoding never grows */
    }
    memset(&p, 0, sizeof(p));
    if (dt_packet_parse(buf, (uint32_t)n, &p) == DT_PACKET_OK) {
        /* A valid packet's payload lies inside what was decoded and its CRC is right. */
        if (p.length + DT_PACKET_OVERHEAD != (uint32_t)n || p.payload != buf + 6 ||
            dt_packet_crc32(buf, (uint32_t)n - 4u) != p.crc) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Heap-allocated at exactly RX_CAP so ASan sees every overflow (the fuzzer is a host
     * test harness; the firmware itself never allocates). */
    uint8_t *buf = malloc(RX_CAP);
    dt_frame_rx_t rx;
    size_t i;
    dt_frame_rx_init(&rx, buf, RX_CAP);
    for (i = 0; i < size; i++) {
        dt_frame_event_t ev = dt_frame_rx_feed(&rx, data[i]);
        if (ev == DT_FRAME_READY) {
            if (rx.len > RX_CAP) {
                abort();
            }
            check_frame(rx.buf, rx.len);
        }
    }
    /* Round trip: whatever the input, encoding then decoding gives it back. */
    if (size <= 512) {
        uint8_t enc[DT_COBS_MAX_ENCODED(512)];
        uint8_t dec[512];
        uint32_t e = dt_cobs_encode(data, (uint32_t)size, enc, sizeof(enc));
        int32_t d = dt_cobs_decode(enc, e, dec, sizeof(dec));
        if (d != (int32_t)size || memcmp(dec, data, size) != 0 || memchr(enc, 0, e) != NULL) {
            abort();
        }
    }
    free(buf);
    return 0;
}
