/* ADD int8. Refer to the header for the contract. */
#include "dt_add_s8.h"

#include "dt_fixedpoint.h"

static int8_t add_one(const dt_add_s8_params_t *p, int32_t x, int32_t y)
{
    const int32_t a = dt_multiply_by_quantized_multiplier(
        (x + p->input1_offset) * (1 << p->left_shift), p->input1_multiplier, p->input1_shift);
    const int32_t b = dt_multiply_by_quantized_multiplier(
        (y + p->input2_offset) * (1 << p->left_shift), p->input2_multiplier, p->input2_shift);
    const int32_t out = dt_multiply_by_quantized_multiplier(a + b, p->output_multiplier,
                                                            p->output_shift)
                        + p->output_offset;
    return (int8_t)dt_clamp_s32(out, p->act_min, p->act_max);
}

void dt_add_s8(const dt_add_s8_params_t *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    if (!p->broadcast) {
        for (int32_t i = 0; i < p->size; ++i) {
            output[i] = add_one(p, input1[i], input2[i]);
        }
        return;
    }
    const int32_t *d = p->out_dims;
    const int32_t *s1 = p->in1_strides;
    const int32_t *s2 = p->in2_strides;
    for (int32_t i0 = 0; i0 < d[0]; ++i0) {
        for (int32_t i1 = 0; i1 < d[1]; ++i1) {
            for (int32_t i2 = 0; i2 < d[2]; ++i2) {
                for (int32_t i3 = 0; i3 < d[3]; ++i3) {
                    const int32_t a = i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3];
                    const int32_t b = i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3];
                    *output++ = add_one(p, input1[a], input2[b]);
                }
            }
        }
    }
}
