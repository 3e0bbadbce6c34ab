/* PAD int8. Refer to the header for the contract. */
#include "dt_pad_s8.h"

static int inside(int32_t i, int32_t before, int32_t n)
{
    return i >= before && i < before + n;
}

void dt_pad_s8(const dt_pad_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t *in = p->in_dims;
    const int32_t *out = p->out_dims;
    const int32_t *b = p->before;
    for (int32_t i0 = 0; i0 < out[0]; ++i0) {
        for (int32_t i1 = 0; i1 < out[1]; ++i1) {
            for (int32_t i2 = 0; i2 < out[2]; ++i2) {
                const int row_inside = inside(i0, b[0], in[0]) && inside(i1, b[1], in[1])
                                       && inside(i2, b[2], in[2]);
                const int8_t *row = row_inside
                    ? input + (((i0 - b[0]) * in[1] + (i1 - b[1])) * in[2] + (i2 - b[2])) * in[3]
                    : input;
                for (int32_t i3 = 0; i3 < out[3]; ++i3) {
                    *output++ = (row_inside && inside(i3, b[3], in[3]))
                                    ? row[i3 - b[3]] : (int8_t)p->pad_value;
                }
            }
        }
    }
}
