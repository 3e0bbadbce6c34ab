/*
 * Little-endian fields of the protocol (docs/protocol.md: every integer and float is
 * little-endian), read and written byte by byte so alignment and host order never matter.
 */
#ifndef DT_LE_H
#define DT_LE_H

#include <stdint.h>
#include <string.h>

static inline void dt_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void dt_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void dt_put_f32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    dt_put_u32(p, v);
}

static inline uint16_t dt_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t dt_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline float dt_get_f32(const uint8_t *p)
{
    uint32_t v = dt_get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

#endif /* DT_LE_H */
