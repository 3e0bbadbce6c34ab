/* DEQUANTIZE int8 -> float32. Refer to the header for the contract. */
#include "dt_dequantize_s8.h"

void dt_dequantize_s8(const dt_dequantize_s8_params_t *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
