/* Refer to dt_logistic_s8.h for the contract. */
#include "dt_logistic_s8.h"

#include "dt_softmax_fixedpoint.h"

/* The rescaled input is Q4 (range [-16, 16)); the result is Q0, brought to 8 fractional
 * bits for the 1/256 output scale. */
#define DT_LOGISTIC_INPUT_INTEGER_BITS 4

/* 1 / (1 + exp(-a)) for a Q4 value a, as a Q0 value; exactly 1/2 at a == 0. */
static inline int32_t dt_logistic_q4(int32_t a)
{
    const int32_t magnitude = a > 0 ? a : -a;
    const int32_t if_positive = dt_sfp_one_over_one_plus_x(
        dt_sfp_exp_on_negative_values(-magnitude, DT_LOGISTIC_INPUT_INTEGER_BITS));
    if (a == 0) {
        return INT32_C(1) << 30;
    }
    return a > 0 ? if_positive : INT32_MAX - if_positive;
}

void dt_logistic_s8(const int8_t *input, int32_t size, int32_t input_zero_point,
                    int32_t input_range_radius, int32_t input_multiplier,
                    int32_t input_left_shift, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = (int32_t)input[i] - input_zero_point;
        if (x <= -input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t x_q4 = dt_multiply_by_quantized_multiplier(
                x, input_multiplier, (int)input_left_shift);
            int32_t q = dt_rounding_divide_by_pot(dt_logistic_q4(x_q4), 31 - 8) + INT8_MIN;
            if (q > INT8_MAX) {
                q = INT8_MAX;
            }
            output[i] = (int8_t)q;
        }
    }
}
