/*
 * DEQUANTIZE int8 -> float32, TFLM's Dequantize:
 *   out = (float)((double)scale * (in - zero_point))
 * computed here as a float32 product, which rounds the same exact value once
 * (a float32 scale times an integer of 9 bits is exact in double), so no
 * double arithmetic is needed on the FPU-single Cortex-M4F.
 */
#ifndef DT_DEQUANTIZE_S8_H
#define DT_DEQUANTIZE_S8_H

#include <stdint.h>

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} dt_dequantize_s8_params_t;

/* output must not overlap input. */
void dt_dequantize_s8(const dt_dequantize_s8_params_t *p, const int8_t *input, float *output);

#endif /* DT_DEQUANTIZE_S8_H */
