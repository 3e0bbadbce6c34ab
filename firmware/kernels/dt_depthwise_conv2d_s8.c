/* DEPTHWISE_CONV_2D int8. Refer to the header for the contract. */
#include "dt_depthwise_conv2d_s8.h"

#include "dt_fixedpoint.h"

/* Taps k in [*start, *end) of a window at `origin` with step `dilation` inside [0, size). */
static void dt_depthwise_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                   int32_t *start, int32_t *end)
{
    int32_t first = 0;
    if (origin < 0) {
        first = (-origin + dilation - 1) / dilation;
    }
    int32_t last = 0;
    if (size - origin > 0) {
        last = (size - origin + dilation - 1) / dilation;
    }
    *start = first;
    *end = last < taps ? last : taps;
}

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
            int32_t ky_start, ky_end;
            dt_depthwise_tap_range(y0, p->dilation_h, p->filter_h, p->input_h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t kx_start, kx_end;
                dt_depthwise_tap_range(x0, p->dilation_w, p->filter_w, p->input_w, &kx_start,
                                       &kx_end);
                for (int32_t oc = 0; oc < output_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    int32_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        const int8_t *in = image + (y0 + ky * p->dilation_h) * in_row + ic;
                        const int8_t *w = p->filter + ky * p->filter_w * output_c + oc;
                        for (int32_t kx = kx_start; kx < kx_end; ++kx) {
                            const int32_t v = in[(x0 + kx * p->dilation_w) * p->input_c];
                            acc += (int32_t)w[kx * output_c] * (v + p->input_offset);
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
