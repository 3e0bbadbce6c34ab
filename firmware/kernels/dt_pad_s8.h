/*
 * PAD / PADV2, int8, constant padding, up to 4 dimensions. Matches TFLM's
 * reference_ops::Pad: the output is the input placed at offset `before` in a
 * box filled with pad_value (the output zero point for PAD, the constant
 * input for PADV2). Values are copied, not rescaled.
 */
#ifndef DT_PAD_S8_H
#define DT_PAD_S8_H

#include <stdint.h>

typedef struct {
    int32_t in_dims[4];            /* padded with leading 1s to 4 axes */
    int32_t out_dims[4];
    int32_t before[4];             /* padding before each axis */
    int32_t pad_value;
} dt_pad_s8_params_t;

/*
 * Aliasing: output may overlap input only from below, as drip_tiny/codegen/overlap.py
 * allows: the kernel writes output elements in increasing index order, each after all
 * reads it needs, so output may start D bytes before input when no later element reads
 * input byte (j - D) or above. Any other overlap is undefined. A faster variant of this
 * kernel must keep that write order (or overlap.py must learn its own).
 */
void dt_pad_s8(const dt_pad_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* DT_PAD_S8_H */
