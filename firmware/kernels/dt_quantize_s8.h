/*
 * QUANTIZE to int8, the two forms TFLM runs at a model's edges:
 *
 * dt_quantize_s8:   float32 -> int8, TFLM's AffineQuantize:
 *                   out = clamp(round(in / scale) + zero_point, -128, 127)
 *                   with a float32 division and round half away from zero.
 * dt_requantize_s8: int8 -> int8, TFLM's Requantize:
 *                   out = clamp(MBQM(in - input_zero_point, multiplier, shift)
 *                               + output_zero_point, -128, 127)
 *
 * Both are element-wise; dt_requantize_s8 may run in place (output == input).
 */
#ifndef DT_QUANTIZE_S8_H
#define DT_QUANTIZE_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} dt_quantize_s8_params_t;

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} dt_requantize_s8_params_t;

void dt_quantize_s8(const dt_quantize_s8_params_t *p, const float *input, int8_t *output);
void dt_requantize_s8(const dt_requantize_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_QUANTIZE_S8_H */
