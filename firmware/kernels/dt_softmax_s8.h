/*
 * int8 SOFTMAX over the last axis, bit-exact with TFLM's reference kernel for int8 input and
 * int8 output (tensorflow/lite/kernels/internal/reference/softmax.h, the gemmlowp fixed-point
 * path, which is what the tflite-micro interpreter runs; not a lookup table).
 *
 * The output is quantized with TFLM's required scale 1/256 and zero point -128: output
 * value q stands for probability (q + 128) / 256. The input zero point cancels out (only
 * differences to the row maximum are used), so it is not a parameter.
 *
 * All parameters come from drip_tiny/codegen/ops/softmax.py prepare(), which mirrors TFLM's
 * SoftmaxPrepare (PreprocessSoftmaxScaling and CalculateInputRadius with 5 integer bits for
 * the scaled difference); the kernel trusts them and checks nothing.
 */
#ifndef DT_SOFTMAX_S8_H
#define DT_SOFTMAX_S8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @param[in]  input             rows x depth int8 values, row-major: the softmax runs along
 *                               each row of depth contiguous values.
 * @param[in]  rows              number of rows (product of all but the last dimension), >= 0.
 * @param[in]  depth             row length (the last dimension), 1 .. 4095. Rows whose sum
 *                               of exponentials reaches 512 (at least 512 entries at or very
 *                               near the row maximum) make TFLM abort on a failed check;
 *                               this kernel then writes -128 for the row, the correctly
 *                               rounded result (every probability is below half an LSB).
 * @param[in]  input_multiplier  Q31 multiplier of beta * input_scale * 2^26, in [2^30, 2^31).
 * @param[in]  input_left_shift  its left shift, 1 .. 31.
 * @param[in]  diff_min          most negative difference (input - row max) whose exponential
 *                               is computed; smaller differences give -128. <= 0.
 * @param[out] output            rows x depth int8 values, same layout. May be the same
 *                               buffer as input (each output is written after its own input
 *                               is last read); otherwise the buffers must not overlap.
 */
void dt_softmax_s8(const int8_t *input, int32_t rows, int32_t depth, int32_t input_multiplier,
                   int32_t input_left_shift, int32_t diff_min, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* DT_SOFTMAX_S8_H */
