"""ADD, int8, with TFLM's rescaling (CalculateOpDataAdd): both inputs are shifted left by
20 bits and scaled by s_k / (2 max(s1, s2)), the sum by 2 max(s1, s2) / (2^20 s_out), each
multiplier from QuantizeMultiplierSmallerThanOneExp. Broadcasting follows TFLM's
BroadcastAdd4DSlow (shapes of rank <= 4, numpy-style). A constant operand is placed in flash.
"""

from __future__ import annotations

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, Value, pad4, size_of

OPS = ("ADD",)
OPTIONS = {"fusedActivationFunction", "potScaleInt16"}  # the latter is for int16 only
LEFT_SHIFT = 20


def _strides(shape: list[int], out: list[int]) -> list[int]:
    strides, step = [0] * 4, 1
    for i in range(3, -1, -1):
        strides[i] = 0 if shape[i] == 1 and out[i] != 1 else step
        step *= shape[i]
    return strides


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2,))
    a, b, y = ctx.need_input(0), ctx.need_input(1), ctx.output()
    for t in (a, b, y):
        ctx.expect_type(t, "INT8")
        ctx.expect_rank(t, 0, 1, 2, 3, 4)
        if len(t.scales) != 1:
            raise ctx.fail("needs a per-tensor scale", tensor=t)
    sa, sb, out = pad4(a.shape), pad4(b.shape), pad4(y.shape)
    for i in range(4):
        if out[i] != max(sa[i], sb[i]) or sa[i] not in (1, out[i]) or sb[i] not in (1, out[i]):
            raise ctx.fail(f"shapes {list(a.shape)} and {list(b.shape)} do not broadcast to "
                           f"{list(y.shape)}", tensor=y)
    twice_max = 2 * max(a.scale, b.scale)
    m1, s1 = quant.quantize_multiplier_smaller_than_one(a.scale / twice_max)
    m2, s2 = quant.quantize_multiplier_smaller_than_one(b.scale / twice_max)
    try:
        mo, so = quant.quantize_multiplier_smaller_than_one(
            twice_max / ((1 << LEFT_SHIFT) * y.scale))
    except ValueError:
        raise ctx.fail("the output scale is too small for TFLM's int8 ADD rescaling",
                       tensor=y) from None
    act_min, act_max = ctx.activation_range()
    broadcast = sa != out or sb != out
    params: dict[str, Value] = {
        "broadcast": int(broadcast), "size": size_of(y), "out_dims": out,
        "in1_strides": _strides(sa, out), "in2_strides": _strides(sb, out),
        "left_shift": LEFT_SHIFT,
        "input1_offset": -a.zero_point, "input2_offset": -b.zero_point,
        "input1_multiplier": m1, "input1_shift": s1,
        "input2_multiplier": m2, "input2_shift": s2,
        "output_multiplier": mo, "output_shift": so,
        "output_offset": y.zero_point, "act_min": act_min, "act_max": act_max,
    }
    inplace = tuple(k for k, s in ((0, sa), (1, sb)) if s == out)
    return Lowered(function="dt_add_s8", header="dt_add_s8.h", params_type="dt_add_s8_params_t",
                   params=params, args=[In(0), In(1), Out(0)], inplace=inplace)
