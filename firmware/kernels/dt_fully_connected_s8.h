/*
 * FULLY_CONNECTED, int8 activations, int8 weights (per-tensor or per-channel),
 * int32 bias. Matches TFLM's reference_integer_ops::FullyConnected and
 * FullyConnectedPerChannel (the multiplier form) bit for bit; a per-tensor
 * layer passes the same multiplier and shift for every output unit.
 *   acc = bias[o] + sum_d filter[o][d] * (input[b][d] + input_offset)
 *   out = clamp(MBQM(acc, multiplier[o], shift[o]) + output_offset, act_min, act_max)
 * TFLM requires the weights' zero point to be 0, so there is no filter offset.
 */
#ifndef DT_FULLY_CONNECTED_S8_H
#define DT_FULLY_CONNECTED_S8_H

#include <stdint.h>

typedef struct {
    int32_t batches;               /* input elements / accum_depth */
    int32_t accum_depth;
    int32_t output_depth;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
    const int8_t *filter;          /* [output_depth][accum_depth] */
    const int32_t *bias;           /* [output_depth], or NULL */
    const int32_t *multiplier;     /* [output_depth] */
    const int32_t *shift;          /* [output_depth] */
} dt_fully_connected_s8_params_t;

/*
 * @param[in]  input   [batches][accum_depth]
 * @param[out] output  [batches][output_depth].
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_fully_connected_s8(const dt_fully_connected_s8_params_t *p, const int8_t *input,
                           int8_t *output);

#endif /* DT_FULLY_CONNECTED_S8_H */
