/* DEPTHWISE_CONV_2D int8. Refer to the header for the contract. */
#include "dt_depthwise_conv2d_s8.h"

#include "dt_dsp.h"
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

/* With depth_multiplier 1, channels c..c+3 of one tap are 4 contiguous bytes in both input
 * and filter: acc[k] += sum over the rows x cols taps of w[k] * (in[k] + input_offset).
 * Integer sums are exact (or wrap identically), so the order does not matter. */
static inline void dt_depthwise_taps4(const int8_t *in, const int8_t *w, int32_t rows,
                                      int32_t cols, int32_t in_step_y, int32_t in_step_x,
                                      int32_t w_step_y, int32_t w_step_x, int32_t input_offset,
                                      int32_t acc[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#if defined(__ARM_FEATURE_DSP)
    /* Input + offset is within [-255, 255], so it fits the int16 halves. */
    const uint32_t off2 = dt_dup16(input_offset);
#endif
    for (int32_t r = 0; r < rows; ++r, in += in_step_y, w += w_step_y) {
        const int8_t *x_ptr = in;
        const int8_t *w_ptr = w;
        for (int32_t c = 0; c < cols; ++c, x_ptr += in_step_x, w_ptr += w_step_x) {
#if defined(__ARM_FEATURE_DSP)
            const uint32_t x = dt_load_u32(x_ptr);
            const uint32_t k = dt_load_u32(w_ptr);
            const uint32_t x02 = dt_sxtab16(off2, x);      /* channels 0, 2 */
            const uint32_t x13 = dt_sxtab16_ror8(off2, x); /* channels 1, 3 */
            const uint32_t k02 = dt_sxtb16(k);
            const uint32_t k13 = dt_sxtb16_ror8(k);
            a0 = dt_smlabb(x02, k02, a0);
            a2 = dt_smlatt(x02, k02, a2);
            a1 = dt_smlabb(x13, k13, a1);
            a3 = dt_smlatt(x13, k13, a3);
#else
            a0 += (int32_t)w_ptr[0] * ((int32_t)x_ptr[0] + input_offset);
            a1 += (int32_t)w_ptr[1] * ((int32_t)x_ptr[1] + input_offset);
            a2 += (int32_t)w_ptr[2] * ((int32_t)x_ptr[2] + input_offset);
            a3 += (int32_t)w_ptr[3] * ((int32_t)x_ptr[3] + input_offset);
#endif
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The per-channel requantization parameters, copied out of the params struct: output
 * stores are int8_t, which may alias anything, so fields read through p would be reloaded
 * after every output byte. */
typedef struct {
    const int32_t *bias, *multiplier, *shift;
    int32_t output_offset, act_min, act_max;
} dt_depthwise_requant_t;

static inline int8_t dt_depthwise_requantize(const dt_depthwise_requant_t *q, int32_t acc,
                                             int32_t oc)
{
    if (q->bias != 0) {
        acc += q->bias[oc];
    }
    acc = dt_multiply_by_quantized_multiplier(acc, q->multiplier[oc], q->shift[oc]);
    acc += q->output_offset;
    return (int8_t)dt_clamp_s32(acc, q->act_min, q->act_max);
}

void dt_depthwise_conv2d_s8(const dt_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                            int8_t *output)
{
    const dt_depthwise_requant_t q = {p->bias, p->multiplier, p->shift, p->output_offset,
                                      p->act_min, p->act_max};
    const int8_t *const filter = p->filter;
    const int32_t input_offset = p->input_offset;
    const int32_t in_c = p->input_c;
    const int32_t depth_multiplier = p->depth_multiplier;
    const int32_t output_c = in_c * depth_multiplier;
    const int32_t in_row = p->input_w * in_c;
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
                int32_t oc = 0;
                if (depth_multiplier == 1 && ky_end > ky_start && kx_end > kx_start) {
                    const int8_t *in = image + (y0 + ky_start * p->dilation_h) * in_row
                                       + (x0 + kx_start * p->dilation_w) * in_c;
                    const int8_t *w = filter + (ky_start * p->filter_w + kx_start) * output_c;
                    for (; oc + 4 <= output_c; oc += 4) {
                        int32_t acc[4];
                        dt_depthwise_taps4(in + oc, w + oc, ky_end - ky_start, kx_end - kx_start,
                                           p->dilation_h * in_row, p->dilation_w * in_c,
                                           p->filter_w * output_c, output_c, input_offset, acc);
                        /* Written in increasing index order, after all reads of this pixel's
                         * channels oc..oc+3. */
                        output[0] = dt_depthwise_requantize(&q, acc[0], oc);
                        output[1] = dt_depthwise_requantize(&q, acc[1], oc + 1);
                        output[2] = dt_depthwise_requantize(&q, acc[2], oc + 2);
                        output[3] = dt_depthwise_requantize(&q, acc[3], oc + 3);
                        output += 4;
                    }
                }
                /* Other depth multipliers and the channels left over: one at a time. */
                for (; oc < output_c; ++oc) {
                    const int32_t ic = oc / depth_multiplier;
                    int32_t acc = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        const int8_t *in = image + (y0 + ky * p->dilation_h) * in_row + ic;
                        const int8_t *w = filter + ky * p->filter_w * output_c + oc;
                        for (int32_t kx = kx_start; kx < kx_end; ++kx) {
                            const int32_t v = in[(x0 + kx * p->dilation_w) * in_c];
                            acc += (int32_t)w[kx * output_c] * (v + input_offset);
                        }
                    }
                    *output++ = dt_depthwise_requantize(&q, acc, oc);
                }
            }
        }
    }
}
