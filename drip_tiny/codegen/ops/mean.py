"""MEAN, int8, over any axes of a tensor of rank <= 4.

TFLM runs every int8 MEAN through reference_ops::QuantizedMeanOrSum: it sums in int32,
subtracts input_zero_point * n, and rescales with QuantizeMultiplier(input_scale /
output_scale) whose multiplier it divides by n at run time:
    s = min(floor(log2 n), 32, 31 + shift);  multiplier = (multiplier << s) // n;  shift -= s
This is not TFLite's MEAN (which rounds differently); we fold the division into the
parameters here and the kernel only multiplies.
"""

from __future__ import annotations

from drip_tiny.codegen import quant
from drip_tiny.codegen.ops.base import In, Lowered, OpContext, Out, Value, pad4, size_of

OPS = ("MEAN",)
OPTIONS = {"keepDims"}  # the output layout is the same either way


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    multiplier, shift = quant.quantize_multiplier(input_scale / output_scale)
    s = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << s) // count, shift - s


def lower(ctx: OpContext) -> Lowered:
    ctx.expect_counts((2,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    if len(y.scales) != 1:
        raise ctx.fail("needs a per-tensor output scale", tensor=y)
    ctx.expect_rank(x, 1, 2, 3, 4)
    axes_in = ctx.constant(1, "INT32").reshape(-1)
    rank = len(x.shape)
    axes = set()
    for a in axes_in:
        a = int(a) + rank if a < 0 else int(a)
        if not 0 <= a < rank:
            raise ctx.fail(f"axis {int(a)} is out of range for rank {rank}",
                           tensor=ctx.input(1))
        axes.add(a)
    offset = 4 - rank
    reduce = [0] * 4
    for a in axes:
        reduce[a + offset] = 1
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count == 0 or count >= 1 << 24:
        raise ctx.fail(f"averaging {count} values is not supported (1 to 2^24 - 1)")
    if size_of(y) != size_of(x) // count:
        raise ctx.fail(f"output has {size_of(y)} values, expected {size_of(x) // count}",
                       tensor=y)
    multiplier, shift = mean_multiplier(x.scale, y.scale, count)
    params: dict[str, Value] = {"dims": pad4(x.shape), "reduce": reduce, "count": count,
              "input_zero_point": x.zero_point, "output_zero_point": y.zero_point,
              "multiplier": multiplier, "shift": shift}
    return Lowered(function="dt_mean_s8", header="dt_mean_s8.h",
                   params_type="dt_mean_s8_params_t", params=params, args=[In(0), Out(0)])
