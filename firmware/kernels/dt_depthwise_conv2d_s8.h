/*
 * DEPTHWISE_CONV_2D, int8 activations, int8 per-channel weights, int32 bias.
 *
 * Matches TFLM's reference_integer_ops::DepthwiseConvPerChannel bit for bit.
 * Output channel oc = ic * depth_multiplier + m reads input channel ic:
 *   acc = bias[oc] + sum filter[ky][kx][oc] * (input[y][x][ic] + input_offset)
 *   out = clamp(MBQM(acc, multiplier[oc], shift[oc]) + output_offset, act_min, act_max)
 */
#ifndef DT_DEPTHWISE_CONV2D_S8_H
#define DT_DEPTHWISE_CONV2D_S8_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t output_h, output_w;
    int32_t depth_multiplier;      /* output_c = input_c * depth_multiplier */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t input_offset;          /* minus the input zero point */
    int32_t output_offset;         /* the output zero point */
    int32_t act_min, act_max;
    const int8_t *filter;          /* [1][filter_h][filter_w][output_c] */
    const int32_t *bias;           /* [output_c], or NULL */
    const int32_t *multiplier;     /* [output_c], Q31 */
    const int32_t *shift;          /* [output_c] */
} dt_depthwise_conv2d_s8_params_t;

/*
 * @param[in]  input   [batches][input_h][input_w][input_c]
 * @param[out] output  [batches][output_h][output_w][input_c * depth_multiplier]
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_depthwise_conv2d_s8(const dt_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                            int8_t *output);

#endif /* DT_DEPTHWISE_CONV2D_S8_H */
