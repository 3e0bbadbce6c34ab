/* COBS encoder and decoder. Refer to dt_cobs.h for the contract. */
#include "dt_cobs.h"

#include <string.h>

/* Length of the block starting at src[i]: non-zero bytes before the next zero, at most
 * 254. */
static uint32_t run_length(const uint8_t *src, uint32_t i, uint32_t n)
{
    uint32_t k = 0;
    while (i + k < n && k < 254u && src[i + k] != 0) {
        k++;
    }
    return k;
}

/* Walks the blocks of src; each block is (code, slice). Calls emit for each, returns the
 * encoded size. Shared by both encoders so they can never disagree. */
typedef int (*emit_fn)(void *ctx, uint8_t code, const uint8_t *slice, uint32_t len);

static uint32_t encode_blocks(const uint8_t *src, uint32_t n, emit_fn emit, void *ctx)
{
    uint32_t i = 0, size = 0;
    for (;;) {
        uint32_t k = run_length(src, i, n);
        if (emit(ctx, (uint8_t)(k + 1u), src + i, k) != 0) {
            return 0;
        }
        size += k + 1u;
        i += k;
        if (k < 254u) {
            if (i >= n) {
                break;      /* the last block: no zero follows it */
            }
            i++;            /* the zero this block stands for */
        } else if (i >= n) {
            break;          /* a full block ends the data: no trailing 0x01 */
        }
    }
    return size;
}

typedef struct {
    uint8_t *dst;
    uint32_t cap;
    uint32_t used;
} buffer_ctx_t;

static int emit_to_buffer(void *ctx, uint8_t code, const uint8_t *slice, uint32_t len)
{
    buffer_ctx_t *b = (buffer_ctx_t *)ctx;
    if (b->cap - b->used < len + 1u) {
        return -1;
    }
    b->dst[b->used] = code;
    if (len > 0) {
        memcpy(b->dst + b->used + 1u, slice, len);
    }
    b->used += len + 1u;
    return 0;
}

uint32_t dt_cobs_encode(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t cap)
{
    buffer_ctx_t b;
    if ((src == NULL && n > 0) || dst == NULL) {
        return 0;
    }
    b.dst = dst;
    b.cap = cap;
    b.used = 0;
    return encode_blocks(src, n, emit_to_buffer, &b);
}

typedef struct {
    dt_cobs_write_fn write;
    void *ctx;
} stream_ctx_t;

static int emit_to_stream(void *ctx, uint8_t code, const uint8_t *slice, uint32_t len)
{
    stream_ctx_t *s = (stream_ctx_t *)ctx;
    s->write(s->ctx, &code, 1);
    if (len > 0) {
        s->write(s->ctx, slice, len);
    }
    return 0;
}

uint32_t dt_cobs_encode_stream(const uint8_t *src, uint32_t n, dt_cobs_write_fn write,
                               void *ctx)
{
    stream_ctx_t s;
    if ((src == NULL && n > 0) || write == NULL) {
        return 0;
    }
    s.write = write;
    s.ctx = ctx;
    return encode_blocks(src, n, emit_to_stream, &s);
}

int32_t dt_cobs_decode(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t cap)
{
    uint32_t i = 0, out = 0;
    if (src == NULL || dst == NULL || n == 0 || n > 0x7FFFFFFFu) {
        return -1;
    }
    while (i < n) {
        uint32_t code = src[i], len, k;
        if (code == 0) {
            return -1;
        }
        len = code - 1u;
        if (len > n - i - 1u || len > cap - out) {
            return -1;
        }
        for (k = 0; k < len; k++) {
            if (src[i + 1u + k] == 0) {
                return -1;
            }
        }
        /* In place, out <= i always holds: memmove, not memcpy. */
        memmove(dst + out, src + i + 1u, len);
        out += len;
        i += code;
        if (code != 255u && i < n) {
            if (out >= cap) {
                return -1;
            }
            dst[out++] = 0;
        }
    }
    return (int32_t)out;
}
