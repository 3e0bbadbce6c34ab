/* AVERAGE_POOL_2D int8. Refer to the header for the contract. */
#include "dt_avg_pool2d_s8.h"

#include "dt_fixedpoint.h"

void dt_avg_pool2d_s8(const dt_avg_pool2d_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_row = p->input_w * p->channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->input_h * in_row;
        for (int32_t oy = 0; oy < p->output_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky_start, ky_end;
            dt_pool2d_clip(y0, p->filter_h, p->input_h, &ky_start, &ky_end);
            for (int32_t ox = 0; ox < p->output_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t kx_start, kx_end;
                dt_pool2d_clip(x0, p->filter_w, p->input_w, &kx_start, &kx_end);
                /* The generator rejects geometries with an empty window
                 * (TFLM fails at run time there). */
                const int32_t count = (ky_end - ky_start) * (kx_end - kx_start);
                for (int32_t c = 0; c < p->channels; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ++ky) {
                        for (int32_t kx = kx_start; kx < kx_end; ++kx) {
                            sum += image[(y0 + ky) * in_row + (x0 + kx) * p->channels + c];
                        }
                    }
                    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = (int8_t)dt_clamp_s32(sum, p->act_min, p->act_max);
                }
            }
        }
    }
}
