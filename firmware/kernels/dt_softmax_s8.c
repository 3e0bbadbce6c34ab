/* Refer to dt_softmax_s8.h for the contract. */
#include "dt_softmax_s8.h"

#include "dt_softmax_fixedpoint.h"

/* The scaled difference (input - max) * beta * input_scale enters exp() as Q5 (range
 * [-32, 0]); exponentials are summed in Q12, so up to 4095 ones fit. */
#define DT_SOFTMAX_DIFF_INTEGER_BITS 5
#define DT_SOFTMAX_SUM_INTEGER_BITS 12

/* exp((input - max) * beta * input_scale) in Q0 for a difference the caller has checked
 * against diff_min, so the left shift cannot overflow. */
static inline int32_t dt_softmax_exp(int32_t diff, int32_t input_multiplier,
                                     int32_t input_left_shift)
{
    const int32_t shifted = dt_sfp_shift_left(diff, (int)input_left_shift);
    const int32_t scaled_diff = dt_saturating_rounding_doubling_high_mul(shifted, input_multiplier);
    return dt_sfp_exp_on_negative_values(scaled_diff, DT_SOFTMAX_DIFF_INTEGER_BITS);
}

void dt_softmax_s8(const int8_t *input, int32_t rows, int32_t depth, int32_t input_multiplier,
                   int32_t input_left_shift, int32_t diff_min, int8_t *output)
{
    for (int32_t row = 0; row < rows; ++row) {
        const int8_t *in = input + (int64_t)row * depth;
        int8_t *out = output + (int64_t)row * depth;

        int32_t max = INT8_MIN;
        for (int32_t c = 0; c < depth; ++c) {
            if (in[c] > max) {
                max = in[c];
            }
        }

        int32_t sum_of_exps = 0; /* Q12 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max;
            if (diff >= diff_min) {
                sum_of_exps += dt_rounding_divide_by_pot(
                    dt_softmax_exp(diff, input_multiplier, input_left_shift),
                    DT_SOFTMAX_SUM_INTEGER_BITS);
            }
        }

        /* 1 / sum as a Q0 mantissa times 2^-bits_over_unit. The row maximum contributes
         * exactly 1.0, so sum_of_exps >= 2^19 and the leading-zero count is at most 12. */
        const int headroom_plus_one = dt_sfp_clz((uint32_t)sum_of_exps);
        const int bits_over_unit = DT_SOFTMAX_SUM_INTEGER_BITS - headroom_plus_one;
        const int32_t sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - UINT32_C(0x80000000));
        const int32_t reciprocal = dt_sfp_one_over_one_plus_x(sum_minus_one);
        /* Probability in Q0 shifted down to 8 fractional bits. */
        const int exponent = bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max;
            int32_t q = INT8_MIN;
            /* exponent > 31 means sum >= 512: every probability is under half an LSB. TFLM
             * aborts there (TFLITE_CHECK); -128 is the correctly rounded answer. */
            if (diff >= diff_min && exponent <= 31) {
                const int32_t e = dt_softmax_exp(diff, input_multiplier, input_left_shift);
                const int32_t p = dt_saturating_rounding_doubling_high_mul(reciprocal, e);
                q = dt_rounding_divide_by_pot(p, exponent) + INT8_MIN;
                if (q > INT8_MAX) {
                    q = INT8_MAX;
                }
            }
            out[c] = (int8_t)q;
        }
    }
}
