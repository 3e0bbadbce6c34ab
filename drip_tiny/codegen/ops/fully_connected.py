"""FULLY_CONNECTED: int8 input/output, int8 weights [units, depth], optional int32 bias.

Parameters as TFLM's CalculateOpDataFullyConnected: per-tensor weights use
GetQuantizedConvolutionMultipler (input_scale * filter_scale in float32, then / output_scale
in double); per-channel weights use the convolution derivation per unit. The input is
flattened to [batches, depth] whatever its rank (keepNumDims changes only the output shape).
"""

from __future__ import annotations

import numpy as np

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops._conv_common import check_bias_type_option
from drip_tiny.codegen.ops.base import CArray, In, Lowered, OpContext, Out, Value, size_of

OPS = ("FULLY_CONNECTED",)
# keepNumDims changes only the output shape; asymmetricQuantizeInputs only hybrid
# (float input) models, which are refused by the input type check.
OPTIONS = {"fusedActivationFunction", "weightsFormat", "keepNumDims",
           "asymmetricQuantizeInputs", "quantizedBiasType"}


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2, 3))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    if ctx.option("weightsFormat", 0) != 0:
        raise ctx.fail("only the DEFAULT weights format is supported (not shuffled)",
                       option="weightsFormat")
    check_bias_type_option(ctx)
    w = ctx.need_input(1)
    ctx.expect_type(w, "INT8")
    ctx.expect_rank(w, 2)
    if not w.is_constant:
        raise ctx.fail("the weights must be a constant tensor", tensor=w)
    units, depth = w.shape
    if size_of(x) % depth:
        raise ctx.fail(f"input of {size_of(x)} values is not a multiple of the weights' depth "
                       f"{depth}", tensor=x)
    batches = size_of(x) // depth
    if size_of(y) != batches * units:
        raise ctx.fail(f"output has {size_of(y)} values, expected {batches} x {units}", tensor=y)
    if any(z != 0 for z in w.zero_points):
        raise ctx.fail("the weights' zero point must be 0", tensor=w)
    bias = ctx.input(2)
    if bias is not None:
        ctx.expect_type(bias, "INT32")
        if bias.data is None or bias.data.size != units:  # None: not a constant
            raise ctx.fail(f"the bias must be a constant of {units} values", tensor=bias)
    if len(w.scales) > 1:
        if len(w.scales) != units or w.quantized_dimension != 0:
            raise ctx.fail(f"{len(w.scales)} scales along axis {w.quantized_dimension} do not "
                           f"match {units} units", tensor=w)
        multipliers, shifts = quant.conv_multipliers(x.scale, w.scales, y.scale, units)
    else:
        m, s = quant.fully_connected_multiplier(x.scale, w.scale, y.scale)
        multipliers, shifts = [m] * units, [s] * units
    act_min, act_max = ctx.activation_range()
    params: dict[str, Value] = {
        "batches": batches, "accum_depth": depth, "output_depth": units,
        "input_offset": -x.zero_point, "output_offset": y.zero_point,
        "act_min": act_min, "act_max": act_max,
        "filter": CArray("int8_t", np.asarray(w.data, dtype=np.int8)),
        "bias": None if bias is None else CArray("int32_t", np.asarray(bias.data, np.int32)),
        "multiplier": CArray("int32_t", np.asarray(multipliers, dtype=np.int64)),
        "shift": CArray("int32_t", np.asarray(shifts, dtype=np.int64)),
    }
    return Lowered(function="dt_fully_connected_s8", header="dt_fully_connected_s8.h",
                   params_type="dt_fully_connected_s8_params_t", params=params,
                   args=[In(0), Out(0)], macs=batches * units * depth)
