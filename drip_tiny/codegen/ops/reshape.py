"""RESHAPE, EXPAND_DIMS, SQUEEZE: the output is the input's bytes under another shape, so
no code is emitted and the memory planner gives both tensors one buffer (TFLM copies)."""

from __future__ import annotations

from drip_tiny.codegen.ops.base import Lowered, OpContext, size_of

OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
OPTIONS = {"newShape", "squeezeDims"}  # the output shape is read from the output tensor


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((1, 2))
    x, y = ctx.need_input(0), ctx.output()
    if x.dtype != y.dtype:
        raise ctx.fail(f"changes the type {x.dtype} to {y.dtype}", tensor=y)
    if size_of(x) != size_of(y):
        raise ctx.fail(f"changes the element count {size_of(x)} to {size_of(y)}", tensor=y)
    if x.dtype == "INT8" and (x.scales != y.scales or x.zero_points != y.zero_points):
        # TFLM copies the bytes and so ignores this; say so rather than guess.
        raise ctx.fail("input and output quantization differ; a reshape cannot rescale",
                       tensor=y)
    return Lowered(alias=0)
