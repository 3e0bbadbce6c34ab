/*
 * CONV_2D, int8 activations, int8 per-channel weights, int32 bias.
 *
 * Matches TFLM's reference_integer_ops::ConvPerChannel bit for bit, with the
 * parameters its Prepare derives (the generator computes them, see
 * drip_tiny/codegen/ops/conv_2d.py):
 *   acc  = bias[oc] + sum filter[oc][ky][kx][ic] * (input[y][x][ic] + input_offset)
 *          over taps inside the input (zero padding = skipped taps)
 *   out  = clamp(MBQM(acc, multiplier[oc], shift[oc]) + output_offset,
 *                act_min, act_max)
 * where MBQM is dt_multiply_by_quantized_multiplier (double rounding).
 */
#ifndef DT_CONV2D_S8_H
#define DT_CONV2D_S8_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;          /* top/left padding (TFLM's padding_values) */
    int32_t input_offset;          /* minus the input zero point, in [-127, 128] */
    int32_t output_offset;         /* the output zero point */
    int32_t act_min, act_max;      /* fused activation range, within [-128, 127] */
    const int8_t *filter;          /* [output_c][filter_h][filter_w][input_c] */
    const int32_t *bias;           /* [output_c], or NULL */
    const int32_t *multiplier;     /* [output_c], Q31 */
    const int32_t *shift;          /* [output_c], in [-31, 30], > 0 is a left shift */
} dt_conv2d_s8_params_t;

/*
 * @param[in]  p       parameters, usually a const struct in flash
 * @param[in]  input   [batches][input_h][input_w][input_c] (NHWC)
 * @param[out] output  [batches][output_h][output_w][output_c] (NHWC)
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_conv2d_s8(const dt_conv2d_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_CONV2D_S8_H */
