"""Exact int8 Grad-CAM gradients: dy_c/dA through the head of an int8 .tflite model.

The head is the chain of operators from the Grad-CAM target activation A (int8) to the logits.
For heads built of pooling, reshapes and fully connected layers, dy_c/dA is a product of
the int8 weights, 0/1 activation masks, pooling routes and counts, so it is computed here in
integers (int64) that carry one float64 scale and a power-of-two exponent:

    dy_c/dA (real units) = g * scale * 2**exponent        g: int64, the target's shape

The recipe (docs/int8-gradcam.md states it for the C port):
- Start at the logits with g = one-hot(c), scale = 1, exponent = 0.
- FULLY_CONNECTED (weights q_W, per-channel scales s_o): zero g where the fused activation is
  inactive (read from the op's int8 output), then fold the scales: while g is still the
  one-hot start, scale *= s_c exactly; otherwise g_o *= round(s_o / max(s) * 2**30) and
  scale *= max(s) * 2**-30. Then g_in = g @ q_W.
- MEAN / AVERAGE_POOL_2D: each input gets its outputs' gradients times L / count (count = the
  number of inputs averaged, L = the least common multiple of all counts); scale /= L.
- MAX_POOL_2D / REDUCE_MAX: the gradient goes to the first maximum in row-major window order.
- RESHAPE / EXPAND_DIMS / SQUEEZE / QUANTIZE: the gradient is reshaped; real values pass through.
- After every operator but the one reading the target, |g| is brought below 2**30 by a
  rounding right shift (half away from zero) that adds to the exponent, so int64 never
  overflows. The last step's result only enters Grad-CAM through its per-channel sum.

ReLU masks and max-pool routes come from the int8 tensors TFLM computes, so the gradient is
the exact derivative of the float head evaluated on the int8 activations the device sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from drip_tiny.errors import ModelError
from drip_tiny.tflite.flatbuffer import (
    ACTIVATIONS,
    PADDINGS,
    ModelInfo,
    OperatorInfo,
    TensorInfo,
)

G_BITS = 30  # gradient mantissas are kept below 2**G_BITS
MAX_POOL_LCM = 1 << 16  # refuse average pools whose per-position counts have a larger LCM

RESHAPE_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE", "QUANTIZE")
SUPPORTED_OPS = ("FULLY_CONNECTED", "MEAN", "AVERAGE_POOL_2D", "MAX_POOL_2D", "REDUCE_MAX",
                 "RELU", "RELU6") + RESHAPE_OPS
_ACTIVATIONS_OK = ("NONE", "RELU", "RELU6")


def round_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """values / 2**shift rounded half away from zero, in int64."""
    if shift <= 0:
        return values
    half = np.int64(1) << np.int64(shift - 1)
    mag = (np.abs(values) + half) >> np.int64(shift)
    rounded: np.ndarray = np.where(values < 0, -mag, mag)  # numpy's stubs say Any
    return rounded


def normalize(values: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """Shift `values` right until max |v| < 2**bits; return (values, shift)."""
    peak = int(np.max(np.abs(values))) if values.size else 0
    shift = max(0, peak.bit_length() - bits)
    return round_shift(values, shift), shift


@dataclass(frozen=True)
class HeadStep:
    """One operator of the head, with what its backward pass needs."""

    op: OperatorInfo
    data_in: TensorInfo  # the chain tensor the op reads
    data_out: TensorInfo
    activation: str = "NONE"  # fused activation (or the op itself for RELU/RELU6)
    weights: np.ndarray | None = None  # FULLY_CONNECTED: int8 (O, K)
    weight_scales: tuple[float, ...] = ()
    weight_multipliers: np.ndarray | None = None  # per-channel: round(s_o / max s * 2**30)
    lcm: int = 1  # average pools: L
    counts: np.ndarray | None = field(default=None, compare=False)  # average pools: per output
    needs: tuple[int, ...] = ()  # tensor indices whose int8 values the backward pass reads


@dataclass
class Gradient:
    """dy_c/dA = g * scale * 2**exponent, g int64 in the target's shape (batch axis 1)."""

    g: np.ndarray
    scale: float
    exponent: int

    def real(self) -> np.ndarray:
        return self.g.astype(np.float64) * self.scale * 2.0 ** self.exponent


@dataclass
class Int8Head:
    """The head of an int8 model from `target` to `logits`, read from the .tflite."""

    info: ModelInfo
    target: TensorInfo
    logits: TensorInfo
    steps: list[HeadStep] = field(default_factory=list)

    @property
    def needed_tensors(self) -> tuple[int, ...]:
        return tuple(sorted({i for s in self.steps for i in s.needs}))

    @cached_property
    def first_op(self) -> HeadStep | None:
        """The first operator after the target that is not a reshape. Its backward result is
        not normalized: Grad-CAM only needs its per-channel sum (alpha), which the C kernel
        computes without ever storing a target-sized gradient."""
        return next((s for s in self.steps if s.op.name not in RESHAPE_OPS), None)

    @property
    def op_names(self) -> list[str]:
        return [s.op.name for s in self.steps]

    @classmethod
    def from_model(cls, info: ModelInfo, target: int, logits: int) -> Int8Head:
        head = cls(info=info, target=info.tensors[target], logits=info.tensors[logits])
        current = target
        while current != logits:
            consumers = info.consumers(current)
            if len(consumers) != 1:
                what = "no operator" if not consumers else \
                    f"{len(consumers)} operators ({', '.join(op.name for op in consumers)})"
                raise ModelError(
                    f"tensor {info.tensors[current].name!r} feeds {what}; int8 Grad-CAM needs a "
                    "head that is a single chain of operators from the target to the logits")
            op = consumers[0]
            head.steps.append(_step(info, op, current))
            current = op.outputs[0]
        return head

    def gradient(self, cls_index: int, values: dict[int, np.ndarray]) -> Gradient:
        """dy_c/dA for class `cls_index`; `values` maps each of `needed_tensors` to its int8
        array (the tensor's shape)."""
        g = np.zeros(self.logits.shape, dtype=np.int64)
        g.reshape(-1)[cls_index] = 1
        scale, exponent, one_hot = 1.0, 0, True
        for step in reversed(self.steps):
            name = step.op.name
            if name in RESHAPE_OPS:
                g = g.reshape(step.data_in.shape)
                continue
            g = g * _active(step, values)
            if name == "FULLY_CONNECTED":
                g, scale, exponent = _fc_backward(step, g, scale, exponent, one_hot, cls_index)
            elif name == "MEAN":
                g = _mean_backward(step, g)
                scale /= step.lcm
            elif name == "AVERAGE_POOL_2D":
                g = _avg_pool_backward(step, g)
                scale /= step.lcm
            elif name in ("MAX_POOL_2D", "REDUCE_MAX"):
                g = _max_backward(step, g, values[step.data_in.index])
            one_hot = False
            if step is not self.first_op:
                g, shift = normalize(g, G_BITS)
                exponent += shift
        return Gradient(g=g.reshape(self.target.shape), scale=scale, exponent=exponent)


# ----------------------------------------------------------------------------- parsing

class HeadOpError(ModelError):
    """One operator of the head cannot be differentiated: `op` is it, `why` the reason
    (so `train`'s pre-check can name the Keras layer it came from)."""

    def __init__(self, message: str, op: OperatorInfo, why: str) -> None:
        super().__init__(message)
        self.op = op
        self.why = why


def _refuse(op: OperatorInfo, tensor: TensorInfo, why: str) -> HeadOpError:
    return HeadOpError(
        f"int8 Grad-CAM cannot differentiate {op.name} (output tensor {tensor.name!r}): {why}. "
        f"Supported head operators: {supported_head_ops()}; choose a target layer closer to "
        "the logits or change the head", op=op, why=why)


def supported_head_ops() -> str:
    return f"{', '.join(SUPPORTED_OPS)} with fused activation {'/'.join(_ACTIVATIONS_OK)}"


def _step(info: ModelInfo, op: OperatorInfo, current: int) -> HeadStep:
    out = info.tensors[op.outputs[0]]
    if op.name not in SUPPORTED_OPS:
        raise _refuse(op, out, "this operator is not supported in a Grad-CAM head")
    if not op.inputs or op.inputs[0] != current:
        raise _refuse(op, out, "the chain tensor is not its first input")
    for extra in op.inputs[1:]:
        if extra >= 0 and not info.tensors[extra].is_constant:
            raise _refuse(op, out, f"its input {info.tensors[extra].name!r} is not a constant "
                                   "(the head must be a single chain)")
    data_in = info.tensors[current]
    for t in (data_in, out):
        if t.dtype != "INT8":
            raise _refuse(op, out, f"tensor {t.name!r} is {t.dtype}, not INT8")
    activation = ACTIVATIONS.get(op.options.get("fusedActivationFunction", 0), "NONE")
    if op.name in ("RELU", "RELU6"):
        activation = op.name
    if activation not in _ACTIVATIONS_OK:
        raise _refuse(op, out, f"fused activation {activation} is not supported")
    needs: tuple[int, ...] = (out.index,) if activation != "NONE" else ()
    if op.name in RESHAPE_OPS:  # QUANTIZE int8 -> int8 keeps real values: gradient 1
        return HeadStep(op=op, data_in=data_in, data_out=out)
    if op.name == "FULLY_CONNECTED":
        return _fc_step(info, op, data_in, out, activation, needs)
    if op.name in ("MEAN", "REDUCE_MAX"):
        _check_spatial_axes(info, op, data_in, out)
        count = int(np.prod(data_in.shape[1:-1]))
        if op.name == "REDUCE_MAX":
            needs = needs + (data_in.index,)
        return HeadStep(op=op, data_in=data_in, data_out=out, activation=activation,
                        lcm=count, needs=needs)
    # 2D pools
    if len(data_in.shape) != 4:
        raise _refuse(op, out, f"its input has shape {data_in.shape}, expected NHWC")
    if op.name == "MAX_POOL_2D":
        needs = needs + (data_in.index,)
        return HeadStep(op=op, data_in=data_in, data_out=out, activation=activation, needs=needs)
    counts = _pool_counts(op, data_in, out)  # computed once here, read by every backward pass
    lcm = math.lcm(*np.unique(counts).tolist())
    if lcm > MAX_POOL_LCM or lcm * int(np.prod(out.shape[1:3])) > (1 << 32):
        # Keeps the unnormalized per-channel sums of a pool next to the target below 2**62.
        raise _refuse(op, out, f"its window counts have least common multiple {lcm} over "
                               f"{int(np.prod(out.shape[1:3]))} outputs")
    return HeadStep(op=op, data_in=data_in, data_out=out, activation=activation, lcm=lcm,
                    counts=counts, needs=needs)


def _fc_step(info: ModelInfo, op: OperatorInfo, data_in: TensorInfo, out: TensorInfo,
             activation: str, needs: tuple[int, ...]) -> HeadStep:
    w = info.tensors[op.inputs[1]]
    if w.dtype != "INT8" or w.data is None or len(w.shape) != 2:
        raise _refuse(op, out, f"its weights {w.name!r} are not a constant int8 matrix")
    if op.options.get("keepNumDims"):
        raise _refuse(op, out, "keep_num_dims is set")
    if int(np.prod(data_in.shape)) != w.shape[1]:
        raise _refuse(op, out, f"its input {data_in.name!r} {data_in.shape} does not flatten to "
                               f"the weights' {w.shape[1]} inputs (batch must be 1)")
    scales = np.asarray(w.scales, dtype=np.float64)
    if scales.size not in (1, w.shape[0]):
        raise _refuse(op, out, f"its weights have {scales.size} scales for {w.shape[0]} outputs")
    full = np.broadcast_to(scales, (w.shape[0],))
    multipliers = np.round(full / full.max() * 2.0 ** G_BITS).astype(np.int64)
    return HeadStep(op=op, data_in=data_in, data_out=out, activation=activation,
                    weights=w.data.astype(np.int64), weight_scales=tuple(full.tolist()),
                    weight_multipliers=multipliers, needs=needs)


def _check_spatial_axes(info: ModelInfo, op: OperatorInfo, data_in: TensorInfo,
                        out: TensorInfo) -> None:
    axes_tensor = info.tensors[op.inputs[1]] if len(op.inputs) > 1 else None
    if axes_tensor is None or axes_tensor.data is None:
        raise _refuse(op, out, "its reduction axes are not a constant")
    rank = len(data_in.shape)
    axes = sorted({int(a) % rank for a in np.asarray(axes_tensor.data).reshape(-1)})
    if axes != list(range(1, rank - 1)):
        raise _refuse(op, out, f"it reduces axes {axes} of {data_in.shape}; only a global pool "
                               f"over the spatial axes {list(range(1, rank - 1))} is supported")


# Per axis (H, W): stride, filter, pad_before.
PoolGeometry = tuple[tuple[int, int], tuple[int, int], list[int]]


def pool_geometry(op: OperatorInfo, data_in: TensorInfo, out: TensorInfo) -> PoolGeometry:
    """Per axis (H, W): stride, filter, pad_before (TFLite's SAME/VALID rule)."""
    opts = op.options
    strides = (opts.get("strideH", 1), opts.get("strideW", 1))
    filters = (opts.get("filterHeight", 1), opts.get("filterWidth", 1))
    padding = PADDINGS.get(opts.get("padding", 1), "VALID")
    pads = []
    for axis in range(2):
        size_in, size_out = data_in.shape[1 + axis], out.shape[1 + axis]
        total = max((size_out - 1) * strides[axis] + filters[axis] - size_in, 0)
        pads.append(total // 2 if padding == "SAME" else 0)
    return strides, filters, pads


def _window_offsets(op: OperatorInfo, data_in: TensorInfo, out: TensorInfo
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each filter offset (fy, fx) in row-major order: the input rows/cols each output
    reads and whether they are inside the input."""
    strides, filters, pads = pool_geometry(op, data_in, out)
    oy = np.arange(out.shape[1])[:, None]
    ox = np.arange(out.shape[2])[None, :]
    for fy in range(filters[0]):
        for fx in range(filters[1]):
            iy = oy * strides[0] + fy - pads[0]
            ix = ox * strides[1] + fx - pads[1]
            valid = (iy >= 0) & (iy < data_in.shape[1]) & (ix >= 0) & (ix < data_in.shape[2])
            yield np.broadcast_to(iy, valid.shape), np.broadcast_to(ix, valid.shape), valid


def _pool_counts(op: OperatorInfo, data_in: TensorInfo, out: TensorInfo) -> np.ndarray:
    counts = np.zeros(out.shape[1:3], dtype=np.int64)
    for _, _, valid in _window_offsets(op, data_in, out):
        counts += valid
    return counts


# ----------------------------------------------------------------------------- backward

def _active(step: HeadStep, values: dict[int, np.ndarray]) -> np.ndarray | int:
    """0/1 mask of the fused activation's derivative, read from the op's int8 output."""
    if step.activation == "NONE":
        return 1
    out = step.data_out
    q = values[out.index].astype(np.int64).reshape(out.shape)
    active = q > max(-128, out.zero_point)  # TFLM's act_min: the quantized 0
    if step.activation == "RELU6":
        # TFLM's quantized 6: zero_point + round_half_away(6 / scale) in float32. Only when it
        # fits in int8 is an output there the ReLU6 clamp; else 127 is plain int8 saturation,
        # which the float head ignores (as for RELU and no activation).
        six = out.zero_point + int(np.floor(np.float32(6.0) / np.float32(out.scale) + 0.5))
        if six <= 127:
            active &= q < six
    return active.astype(np.int64)


def _fc_backward(step: HeadStep, g: np.ndarray, scale: float, exponent: int, one_hot: bool,
                 cls_index: int) -> tuple[np.ndarray, float, int]:
    g = g.reshape(-1)
    if one_hot:
        scale *= step.weight_scales[cls_index]
    else:
        g, shift = normalize(g * step.weight_multipliers, G_BITS)
        scale *= max(step.weight_scales) * 2.0 ** -G_BITS
        exponent += shift
    g_in = g @ step.weights  # int64 (K,)
    return g_in.reshape(step.data_in.shape), scale, exponent


def _mean_backward(step: HeadStep, g: np.ndarray) -> np.ndarray:
    # MEAN over H,W (or L): every input position receives its channel's gradient.
    channels = step.data_in.shape[-1]
    g = g.reshape(1, *([1] * (len(step.data_in.shape) - 2)), channels)
    return np.broadcast_to(g, step.data_in.shape).copy()


def _avg_pool_backward(step: HeadStep, g: np.ndarray) -> np.ndarray:
    op, data_in, out = step.op, step.data_in, step.data_out
    assert step.counts is not None  # _step counts every average pool's windows
    g = g.reshape(out.shape)[0] * (step.lcm // step.counts)[:, :, None]
    g_in = np.zeros(data_in.shape[1:], dtype=np.int64)
    for iy, ix, valid in _window_offsets(op, data_in, out):
        g_in[iy[valid], ix[valid]] += g[valid]
    return g_in[None]


def _max_backward(step: HeadStep, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Route each output's gradient to the first maximum of its window (row-major)."""
    data_in, out = step.data_in, step.data_out
    x = x.astype(np.int64).reshape(data_in.shape)
    if step.op.name == "REDUCE_MAX":
        channels = data_in.shape[-1]
        flat = x.reshape(-1, channels)
        first = np.argmax(flat, axis=0)  # numpy returns the first maximum
        g_in = np.zeros_like(flat)
        g_in[first, np.arange(channels)] = g.reshape(-1)
        return g_in.reshape(data_in.shape)
    x, g = x[0], g.reshape(out.shape)[0]
    best = np.full(g.shape, -(1 << 20), dtype=np.int64)
    best_y = np.zeros(g.shape, dtype=np.int64)
    best_x = np.zeros(g.shape, dtype=np.int64)
    channel_axis = np.arange(g.shape[-1])[None, None, :]
    for iy, ix, valid in _window_offsets(step.op, data_in, out):
        cy, cx = np.clip(iy, 0, data_in.shape[1] - 1), np.clip(ix, 0, data_in.shape[2] - 1)
        value = np.where(valid[:, :, None], x[cy, cx], -(1 << 20))
        better = value > best  # strict: the first maximum keeps the gradient
        best = np.where(better, value, best)
        best_y = np.where(better, cy[:, :, None], best_y)
        best_x = np.where(better, cx[:, :, None], best_x)
    g_in = np.zeros(data_in.shape[1:], dtype=np.int64)
    np.add.at(g_in, (best_y, best_x, np.broadcast_to(channel_axis, g.shape)), g)
    return g_in[None]
