/*
 * Q-format fixed-point helpers with gemmlowp's rounding and saturation semantics, as TFLM's
 * int8 SOFTMAX and LOGISTIC reference kernels use them. Private to dt_softmax_s8.c and
 * dt_logistic_s8.c: every function is static inline, prefixed dt_sfp_.
 *
 * Notation: a Qm value is an int32_t holding x * 2^(31 - m), so m integer bits, 31 - m
 * fractional bits and a sign bit; Q0 covers [-1, 1). "1.0" in Q0 is INT32_MAX (1 itself
 * cannot be represented).
 *
 * Every result here must equal gemmlowp's bit for bit, including in rounding ties and at
 * saturation: the generated code is checked against TFLM output by output. Shifts of
 * negative values rely on arithmetic right shift, which GCC and Clang guarantee on every
 * target drip-tiny builds for.
 */
#ifndef DT_SOFTMAX_FIXEDPOINT_H
#define DT_SOFTMAX_FIXEDPOINT_H

#include <stdint.h>

/* The requantization helpers (rounding doubling high multiply, rounding right shift,
 * MultiplyByQuantizedMultiplier) are shared with every other kernel. */
#include "dt_fixedpoint.h"

/* x * 2^exponent, saturating to [INT32_MIN, INT32_MAX]. 0 < exponent < 31. */
static inline int32_t dt_sfp_saturating_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* x * 2^shift for the shifts a caller has already bounded so that the result fits in an
 * int32 (the kernels check |x| against an input radius first). 0 <= shift <= 31. */
static inline int32_t dt_sfp_shift_left(int32_t x, int shift)
{
    return (int32_t)((uint32_t)x << shift);
}

/* Number of leading zero bits of a nonzero x. */
static inline int dt_sfp_clz(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clz(x);
#else
    int n = 0;
    while ((x & UINT32_C(0x80000000)) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* exp(a) for a Q0 value a in [-1/4, 0), as a Q0 value: a fourth-order Taylor expansion around
 * -1/8, evaluated in the same order and with the same roundings as gemmlowp. */
static inline int32_t dt_sfp_exp_on_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    const int32_t x = a + (INT32_C(1) << 28);        /* a + 1/8 */
    const int32_t x2 = dt_saturating_rounding_doubling_high_mul(x, x);
    const int32_t x3 = dt_saturating_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = dt_saturating_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = dt_rounding_divide_by_pot(x4, 2);
    /* x^4/24 + x^3/6 + x^2/2 */
    const int32_t cubic = dt_saturating_rounding_doubling_high_mul(x4_over_4 + x3, one_third);
    const int32_t poly = dt_rounding_divide_by_pot(cubic + x2, 1);
    return exp_minus_one_eighth
        + dt_saturating_rounding_doubling_high_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given in Q(integer_bits), 1 <= integer_bits <= 5, as a Q0 value.
 * a is split into a remainder in [-1/4, 0) (Taylor series) and a sum of powers of two
 * (-1/4, -1/2, -1, ..., -16) whose exponentials are constants; exp(0) is exactly INT32_MAX.
 * Callers pass a compile-time integer_bits so the branches fold away. */
static inline int32_t dt_sfp_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* exp(-2^k) in Q0 for k = -2 .. 4 */
    static const int32_t exp_of_minus_pow2[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = INT32_C(1) << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = dt_sfp_exp_on_quarter_interval(
        dt_sfp_saturating_shift_left(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;

    for (int k = -2; k <= 4; ++k) {
        if (integer_bits > k && (remainder & (INT32_C(1) << (fractional_bits + k))) != 0) {
            result = dt_saturating_rounding_doubling_high_mul(result, exp_of_minus_pow2[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a Q0 value a in [0, 1), as a Q0 value: three Newton-Raphson steps on the
 * half denominator, starting from 48/17 - 32/17 * d, in Q2. */
static inline int32_t dt_sfp_one_over_one_plus_x(int32_t a)
{
    const int32_t forty_eight_seventeenths = 1515870810;     /* 48/17 in Q2 */
    const int32_t minus_thirty_two_seventeenths = -1010580540; /* -32/17 in Q2 */
    const int32_t one_q2 = INT32_C(1) << 29;
    /* (a + 1) / 2 rounded half away from zero, without overflow */
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = forty_eight_seventeenths + dt_saturating_rounding_doubling_high_mul(half_denominator,
                                                      minus_thirty_two_seventeenths);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_dx = one_q2 - dt_saturating_rounding_doubling_high_mul(half_denominator, x);
        x = x + dt_sfp_saturating_shift_left(dt_saturating_rounding_doubling_high_mul(x, one_minus_dx), 2);
    }
    return dt_sfp_saturating_shift_left(x, 1); /* x / 2, read as Q1, brought to Q0 */
}

#endif /* DT_SOFTMAX_FIXEDPOINT_H */
