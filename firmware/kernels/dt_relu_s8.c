/* RELU int8. Refer to the header for the contract. */
#include "dt_relu_s8.h"

#include "dt_fixedpoint.h"

void dt_relu_s8(const dt_relu_s8_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = p->output_zero_point
                          + dt_multiply_by_quantized_multiplier(
                              (int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int8_t)dt_clamp_s32(v, p->act_min, 127);
    }
}
