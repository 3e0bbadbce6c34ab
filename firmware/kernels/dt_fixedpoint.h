/*
 * Fixed-point helpers shared by the drip-tiny int8 kernels.
 *
 * They reproduce TFLM's requantization bit for bit. TFLM is built without
 * TFLITE_SINGLE_ROUNDING, so MultiplyByQuantizedMultiplier rounds twice, as
 * gemmlowp does: once in the saturating doubling high multiply, once in the
 * rounding right shift. A single-rounding version differs by one on some
 * inputs, so do not "simplify" these into one 64-bit multiply and shift.
 *
 * Signed overflow is undefined in C; where TFLM's C++ may wrap (the left shift
 * of large accumulators), these helpers wrap explicitly through uint32_t so
 * that the result is defined and equals what TFLM's build computes.
 */
#ifndef DT_FIXEDPOINT_H
#define DT_FIXEDPOINT_H

#include <stdint.h>

/* round(a * b / 2^31), saturating the single overflowing case
 * a == b == INT32_MIN; ties round away from zero (gemmlowp). */
static inline int32_t dt_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    /* gemmlowp computes (ab + nudge) / 2^31 truncated towards zero, with nudge 2^30 for
     * ab >= 0 and 1 - 2^30 below. For ab < 0 that truncation is a ceiling, and
     * ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31); for ab >= 0 it is that floor
     * already. So one add and an arithmetic shift give the same value in both cases
     * (5 instructions on Cortex-M4 instead of 17: this runs once per output). */
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
static inline int32_t dt_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* >> of a negative int32_t is arithmetic on every compiler we target. */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift with multiplier a Q31 value in [2^30, 2^31) (or 0)
 * and shift in [-31, 30]: TFLM's MultiplyByQuantizedMultiplier(int32_t, ...). */
static inline int32_t dt_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left_shift = shift > 0 ? (int)shift : 0;
    const int right_shift = shift > 0 ? 0 : (int)-shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return dt_rounding_divide_by_pot(
        dt_saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

static inline int32_t dt_clamp_s32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* DT_FIXEDPOINT_H */
