/*
 * ADD, int8, with TFLM's rescaling (reference_integer_ops::AddFunc) bit for bit:
 *   a   = MBQM((in1 + input1_offset) << left_shift, input1_multiplier, input1_shift)
 *   b   = MBQM((in2 + input2_offset) << left_shift, input2_multiplier, input2_shift)
 *   out = clamp(MBQM(a + b, output_multiplier, output_shift) + output_offset,
 *               act_min, act_max)
 * left_shift is 20 for int8; all three shifts are <= 0 (right shifts).
 *
 * Broadcasting: the output is walked as a 4D box out_dims; input k is read at
 * sum(index[i] * in_k_strides[i]) with stride 0 along broadcast axes. When
 * both strides describe the output layout exactly (no broadcast), the kernel
 * may be called with `size` elements and is then element-wise.
 *
 * Aliasing: output may be the same buffer as input1 or input2 (each element
 * is read before it is written) only when that input is not broadcast.
 */
#ifndef DT_ADD_S8_H
#define DT_ADD_S8_H

#include <stdint.h>

typedef struct {
    int32_t broadcast;             /* 0: element-wise over `size`; 1: use dims/strides */
    int32_t size;
    int32_t out_dims[4];
    int32_t in1_strides[4];
    int32_t in2_strides[4];
    int32_t left_shift;
    int32_t input1_offset, input2_offset;   /* minus the zero points */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} dt_add_s8_params_t;

void dt_add_s8(const dt_add_s8_params_t *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

#endif /* DT_ADD_S8_H */
