/*
 * MAX_POOL_2D, int8. Matches TFLM's reference_integer_ops::MaxPool bit for bit:
 * each output is the largest input in the window (windows are clipped to the input), clamped to [act_min, act_max].
 * TFLM requires the input and output quantization to be equal, so values are
 * not rescaled.
 */
#ifndef DT_MAX_POOL2D_S8_H
#define DT_MAX_POOL2D_S8_H

#include <stdint.h>

#include "dt_pool2d_common.h"

/* The parameters both poolings share (dt_pool2d_common.h). */
typedef dt_pool2d_s8_params_t dt_max_pool2d_s8_params_t;

/*
 * @param[in]  input   [batches][input_h][input_w][channels]
 * @param[out] output  [batches][output_h][output_w][channels].
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_max_pool2d_s8(const dt_max_pool2d_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_MAX_POOL2D_S8_H */
