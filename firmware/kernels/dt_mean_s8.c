/* MEAN int8. Refer to the header for the contract. */
#include "dt_mean_s8.h"

#include "dt_fixedpoint.h"

void dt_mean_s8(const dt_mean_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t outer[4];
    int32_t inner[4];
    for (int i = 0; i < 4; ++i) {
        outer[i] = p->reduce[i] ? 1 : p->dims[i];
        inner[i] = p->reduce[i] ? p->dims[i] : 1;
    }
    const int32_t bias = p->input_zero_point * p->count;
    for (int32_t o0 = 0; o0 < outer[0]; ++o0) {
        for (int32_t o1 = 0; o1 < outer[1]; ++o1) {
            for (int32_t o2 = 0; o2 < outer[2]; ++o2) {
                for (int32_t o3 = 0; o3 < outer[3]; ++o3) {
                    /* |sum| <= 128 * count: exact in int32 below 2^24 inputs. */
                    int32_t sum = 0;
                    for (int32_t i0 = 0; i0 < inner[0]; ++i0) {
                        for (int32_t i1 = 0; i1 < inner[1]; ++i1) {
                            for (int32_t i2 = 0; i2 < inner[2]; ++i2) {
                                const int32_t row =
                                    (((o0 + i0) * p->dims[1] + (o1 + i1)) * p->dims[2] + (o2 + i2))
                                    * p->dims[3];
                                for (int32_t i3 = 0; i3 < inner[3]; ++i3) {
                                    sum += input[row + o3 + i3];
                                }
                            }
                        }
                    }
                    const int32_t centered = sum - bias;
                    int32_t out = dt_multiply_by_quantized_multiplier(centered, p->multiplier,
                                                                      p->shift);
                    out += p->output_zero_point;
                    *output++ = (int8_t)dt_clamp_s32(out, -128, 127);
                }
            }
        }
    }
}
