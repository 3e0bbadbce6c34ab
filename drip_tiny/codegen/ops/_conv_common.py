"""What CONV_2D and DEPTHWISE_CONV_2D share: TFLM's CalculateOpData{Conv,DepthwiseConv}."""

from __future__ import annotations

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import CArray, OpContext, Value
from drip_tiny.tflite.flatbuffer import TensorInfo


def check_filter_and_bias(ctx: OpContext, channels: int,
                          quantized_dimension: int) -> tuple[TensorInfo, TensorInfo | None]:
    """The int8 filter and optional int32 bias; per-channel scales along the output channels."""
    w = ctx.need_input(1)
    ctx.expect_type(w, "INT8")
    if not w.is_constant:
        raise ctx.fail("the filter must be a constant tensor", tensor=w)
    if len(w.scales) not in (1, channels):
        raise ctx.fail(f"the filter has {len(w.scales)} scales for {channels} output channels",
                       tensor=w)
    if len(w.scales) > 1 and w.quantized_dimension != quantized_dimension:
        raise ctx.fail(f"per-channel scales along axis {w.quantized_dimension}; TFLM expects "
                       f"axis {quantized_dimension}", tensor=w)
    if any(z != 0 for z in w.zero_points):
        raise ctx.fail("the filter zero point must be 0 (symmetric int8 weights)", tensor=w)
    check_bias_type_option(ctx)
    bias = ctx.input(2)
    if bias is not None:
        ctx.expect_type(bias, "INT32")
        if bias.data is None or bias.data.size != channels:  # None: not a constant
            raise ctx.fail(f"the bias must be a constant of {channels} values", tensor=bias)
    return w, bias


def common_params(ctx: OpContext, channels: int, w: TensorInfo,
                  bias: TensorInfo | None) -> dict[str, Value]:
    x, y = ctx.need_input(0), ctx.output()
    multipliers, shifts = quant.conv_multipliers(x.scale, w.scales, y.scale, channels)
    act_min, act_max = ctx.activation_range()
    return {
        "input_offset": -x.zero_point,
        "output_offset": y.zero_point,
        "act_min": act_min,
        "act_max": act_max,
        "filter": CArray("int8_t", np.asarray(w.data, dtype=np.int8)),
        "bias": None if bias is None else CArray("int32_t", np.asarray(bias.data, np.int32)),
        "multiplier": CArray("int32_t", np.asarray(multipliers, dtype=np.int64)),
        "shift": CArray("int32_t", np.asarray(shifts, dtype=np.int64)),
    }


def geometry(ctx: OpContext, in_h: int, in_w: int, f_h: int, f_w: int, out_h: int,
             out_w: int) -> dict[str, int]:
    """Strides, dilations and padding, checked against the output shape the model declares."""
    stride_h, stride_w = ctx.positive_option("strideH"), ctx.positive_option("strideW")
    dil_h = ctx.positive_option("dilationHFactor")
    dil_w = ctx.positive_option("dilationWFactor")
    pad = ctx.padding_name()
    oh, pad_h = quant.padding(pad, in_h, f_h, stride_h, dil_h)
    ow, pad_w = quant.padding(pad, in_w, f_w, stride_w, dil_w)
    if (oh, ow) != (out_h, out_w):
        raise ctx.fail(f"output is {out_h}x{out_w} but {pad} padding with stride "
                       f"{stride_h}x{stride_w} and dilation {dil_h}x{dil_w} gives {oh}x{ow}",
                       tensor=ctx.output())
    return {"stride_h": stride_h, "stride_w": stride_w, "dilation_h": dil_h,
            "dilation_w": dil_w, "pad_h": pad_h, "pad_w": pad_w}


def check_bias_type_option(ctx: OpContext) -> None:
    """quantizedBiasType: 0 (unset) or INT32; an int64 bias is for int16 activations."""
    value = ctx.option("quantizedBiasType", 0)
    if value not in (0, schema.TensorType.INT32):
        raise ctx.fail(f"bias type {value} is not supported (int32 only)",
                       option="quantizedBiasType")
