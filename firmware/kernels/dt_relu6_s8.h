/*
 * RELU6, int8, as TFLM's standalone RELU6 (Relu6Quantized): a clamp of the raw values to
 * [lower, upper] = [input zero point, the input's quantized 6.0]. TFLM does not rescale to
 * the output's quantization here, even when it differs from the input's, and neither do
 * we: bit-exact with TFLM, not with TFLite (which rescales).
 *
 * Element-wise: output may be the same buffer as input.
 */
#ifndef DT_RELU6_S8_H
#define DT_RELU6_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t lower;
    int32_t upper;
} dt_relu6_s8_params_t;

void dt_relu6_s8(const dt_relu6_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_RELU6_S8_H */
