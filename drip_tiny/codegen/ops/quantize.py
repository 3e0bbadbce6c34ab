"""QUANTIZE to int8: float32 -> int8 at a model's input edge (AffineQuantize), or int8 ->
int8 requantization (QuantizeMultiplier(input_scale / output_scale), PrepareQuantizeReference)."""

from __future__ import annotations

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, size_of

OPS = ("QUANTIZE",)
OPTIONS: set[str] = set()


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((1,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_type(x, "FLOAT32", "INT8")
    ctx.expect_type(y, "INT8")
    if len(y.scales) != 1:
        raise ctx.fail("needs a per-tensor output scale", tensor=y)
    if x.is_constant:
        raise ctx.fail("a constant input is not supported", tensor=x)
    if x.dtype == "FLOAT32":
        params = {"size": size_of(y), "scale": y.scale, "zero_point": y.zero_point}
        return Lowered(function="dt_quantize_s8", header="dt_quantize_s8.h",
                       params_type="dt_quantize_s8_params_t", params=params,
                       args=[In(0), Out(0)])
    if len(x.scales) != 1:
        raise ctx.fail("needs a per-tensor input scale", tensor=x)
    multiplier, shift = quant.quantize_multiplier(x.scale / y.scale)
    params = {"size": size_of(y), "input_zero_point": x.zero_point,
              "output_zero_point": y.zero_point, "multiplier": multiplier, "shift": shift}
    return Lowered(function="dt_requantize_s8", header="dt_quantize_s8.h",
                   params_type="dt_requantize_s8_params_t", params=params,
                   args=[In(0), Out(0)], inplace=(0,))
