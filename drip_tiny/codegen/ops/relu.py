"""Standalone RELU and RELU6, int8, as TFLM's activations kernels (not the fused forms).

RELU (CalculateReluOpData) requantizes: multiplier from input_scale / output_scale divided
in float32, then clamps to [max(-128, output zero point), 127]. RELU6 (Relu6Prepare) clamps
the raw input to [input zero point, input zero point + round(6 / input_scale)] and does not
rescale to the output's quantization, even when the converter gave the output another one
(it does: a Keras ReLU(6) after MEAN). TFLite would rescale; we follow TFLM, our reference,
and say so in docs/codegen.md.
"""

from __future__ import annotations

import numpy as np

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, size_of

OPS = ("RELU", "RELU6")
OPTIONS: set[str] = set()


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((1,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    if len(y.scales) != 1:
        raise ctx.fail("needs a per-tensor output scale", tensor=y)
    if size_of(x) != size_of(y):
        raise ctx.fail("input and output sizes differ", tensor=y)
    if ctx.name == "RELU6":
        six = x.zero_point + quant.round_half_away(float(np.float32(6.0) / np.float32(x.scale)))
        params = {"size": size_of(x), "lower": x.zero_point, "upper": min(127, max(-128, six))}
        return Lowered(function="dt_relu6_s8", header="dt_relu6_s8.h",
                       params_type="dt_relu6_s8_params_t", params=params,
                       args=[In(0), Out(0)], inplace=(0,))
    multiplier, shift = quant.quantize_multiplier(
        float(np.float32(x.scale) / np.float32(y.scale)))
    params = {"size": size_of(x), "input_zero_point": x.zero_point,
              "output_zero_point": y.zero_point, "multiplier": multiplier, "shift": shift,
              "act_min": max(-128, y.zero_point)}
    return Lowered(function="dt_relu_s8", header="dt_relu_s8.h",
                   params_type="dt_relu_s8_params_t", params=params, args=[In(0), Out(0)],
                   inplace=(0,))
