/* CONV_2D int8. Refer to the header for the contract. */
#include "dt_conv2d_s8.h"

#include "dt_fixedpoint.h"

/* Taps k in [*start, *end) of a window starting at `origin` with step `dilation` that land
 * inside [0, size): the skipped taps are TFLM's zero padding. */
static void dt_conv2d_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                int32_t *start, int32_t *end)
{
    int32_t first = 0;
    if (origin < 0) {
        first = (-origin + dilation - 1) / dilation;
    }
    int32_t last = 0; /* one past the last tap inside */
    if (size - origin > 0) {
        last = (size - origin + dilation - 1) / dilation;
    }
    *start = first;
    *end = last < taps ? last : taps;
}

void dt_conv2d_s8(const dt_conv2d_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_row = p->input_w * p->input_c;
    const int32_t in_image = p->input_h * in_row;
    const int32_t filter_row = p->filter_w * p->input_c;
    const int32_t filter_size = p->filter_h * filter_row;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * in_image;
        for (int32_t oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky_start, ky_end;
            dt_conv2d_tap_range(y0, p->dilation_h, p->filter_h, p->input_h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t kx_start, kx_end;
                dt_conv2d_tap_range(x0, p->dilation_w, p->filter_w, p->input_w, &kx_start, &kx_end);
                for (int32_t oc = 0; oc < p->output_c; ++oc) {
                    const int8_t *f = p->filter + oc * filter_size;
                    int32_t acc = 0;
                    /* Integer sums are exact (or wrap identically), so the tap order does
                     * not change the result. */
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        const int8_t *in_row_ptr = image + (y0 + ky * p->dilation_h) * in_row;
                        const int8_t *w_row = f + ky * filter_row;
                        for (int32_t kx = kx_start; kx < kx_end; ++kx) {
                            const int8_t *in = in_row_ptr + (x0 + kx * p->dilation_w) * p->input_c;
                            const int8_t *w = w_row + kx * p->input_c;
                            for (int32_t ic = 0; ic < p->input_c; ++ic) {
                                acc += (int32_t)w[ic] * ((int32_t)in[ic] + p->input_offset);
                            }
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
