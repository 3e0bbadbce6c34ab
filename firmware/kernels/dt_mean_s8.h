/*
 * MEAN, int8, over any set of axes of a tensor of up to 4 dimensions.
 *
 * Matches TFLM's int8 MEAN (reference_ops::QuantizedMeanOrSum with
 * compute_sum = false), which TFLM uses for every int8 MEAN:
 *   sum = sum of the n = count inputs reduced into one output (int32)
 *   out = clamp(MBQM(sum - input_zero_point * n, multiplier, shift)
 *               + output_zero_point, -128, 127)
 * where multiplier/shift already fold in 1/n the way TFLM does at run time
 * (multiplier = (M << s) / n, shift = S - s, s = min(floor(log2 n), 32, 31 + S)
 * for M, S = QuantizeMultiplier(input_scale / output_scale)). This is not
 * TFLite's MEAN rounding; see drip_tiny/codegen/ops/mean.py.
 */
#ifndef DT_MEAN_S8_H
#define DT_MEAN_S8_H

#include <stdint.h>

typedef struct {
    int32_t dims[4];               /* input shape, padded with leading 1s to 4 axes */
    uint8_t reduce[4];             /* 1 for the axes averaged over */
    int32_t count;                 /* product of the reduced dims */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} dt_mean_s8_params_t;

/*
 * @param[in]  input   dims[0] x dims[1] x dims[2] x dims[3], row-major
 * @param[out] output  the kept axes in their input order (keep_dims does not
 *                     change the layout).
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_mean_s8(const dt_mean_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_MEAN_S8_H */
