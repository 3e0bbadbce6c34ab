/*
 * Test driver of firmware/protocol/dt_cobs.c: reads one line of hex from stdin and prints
 * the result as hex.
 *   cobs_driver encode          -> the encoding (dt_cobs_encode), checked against
 *                                  dt_cobs_encode_stream and DT_COBS_MAX_ENCODED
 *   cobs_driver decode          -> the decoding, or "error"
 *   cobs_driver decode-inplace  -> the same, decoding in place
 *   cobs_driver encode-cap N    -> dt_cobs_encode with an N-byte buffer: size or 0
 *   cobs_driver decode-cap N    -> dt_cobs_decode into an N-byte buffer, or "error"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_cobs.h"

static uint8_t in[70000], out[70000], streamed[70000];
static uint32_t streamed_len;

static uint32_t read_hex(void)
{
    uint32_t n = 0;
    unsigned v;
    while (scanf("%2x", &v) == 1) {
        in[n++] = (uint8_t)v;
    }
    return n;
}

static void print_hex(const uint8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
}

static void collect(void *ctx, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    memcpy(streamed + streamed_len, data, len);
    streamed_len += len;
}

int main(int argc, char **argv)
{
    uint32_t n;
    int32_t d;
    if (argc < 2) {
        return 2;
    }
    n = read_hex();
    if (strcmp(argv[1], "encode") == 0) {
        uint32_t e = dt_cobs_encode(in, n, out, sizeof(out));
        uint32_t s = dt_cobs_encode_stream(in, n, collect, NULL);
        if (e == 0 || s != e || streamed_len != e || memcmp(out, streamed, e) != 0 ||
            e > DT_COBS_MAX_ENCODED(n) || memchr(out, 0, e) != NULL) {
            printf("inconsistent\n");
            return 1;
        }
        print_hex(out, e);
    } else if (strcmp(argv[1], "encode-cap") == 0 && argc == 3) {
        printf("%u\n", (unsigned)dt_cobs_encode(in, n, out, (uint32_t)atoi(argv[2])));
    } else if (strcmp(argv[1], "decode") == 0 || strcmp(argv[1], "decode-cap") == 0) {
        uint32_t cap = argc == 3 ? (uint32_t)atoi(argv[2]) : (uint32_t)sizeof(out);
        d = dt_cobs_decode(in, n, out, cap);
        if (d < 0) {
            printf("error\n");
        } else {
            print_hex(out, (uint32_t)d);
        }
    } else if (strcmp(argv[1], "decode-inplace") == 0) {
        d = dt_cobs_decode(in, n, in, sizeof(in));
        if (d < 0) {
            printf("error\n");
        } else {
            print_hex(in, (uint32_t)d);
        }
    } else {
        return 2;
    }
    return 0;
}
