/*
 * What MAX_POOL_2D and AVERAGE_POOL_2D share: their parameters and the clipping of a
 * window to the input (TFLM clips pooling windows instead of reading padding).
 */
#ifndef DT_POOL2D_COMMON_H
#define DT_POOL2D_COMMON_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, channels;
    int32_t output_h, output_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;          /* top/left padding */
    int32_t act_min, act_max;
} dt_pool2d_s8_params_t;

/* The filter taps [*start, *end) of a window starting at input position `origin` (may be
 * negative) that fall inside an input axis of `size`. */
static inline void dt_pool2d_clip(int32_t origin, int32_t filter, int32_t size,
                                  int32_t *start, int32_t *end)
{
    *start = origin < 0 ? -origin : 0;
    *end = filter < size - origin ? filter : size - origin;
}

#endif /* DT_POOL2D_COMMON_H */
