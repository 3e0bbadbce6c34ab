"""What MAX_POOL_2D and AVERAGE_POOL_2D share: TFLM's PoolingPrepare."""

from __future__ import annotations

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out


def lower_pool(ctx: OpContext, kind: str) -> Lowered:
    ctx.expect_counts((1,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    ctx.expect_rank(x, 4)
    ctx.expect_rank(y, 4)
    ctx.expect_same_quantization(x, y)
    batches, in_h, in_w, channels = x.shape
    f_h, f_w = ctx.positive_option("filterHeight"), ctx.positive_option("filterWidth")
    s_h, s_w = ctx.positive_option("strideH"), ctx.positive_option("strideW")
    pad = ctx.padding_name()
    out_h, pad_h = quant.padding(pad, in_h, f_h, s_h)
    out_w, pad_w = quant.padding(pad, in_w, f_w, s_w)
    if (batches, out_h, out_w, channels) != tuple(y.shape):
        raise ctx.fail(f"output should be {[batches, out_h, out_w, channels]} for {pad} "
                       f"padding, filter {f_h}x{f_w}, stride {s_h}x{s_w}", tensor=y)
    # TFLM's average pool fails at run time on a window that misses the input entirely.
    for out, stride, p, f, size in ((out_h, s_h, pad_h, f_h, in_h), (out_w, s_w, pad_w, f_w, in_w)):
        for o in range(out):
            start = o * stride - p
            if min(f, size - start) <= max(0, -start):
                raise ctx.fail("a pooling window lies entirely in the padding")
    act_min, act_max = ctx.activation_range()
    params = {"batches": batches, "input_h": in_h, "input_w": in_w, "channels": channels,
              "output_h": out_h, "output_w": out_w, "filter_h": f_h, "filter_w": f_w,
              "stride_h": s_h, "stride_w": s_w, "pad_h": pad_h, "pad_w": pad_w,
              "act_min": act_min, "act_max": act_max}
    name = f"dt_{kind}_pool2d_s8"
    return Lowered(function=name, header=f"{name}.h", params_type=f"{name}_params_t",
                   params=params, args=[In(0), Out(0)])
