/* RELU6 int8. Refer to the header for the contract. */
#include "dt_relu6_s8.h"

#include "dt_fixedpoint.h"

void dt_relu6_s8(const dt_relu6_s8_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)dt_clamp_s32(input[i], p->lower, p->upper);
    }
}
