/*
 * COBS (Consistent Overhead Byte Stuffing), the framing of docs/protocol.md: the encoded
 * bytes contain no 0x00, so 0x00 only ever ends a frame on the wire.
 *
 * The encoder is the minimal one: a run of exactly 254 non-zero bytes at the end of the
 * data is not followed by an extra 0x01 code. The decoder accepts that trailing 0x01 too.
 * No heap; every function checks its output capacity.
 */
#ifndef DT_COBS_H
#define DT_COBS_H

#include <stdint.h>

/* An upper bound of the encoded size of n bytes (without the 0x00 delimiter). */
#define DT_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encode n bytes of src into dst (cap bytes). Returns the encoded size, or 0 when cap is
 * too small (dst then holds garbage). src and dst must not overlap. */
uint32_t dt_cobs_encode(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t cap);

/* Encode n bytes of src block by block into write(ctx, bytes, len), without a buffer:
 * each block is one code byte then a slice of src. Returns the encoded size. The caller
 * writes the 0x00 delimiter. */
typedef void (*dt_cobs_write_fn)(void *ctx, const uint8_t *data, uint32_t len);
uint32_t dt_cobs_encode_stream(const uint8_t *src, uint32_t n, dt_cobs_write_fn write,
                               void *ctx);

/* Decode n encoded bytes (no delimiter) of src into dst (cap bytes). dst may equal src
 * (decoding in place: the output never runs ahead of the input). Returns the decoded size,
 * or -1 for a malformed frame (a zero byte, a block running past the end) or a dst too
 * small. */
int32_t dt_cobs_decode(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t cap);

#endif /* DT_COBS_H */
