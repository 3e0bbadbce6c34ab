/*
 * Cortex-M4/M7 DSP helpers shared by the int8 kernels (no CMSIS headers needed).
 *
 * Only defined when the compiler targets the DSP extension (__ARM_FEATURE_DSP, e.g.
 * gcc -mcpu=cortex-m4); every kernel keeps a portable C path that computes the same
 * int32 sums, so host and device results are bit-identical.
 *
 * The asm is volatile so that gcc keeps the kernels' statement order: left free, it
 * interleaves the four output channels of a loop body and spills accumulators to the stack
 * (measured: 58 instead of 48 instructions per 32 MACs in dt_conv2d_s8).
 */
#ifndef DT_DSP_H
#define DT_DSP_H

#include <stdint.h>
#include <string.h>

/* Four bytes at p, any alignment: memcpy becomes one LDR (unaligned LDR is legal on M4). */
static inline uint32_t dt_load_u32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if defined(__ARM_FEATURE_DSP)

/* Bytes 0 and 2 of x, sign-extended into the two 16-bit halves. */
static inline uint32_t dt_sxtb16(uint32_t x)
{
    uint32_t r;
    __asm__ volatile("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}

/* Bytes 1 and 3 of x, sign-extended into the two 16-bit halves. */
static inline uint32_t dt_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__ volatile("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* a + bytes 0 and 2 of x sign-extended, per 16-bit half (wrapping). */
static inline uint32_t dt_sxtab16(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__ volatile("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* a + bytes 1 and 3 of x sign-extended, per 16-bit half (wrapping). */
static inline uint32_t dt_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__ volatile("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* acc + a.lo * b.lo + a.hi * b.hi (signed 16-bit halves); wraps like int32 addition. */
static inline int32_t dt_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__ volatile("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* acc + a.lo * b.lo */
static inline int32_t dt_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__ volatile("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* acc + a.hi * b.hi */
static inline int32_t dt_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__ volatile("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* v in both 16-bit halves, for dt_sxtab16. */
static inline uint32_t dt_dup16(int32_t v)
{
    return ((uint32_t)v & 0xFFFFu) * 0x10001u;
}

#endif /* __ARM_FEATURE_DSP */

#endif /* DT_DSP_H */
