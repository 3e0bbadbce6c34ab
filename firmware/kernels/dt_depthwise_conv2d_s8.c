/* DEPTHWISE_CONV_2D int8. Refer to the header for the contract. */
#include "dt_depthwise_conv2d_s8.h"

#include "dt_fixedpoint.h"

void dt_depthwise_conv2d_s8(const dt_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                            int8_t *output)
{
    const int32_t output_c = p->input_c * p->depth_multiplier;
    const int32_t in_row = p->input_w * p->input_c;
    const int32_t in_image = p->input_h * in_row;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * in_image;
        for (int32_t oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < output_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter_h; ++ky) {
                        const int32_t y = y0 + ky * p->dilation_h;
                        if (y < 0 || y >= p->input_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < p->filter_w; ++kx) {
                            const int32_t x = x0 + kx * p->dilation_w;
                            if (x < 0 || x >= p->input_w) {
                                continue;
                            }
                            const int32_t v = image[y * in_row + x * p->input_c + ic];
                            const int32_t w = p->filter[(ky * p->filter_w + kx) * output_c + oc];
                            acc += w * (v + p->input_offset);
                        }
                    }
                    if (p->bias != 0) {
                        acc += p->bias[oc];
                    }
                    acc = dt_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
                    acc += p->output_offset;
                    *output++ = (int8_t)dt_clamp_s32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
