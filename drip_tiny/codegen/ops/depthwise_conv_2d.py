"""DEPTHWISE_CONV_2D: int8, per-channel filter [1, H, W, in_c * depth_multiplier].

Parameters as TFLM's CalculateOpDataDepthwiseConv (the same derivation as CONV_2D). The
depth multiplier option must agree with the tensor shapes (TFLM's kernel assumes it).
"""

from __future__ import annotations

from drip_tiny.codegen.ops import _conv_common as common
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out

OPS = ("DEPTHWISE_CONV_2D",)
OPTIONS = {"padding", "strideW", "strideH", "depthMultiplier", "fusedActivationFunction",
           "dilationWFactor", "dilationHFactor"}


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2, 3))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    w = ctx.need_input(1)
    for t in (x, w, y):
        ctx.expect_rank(t, 4)
    batches, in_h, in_w, in_c = x.shape
    _, f_h, f_w, out_c = w.shape
    multiplier = ctx.positive_option("depthMultiplier")
    if out_c != in_c * multiplier or w.shape[0] != 1:
        raise ctx.fail(f"filter {list(w.shape)} does not fit {in_c} input channels times "
                       f"depth multiplier {multiplier}", option="depthMultiplier", tensor=w)
    if y.shape[0] != batches or y.shape[3] != out_c:
        raise ctx.fail(f"output shape does not match {out_c} channels", tensor=y)
    w, bias = common.check_filter_and_bias(ctx, out_c, quantized_dimension=3)
    geo = common.geometry(ctx, in_h, in_w, f_h, f_w, y.shape[1], y.shape[2])
    params = {
        "batches": batches, "input_h": in_h, "input_w": in_w, "input_c": in_c,
        "filter_h": f_h, "filter_w": f_w, "output_h": y.shape[1], "output_w": y.shape[2],
        "depth_multiplier": multiplier,
        **geo, **common.common_params(ctx, out_c, w, bias),
    }
    macs = batches * y.shape[1] * y.shape[2] * out_c * f_h * f_w
    return Lowered(function="dt_depthwise_conv2d_s8", header="dt_depthwise_conv2d_s8.h",
                   params_type="dt_depthwise_conv2d_s8_params_t", params=params,
                   args=[In(0), Out(0)], macs=macs)
