/* FULLY_CONNECTED int8. Refer to the header for the contract. */
#include "dt_fully_connected_s8.h"

#include "dt_fixedpoint.h"

void dt_fully_connected_s8(const dt_fully_connected_s8_params_t *p, const int8_t *input,
                           int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->accum_depth;
        for (int32_t o = 0; o < p->output_depth; ++o) {
            const int8_t *w = p->filter + o * p->accum_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->accum_depth; ++d) {
                acc += (int32_t)w[d] * ((int32_t)in[d] + p->input_offset);
            }
            if (p->bias != 0) {
                acc += p->bias[o];
            }
            acc = dt_multiply_by_quantized_multiplier(acc, p->multiplier[o], p->shift[o]);
            acc += p->output_offset;
            *output++ = (int8_t)dt_clamp_s32(acc, p->act_min, p->act_max);
        }
    }
}
