/*
 * int8 LOGISTIC (sigmoid), element-wise, bit-exact with TFLM's reference kernel
 * (tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h: gemmlowp fixed-point
 * logistic on a Q4 input, no lookup table).
 *
 * The output is quantized with scale 1/256 and zero point -128: output value q stands for
 * (q + 128) / 256. TFLM checks only the zero point; the kernel always produces 1/256 steps.
 *
 * All parameters come from drip_tiny/codegen/ops/logistic.py prepare(), which mirrors TFLM's
 * CalculateArithmeticOpDataLogistic; the kernel trusts them and checks nothing.
 */
#ifndef DT_LOGISTIC_S8_H
#define DT_LOGISTIC_S8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @param[in]  input               size int8 values, any layout (element-wise op).
 * @param[in]  size                number of elements, >= 0.
 * @param[in]  input_zero_point    zero point of the input, -128 .. 127.
 * @param[in]  input_range_radius  input - zero point <= -radius gives -128 and >= radius
 *                                 gives 127 without computing (sigmoid is within half a step
 *                                 of 0 or 1 there); >= 0. It is 0 for input scales of 8 and
 *                                 more: every input saturates, the zero point itself to
 *                                 -128, as in TFLM.
 * @param[in]  input_multiplier    Q31 multiplier of input_scale * 2^27, in [2^30, 2^31).
 * @param[in]  input_left_shift    its left shift, >= 1; at most 30 whenever the radius is
 *                                 above 0 (larger shifts come with radius 0 and are never
 *                                 applied).
 * @param[out] output              size int8 values. May be the same buffer as input;
 *                                 otherwise the buffers must not overlap.
 */
void dt_logistic_s8(const int8_t *input, int32_t size, int32_t input_zero_point,
                    int32_t input_range_radius, int32_t input_multiplier,
                    int32_t input_left_shift, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* DT_LOGISTIC_S8_H */
