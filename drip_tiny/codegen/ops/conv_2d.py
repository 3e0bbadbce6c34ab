"""CONV_2D: int8 input/output, int8 per-channel (or per-tensor) filter, optional int32 bias.

Parameters as TFLM's conv Prepare (CalculateOpDataConv): per-channel multiplier and shift
from double(input_scale) * double(filter_scale[c]) / double(output_scale), the fused
activation range, SAME/VALID padding with dilation. Grouped convolutions (filter depth
smaller than the input depth) are refused.
"""

from __future__ import annotations

from drip_tiny.codegen.ops import _conv_common as common
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out

OPS = ("CONV_2D",)
# Every option this module reads or has checked to be harmless; any other option with a
# non-default value is refused by the registry.
OPTIONS = {"padding", "strideW", "strideH", "fusedActivationFunction", "dilationWFactor",
           "dilationHFactor", "quantizedBiasType"}


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2, 3))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    ctx.expect_rank(x, 4)
    w = ctx.need_input(1)
    ctx.expect_rank(w, 4)
    ctx.expect_rank(y, 4)
    batches, in_h, in_w, in_c = x.shape
    out_c, f_h, f_w, f_c = w.shape
    if f_c != in_c:
        raise ctx.fail(f"filter depth {f_c} differs from the input depth {in_c} (grouped "
                       "convolution is not supported)", tensor=w)
    if y.shape[0] != batches or y.shape[3] != out_c:
        raise ctx.fail(f"output shape does not match {out_c} filters", tensor=y)
    w, bias = common.check_filter_and_bias(ctx, out_c, quantized_dimension=0)
    geo = common.geometry(ctx, in_h, in_w, f_h, f_w, y.shape[1], y.shape[2])
    params = {
        "batches": batches, "input_h": in_h, "input_w": in_w, "input_c": in_c,
        "filter_h": f_h, "filter_w": f_w,
        "output_h": y.shape[1], "output_w": y.shape[2], "output_c": out_c,
        **geo, **common.common_params(ctx, out_c, w, bias),
    }
    macs = batches * y.shape[1] * y.shape[2] * out_c * f_h * f_w * in_c
    return Lowered(function="dt_conv2d_s8", header="dt_conv2d_s8.h",
                   params_type="dt_conv2d_s8_params_t", params=params,
                   args=[In(0), Out(0)], macs=macs)
