"""PAD and PADV2, int8, constant int32 paddings, rank <= 4 (TFLM's PadPrepare): the pad
value is the output zero point (PAD) or the int8 constant (PADV2)."""

from __future__ import annotations

from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, Value, pad4

OPS = ("PAD", "PADV2")
OPTIONS: set[str] = set()


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2, 3) if ctx.name == "PADV2" else (2,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    ctx.expect_rank(x, 1, 2, 3, 4)
    paddings = ctx.constant(1, "INT32").reshape(-1, 2)
    rank = len(x.shape)
    if paddings.shape[0] != rank or (paddings < 0).any():
        raise ctx.fail(f"paddings {paddings.tolist()} do not fit rank {rank}",
                       tensor=ctx.input(1))
    expected = [int(d + lo + hi) for d, (lo, hi) in zip(x.shape, paddings)]
    if expected != list(y.shape):
        raise ctx.fail(f"output should be {expected}", tensor=y)
    pad_value = y.zero_point
    if ctx.input(2) is not None:
        value = ctx.constant(2, "INT8").reshape(-1)
        if value.size != 1:
            raise ctx.fail("the constant value must be a scalar", tensor=ctx.input(2))
        pad_value = int(value[0])
    if not -128 <= pad_value <= 127:
        raise ctx.fail(f"pad value {pad_value} is not int8", tensor=y)
    before = [0] * (4 - rank) + [int(lo) for lo, _ in paddings]
    params: dict[str, Value] = {"in_dims": pad4(x.shape), "out_dims": pad4(y.shape),
                                "before": before,
              "pad_value": pad_value}
    return Lowered(function="dt_pad_s8", header="dt_pad_s8.h", params_type="dt_pad_s8_params_t",
                   params=params, args=[In(0), Out(0)])
