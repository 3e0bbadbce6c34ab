"""DEQUANTIZE int8 -> float32 at a model's output edge: scale * (q - zero_point)."""

from __future__ import annotations

from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, size_of

OPS = ("DEQUANTIZE",)
OPTIONS: set[str] = set()


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((1,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "FLOAT32")
    params = {"size": size_of(x), "scale": x.scale, "zero_point": x.zero_point}
    return Lowered(function="dt_dequantize_s8", header="dt_dequantize_s8.h",
                   params_type="dt_dequantize_s8_params_t", params=params,
                   args=[In(0), Out(0)])
