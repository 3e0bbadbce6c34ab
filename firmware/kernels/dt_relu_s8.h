/*
 * RELU, int8, as TFLM's standalone RELU (ReluQuantized), which also rescales from the
 * input's quantization to the output's:
 *   out = clamp(output_zero_point + MBQM(in - input_zero_point, multiplier, shift),
 *               act_min, 127)
 * with act_min = max(-128, output_zero_point). (A RELU fused into CONV_2D, ADD, ... is
 * the activation range of that op's kernel instead.)
 *
 * Element-wise: output may be the same buffer as input.
 */
#ifndef DT_RELU_S8_H
#define DT_RELU_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min;
} dt_relu_s8_params_t;

void dt_relu_s8(const dt_relu_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_RELU_S8_H */
