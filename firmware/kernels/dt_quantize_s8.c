/* QUANTIZE to int8. Refer to the header for the contract. */
#include "dt_quantize_s8.h"

#include <math.h>

#include "dt_fixedpoint.h"

void dt_quantize_s8(const dt_quantize_s8_params_t *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float r = roundf(input[i] / p->scale);
        /* Clamp in float first: converting an out-of-range float to int32 is
         * undefined. Every float in (-1e6, 1e6) converts exactly. */
        const float bounded = r < -1.0e6f ? -1.0e6f : (r > 1.0e6f ? 1.0e6f : r);
        const int32_t q = (int32_t)bounded + p->zero_point;
        output[i] = (int8_t)dt_clamp_s32(q, -128, 127);
    }
}

void dt_requantize_s8(const dt_requantize_s8_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t q = dt_multiply_by_quantized_multiplier(
                              (int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift)
                          + p->output_zero_point;
        output[i] = (int8_t)dt_clamp_s32(q, -128, 127);
    }
}
