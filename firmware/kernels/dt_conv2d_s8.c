/* CONV_2D int8. Refer to the header for the contract. */
#include "dt_conv2d_s8.h"

#include "dt_dsp.h"
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

#if defined(__ARM_FEATURE_DSP)
/* 4 input bytes at in (plus the offset, in off2's halves) times 4 filter bytes at w,
 * w + w_stride, ... added to *a0..*a3, two MACs per SMLAD. */
static inline void dt_conv2d_word4(const int8_t *in, const int8_t *w, int32_t w_stride,
                                   uint32_t off2, int32_t *a0, int32_t *a1, int32_t *a2,
                                   int32_t *a3)
{
    const uint32_t x = dt_load_u32(in);
    const uint32_t x02 = dt_sxtab16(off2, x);      /* bytes 0, 2 plus the offset */
    const uint32_t x13 = dt_sxtab16_ror8(off2, x); /* bytes 1, 3 plus the offset */
    uint32_t k = dt_load_u32(w);
    *a0 = dt_smlad(x13, dt_sxtb16_ror8(k), dt_smlad(x02, dt_sxtb16(k), *a0));
    w += w_stride;
    k = dt_load_u32(w);
    *a1 = dt_smlad(x13, dt_sxtb16_ror8(k), dt_smlad(x02, dt_sxtb16(k), *a1));
    w += w_stride;
    k = dt_load_u32(w);
    *a2 = dt_smlad(x13, dt_sxtb16_ror8(k), dt_smlad(x02, dt_sxtb16(k), *a2));
    w += w_stride;
    k = dt_load_u32(w);
    *a3 = dt_smlad(x13, dt_sxtb16_ror8(k), dt_smlad(x02, dt_sxtb16(k), *a3));
}
#endif

/* acc[k] += sum over i < n of w[k * w_stride + i] * (in[i] + input_offset), k = 0..3: four
 * output channels share each input load. Integer sums are exact (or wrap identically), so
 * the DSP path's pairwise order gives the plain loop's int32. */
/* Always inlined: with two callers gcc would otherwise call it, for every filter row. */
__attribute__((always_inline)) static inline void dt_conv2d_dot4(const int8_t *in,
                                                                 const int8_t *w,
                                                                 int32_t w_stride, int32_t n,
                                                                 int32_t input_offset,
                                                                 int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if defined(__ARM_FEATURE_DSP)
    /* Input + offset is within [-255, 255], so it fits the int16 halves. */
    const uint32_t off2 = dt_dup16(input_offset);
    /* Two words per iteration halve the loop overhead; a last single word after. */
    for (; n >= 8; n -= 8, in += 8, w += 8) {
        dt_conv2d_word4(in, w, w_stride, off2, &a0, &a1, &a2, &a3);
        dt_conv2d_word4(in + 4, w + 4, w_stride, off2, &a0, &a1, &a2, &a3);
    }
    if (n >= 4) {
        dt_conv2d_word4(in, w, w_stride, off2, &a0, &a1, &a2, &a3);
        n -= 4;
        in += 4;
        w += 4;
    }
#endif
    for (; n > 0; --n, ++in, ++w) {
        const int32_t v = (int32_t)*in + input_offset;
        a0 += (int32_t)w[0] * v;
        a1 += (int32_t)w[w_stride] * v;
        a2 += (int32_t)w[2 * w_stride] * v;
        a3 += (int32_t)w[3 * w_stride] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* One output channel's share of dt_conv2d_dot4, for the channels left over. */
static inline int32_t dt_conv2d_dot1(const int8_t *in, const int8_t *w, int32_t n,
                                     int32_t input_offset, int32_t acc)
{
#if defined(__ARM_FEATURE_DSP)
    const uint32_t off2 = dt_dup16(input_offset);
    for (; n >= 4; n -= 4, in += 4, w += 4) {
        const uint32_t x = dt_load_u32(in);
        const uint32_t k = dt_load_u32(w);
        acc = dt_smlad(dt_sxtab16(off2, x), dt_sxtb16(k), acc);
        acc = dt_smlad(dt_sxtab16_ror8(off2, x), dt_sxtb16_ror8(k), acc);
    }
#endif
    for (; n > 0; --n, ++in, ++w) {
        acc += (int32_t)*w * ((int32_t)*in + input_offset);
    }
    return acc;
}

/* The per-channel requantization parameters, copied out of the params struct: output
 * stores are int8_t, which may alias anything, so fields read through p would be reloaded
 * after every output byte. */
typedef struct {
    const int32_t *bias, *multiplier, *shift;
    int32_t output_offset, act_min, act_max;
} dt_conv2d_requant_t;

static inline int8_t dt_conv2d_requantize(const dt_conv2d_requant_t *q, int32_t acc, int32_t oc)
{
    if (q->bias != 0) {
        acc += q->bias[oc];
    }
    acc = dt_multiply_by_quantized_multiplier(acc, q->multiplier[oc], q->shift[oc]);
    acc += q->output_offset;
    return (int8_t)dt_clamp_s32(acc, q->act_min, q->act_max);
}

/* 1x1 filters without padding (pointwise convolutions): each output pixel is one run of
 * input_c bytes, so the general loop's window bookkeeping is skipped. Not inlined: sharing
 * one function with the general loop costs both loops registers. */
__attribute__((noinline)) static void dt_conv2d_1x1(const dt_conv2d_s8_params_t *p,
                                                    const int8_t *input, int8_t *output)
{
    const dt_conv2d_requant_t q = {p->bias, p->multiplier, p->shift, p->output_offset,
                                   p->act_min, p->act_max};
    const int8_t *const filter = p->filter;
    const int32_t input_offset = p->input_offset;
    const int32_t output_c = p->output_c;
    const int32_t in_c = p->input_c;
    const int32_t step_x = p->stride_w * in_c;
    const int32_t step_y = p->stride_h * p->input_w * in_c;
    const int32_t in_image = p->input_h * p->input_w * in_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->output_h; ++oy) {
            const int8_t *in = input + b * in_image + oy * step_y;
            for (int32_t ox = 0; ox < p->output_w; ++ox, in += step_x) {
                int32_t oc = 0;
                for (; oc + 4 <= output_c; oc += 4) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    dt_conv2d_dot4(in, filter + oc * in_c, in_c, in_c, input_offset, acc);
                    /* Written in increasing index order, after all reads of this pixel. */
                    output[0] = dt_conv2d_requantize(&q, acc[0], oc);
                    output[1] = dt_conv2d_requantize(&q, acc[1], oc + 1);
                    output[2] = dt_conv2d_requantize(&q, acc[2], oc + 2);
                    output[3] = dt_conv2d_requantize(&q, acc[3], oc + 3);
                    output += 4;
                }
                for (; oc < output_c; ++oc) {
                    const int32_t acc = dt_conv2d_dot1(in, filter + oc * in_c, in_c,
                                                       input_offset, 0);
                    *output++ = dt_conv2d_requantize(&q, acc, oc);
                }
            }
        }
    }
}

void dt_conv2d_s8(const dt_conv2d_s8_params_t *p, const int8_t *input, int8_t *output)
{
    if (p->filter_h == 1 && p->filter_w == 1 && p->pad_h == 0 && p->pad_w == 0) {
        dt_conv2d_1x1(p, input, output);
        return;
    }
    const dt_conv2d_requant_t q = {p->bias, p->multiplier, p->shift, p->output_offset,
                                   p->act_min, p->act_max};
    const int8_t *const filter = p->filter;
    const int32_t input_offset = p->input_offset;
    const int32_t output_c = p->output_c;
    const int32_t in_c = p->input_c;
    const int32_t in_row = p->input_w * in_c;
    const int32_t in_image = p->input_h * in_row;
    const int32_t filter_row = p->filter_w * in_c;
    const int32_t filter_size = p->filter_h * filter_row;
    const int32_t in_step_y = p->dilation_h * in_row;
    const int32_t in_step_x = p->dilation_w * in_c;
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
                /* A filter row's taps inside the image are runs of input_c bytes; without
                 * horizontal dilation they join into one run in both input and filter. */
                const int32_t taps = kx_end > kx_start ? kx_end - kx_start : 0;
                const int32_t runs = p->dilation_w == 1 ? (taps > 0) : taps;
                const int32_t run_len = p->dilation_w == 1 ? taps * in_c : in_c;
                const int8_t *in_first = image + (y0 + ky_start * p->dilation_h) * in_row
                                         + (x0 + kx_start * p->dilation_w) * in_c;
                const int32_t f_first = ky_start * filter_row + kx_start * in_c;
                int32_t oc = 0;
                for (; oc + 4 <= output_c; oc += 4) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    const int8_t *in = in_first;
                    const int8_t *f = filter + oc * filter_size + f_first;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        for (int32_t r = 0; r < runs; ++r) {
                            dt_conv2d_dot4(in + r * in_step_x, f + r * in_c, filter_size, run_len,
                                           input_offset, acc);
                        }
                        in += in_step_y;
                        f += filter_row;
                    }
                    /* Written in increasing index order, after all reads of this pixel. */
                    output[0] = dt_conv2d_requantize(&q, acc[0], oc);
                    output[1] = dt_conv2d_requantize(&q, acc[1], oc + 1);
                    output[2] = dt_conv2d_requantize(&q, acc[2], oc + 2);
                    output[3] = dt_conv2d_requantize(&q, acc[3], oc + 3);
                    output += 4;
                }
                for (; oc < output_c; ++oc) {
                    int32_t acc = 0;
                    const int8_t *in = in_first;
                    const int8_t *f = filter + oc * filter_size + f_first;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        for (int32_t r = 0; r < runs; ++r) {
                            acc = dt_conv2d_dot1(in + r * in_step_x, f + r * in_c, run_len,
                                                 input_offset, acc);
                        }
                        in += in_step_y;
                        f += filter_row;
                    }
                    *output++ = dt_conv2d_requantize(&q, acc, oc);
                }
            }
        }
    }
}
