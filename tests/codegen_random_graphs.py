"""Seeded random int8 models, written directly as flatbuffers (no TensorFlow, milliseconds
each), that together use every op drip-tiny's code generator supports with every option
it reads: `random_model(seed)`.

A model is a chain of 1 to 6 random steps on a random input (rank 1 to 4, batch 1 or 2,
int8 or float32 through QUANTIZE), with residual branches (ADD of a tensor and a later one),
broadcast operands, a second output read from the middle of the graph, and DEQUANTIZE at
the end. Every tensor gets its own quantization; output scales follow the expected range of
the values so that most outputs are not saturated. Weights, biases and pad values are random.
The steps only build what the generator supports (shapes that fit, windows that touch the
input), so a model the generator refuses or TFLM rejects is a bug in one of them.

Each model lists its features, "OP option=value" strings (e.g. "CONV_2D padding=VALID"),
and REQUIRED_FEATURES is what a few hundred seeds must cover.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import codegen_models as cm
import numpy as np

ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
INT8_SPREAD = 60.0  # about the standard deviation of a well-used int8 tensor's values


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


@dataclass
class RandomModel:
    seed: int
    data: bytes
    input_shape: tuple[int, ...]
    input_dtype: str  # "INT8" or "FLOAT32"
    features: Counter = field(default_factory=Counter)

    @property
    def ops(self) -> list[str]:
        return sorted({f.split()[0] for f in self.features} - {"model"})


@dataclass
class _T:
    """A tensor of the graph being built."""
    index: int
    shape: list[int]
    scale: float
    zero_point: int


class _Builder:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.tensors: list[dict] = []
        self.operators: list[tuple] = []
        self.features: Counter = Counter()

    # --- tensors -------------------------------------------------------------------------
    def activation(self, shape, scale: float, zero_point: int) -> _T:
        self.tensors.append({"shape": list(shape), "dtype": "INT8", "scale": float(scale),
                             "zero_point": int(zero_point)})
        return _T(len(self.tensors) - 1, list(shape), float(np.float32(scale)), int(zero_point))

    def constant(self, data: np.ndarray, dtype: str, **quant) -> int:
        self.tensors.append({"shape": list(data.shape), "dtype": dtype, "data": data, **quant})
        return len(self.tensors) - 1

    def like(self, x: _T, shape=None) -> _T:
        return self.activation(x.shape if shape is None else shape, x.scale, x.zero_point)

    def requantized(self, shape, spread_real: float) -> _T:
        """A new int8 tensor for values of about this real spread (standard deviation)."""
        scale = spread_real / INT8_SPREAD * float(self.rng.uniform(0.5, 2.0))
        return self.activation(shape, max(scale, 1e-5), int(self.rng.integers(-30, 31)))

    def op(self, name: str, ins, outs, options=None, **features) -> None:
        self.operators.append((name, list(ins), list(outs), options))
        self.features[name] += 1
        for key, value in features.items():
            self.features[f"{name} {key}={value}"] += 1

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def activation_code(self) -> int:
        return int(self.pick([0, 0, 1, 2, 3]))


# --- the steps: each takes the current tensor and returns the next ---------------------------

def _conv_geometry(b: _Builder, h: int, w: int, depthwise: bool):
    schema = _schema()
    kh, kw = (int(v) for v in b.rng.integers(1, 4, size=2))
    dilated = b.rng.random() < 0.3
    dh, dw = ((int(v) for v in b.rng.integers(1, 4, size=2)) if dilated else (1, 1))
    sh, sw = (int(v) for v in b.rng.integers(1, 4, size=2))
    padding = "VALID" if b.rng.random() < 0.5 else "SAME"
    if padding == "VALID" and (h < (kh - 1) * dh + 1 or w < (kw - 1) * dw + 1):
        padding = "SAME"
    opts = schema.DepthwiseConv2DOptionsT() if depthwise else schema.Conv2DOptionsT()
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW = sh, sw
    opts.dilationHFactor, opts.dilationWFactor = dh, dw
    opts.fusedActivationFunction = b.activation_code()
    from drip_tiny.codegen.quant import out_size

    oh, ow = out_size(padding, h, kh, sh, dh), out_size(padding, w, kw, sw, dw)
    features = {"padding": padding, "stride_h": sh, "stride_w": sw, "dilation_h": dh,
                "dilation_w": dw, "kernel": f"{kh}x{kw}",
                "activation": ACTIVATIONS[opts.fusedActivationFunction]}
    return opts, (kh, kw), (oh, ow), features


def _bias_inputs(b: _Builder, x: _T, w_scales: np.ndarray, channels: int,
                 may_omit: bool = True) -> tuple[list, str]:
    """Bias as a third input, or none (two inputs), or omitted (a third input of -1)."""
    kind = b.pick(["yes", "yes", "no", "omitted"] if may_omit else ["yes", "yes", "no"])
    if kind != "yes":
        return ([] if kind == "no" else [-1]), kind
    scales = x.scale * w_scales
    data = b.rng.integers(-3000, 3001, size=channels).astype(np.int32)
    return [b.constant(data, "INT32", scale=scales,
                       zero_point=np.zeros(scales.size, np.int64))], kind


def step_conv(b: _Builder, x: _T, out_channels: int | None = None, same=False) -> _T:
    _, h, w, c = x.shape
    opts, (kh, kw), (oh, ow), feats = _conv_geometry(b, h, w, depthwise=False)
    if same:  # a residual branch: the output keeps the input's shape
        schema = _schema()
        opts.padding, opts.strideH, opts.strideW = schema.Padding.SAME, 1, 1
        oh, ow = h, w
        feats.update(padding="SAME", stride_h=1, stride_w=1)
    oc = out_channels or int(b.rng.integers(1, 9))
    per_channel = b.rng.random() < 0.6
    w_scales = b.rng.uniform(0.002, 0.03, size=oc if per_channel else 1)
    weights = b.rng.integers(-127, 128, size=(oc, kh, kw, c)).astype(np.int8)
    wi = b.constant(weights, "INT8", scale=w_scales, zero_point=np.zeros(w_scales.size, np.int64),
                    quantized_dimension=0)
    bias, bias_kind = _bias_inputs(b, x, w_scales, oc)
    spread = np.sqrt(kh * kw * c) * INT8_SPREAD * 73 * x.scale * float(np.mean(w_scales))
    y = b.requantized([x.shape[0], oh, ow, oc], spread)
    b.op("CONV_2D", [x.index, wi, *bias], [y.index], opts, bias=bias_kind,
         weights="per-channel" if per_channel else "per-tensor", batch=x.shape[0], **feats)
    return y


def step_depthwise(b: _Builder, x: _T, same=False) -> _T:
    _, h, w, c = x.shape
    opts, (kh, kw), (oh, ow), feats = _conv_geometry(b, h, w, depthwise=True)
    multiplier = 1 if same else int(b.rng.integers(1, 4))
    if same:
        schema = _schema()
        opts.padding, opts.strideH, opts.strideW = schema.Padding.SAME, 1, 1
        oh, ow = h, w
        feats.update(padding="SAME", stride_h=1, stride_w=1)
    opts.depthMultiplier = multiplier
    oc = c * multiplier
    per_channel = b.rng.random() < 0.6
    w_scales = b.rng.uniform(0.002, 0.03, size=oc if per_channel else 1)
    weights = b.rng.integers(-127, 128, size=(1, kh, kw, oc)).astype(np.int8)
    wi = b.constant(weights, "INT8", scale=w_scales, zero_point=np.zeros(w_scales.size, np.int64),
                    quantized_dimension=3)
    # TFLM's interpreter (tflite-micro 0.dev20261023) crashes with a segmentation fault
    # preparing a DEPTHWISE_CONV_2D whose bias input is -1, so there is no reference for it.
    bias, bias_kind = _bias_inputs(b, x, w_scales, oc, may_omit=False)
    spread = np.sqrt(kh * kw) * INT8_SPREAD * 73 * x.scale * float(np.mean(w_scales))
    y = b.requantized([x.shape[0], oh, ow, oc], spread)
    b.op("DEPTHWISE_CONV_2D", [x.index, wi, *bias], [y.index], opts, bias=bias_kind,
         depth_multiplier=multiplier, weights="per-channel" if per_channel else "per-tensor",
         batch=x.shape[0], **feats)
    return y


def _pool_fits(size: int, f: int, s: int, padding: str) -> bool:
    """No window lies entirely in the padding (TFLM's average pool fails on one)."""
    from drip_tiny.codegen import quant

    out, pad = quant.padding(padding, size, f, s)
    return out >= 1 and all(min(f, size - (o * s - pad)) > max(0, pad - o * s)
                            for o in range(out))


def step_pool(b: _Builder, x: _T) -> _T:
    schema = _schema()
    name = b.pick(["MAX_POOL_2D", "AVERAGE_POOL_2D"])
    _, h, w, c = x.shape
    for _ in range(20):
        fh, fw = (int(v) for v in b.rng.integers(1, 4, size=2))
        sh, sw = (int(v) for v in b.rng.integers(1, 4, size=2))
        padding = b.pick(["SAME", "VALID"])
        if _pool_fits(h, fh, sh, padding) and _pool_fits(w, fw, sw, padding):
            break
    else:
        fh = fw = sh = sw = 1
        padding = "VALID"
    from drip_tiny.codegen.quant import out_size

    opts = schema.Pool2DOptionsT()
    opts.padding = getattr(schema.Padding, padding)
    opts.strideH, opts.strideW, opts.filterHeight, opts.filterWidth = sh, sw, fh, fw
    opts.fusedActivationFunction = b.activation_code()
    y = b.like(x, [x.shape[0], out_size(padding, h, fh, sh), out_size(padding, w, fw, sw), c])
    b.op(name, [x.index], [y.index], opts, padding=padding, filter=f"{fh}x{fw}",
         stride_h=sh, stride_w=sw, activation=ACTIVATIONS[opts.fusedActivationFunction])
    return y


def step_mean(b: _Builder, x: _T) -> _T:
    schema = _schema()
    rank = len(x.shape)
    candidates = list(range(1, rank)) if rank > 1 else [0]
    count = int(b.rng.integers(1, len(candidates) + 1))
    axes = sorted(int(a) for a in b.rng.choice(candidates, size=count, replace=False))
    negative = b.rng.random() < 0.4
    written = np.asarray([a - rank if negative else a for a in axes], np.int32)
    keep = bool(b.rng.random() < 0.5) or rank == 1  # no rank-0 tensors
    shape = ([1 if i in axes else d for i, d in enumerate(x.shape)] if keep
             else [d for i, d in enumerate(x.shape) if i not in axes])
    opts = schema.ReducerOptionsT()
    opts.keepDims = keep
    y = b.requantized(shape, x.scale * INT8_SPREAD / 2)
    axes_index = b.constant(written, "INT32")
    b.op("MEAN", [x.index, axes_index], [y.index], opts, keep_dims=keep,
         axes="+".join(map(str, axes)) if rank == 4 else f"{count} of rank {rank}",
         negative_axes=negative)
    return y


def step_add_broadcast(b: _Builder, x: _T) -> _T:
    """ADD of x and a constant of a broadcast shape (or x itself, or a full constant)."""
    schema = _schema()
    kind = b.pick(["broadcast", "broadcast", "lower-rank", "full", "self"])
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = b.activation_code()
    if kind == "self":
        other = x.index
        other_scale = x.scale
    else:
        shape = list(x.shape)
        if kind == "broadcast":
            for axis in range(len(shape)):
                if b.rng.random() < 0.5:
                    shape[axis] = 1
        elif kind == "lower-rank":
            shape = shape[int(b.rng.integers(1, len(shape) + 1)) if len(shape) > 1 else 0:]
        other_scale = float(b.rng.uniform(0.3, 3.0)) * x.scale
        data = b.rng.integers(-128, 128, size=shape).astype(np.int8)
        other = b.constant(data, "INT8", scale=other_scale,
                           zero_point=int(b.rng.integers(-20, 21)))
    y = b.requantized(x.shape, max(x.scale, other_scale) * INT8_SPREAD * 1.5)
    order = [x.index, other] if b.rng.random() < 0.5 else [other, x.index]
    b.op("ADD", order, [y.index], opts, operand=kind,
         activation=ACTIVATIONS[opts.fusedActivationFunction])
    return y


def step_residual(b: _Builder, x: _T) -> _T:
    """x -> branch (a shape-keeping conv, depthwise conv or RELU) -> ADD(x, branch): x stays
    alive across the branch, as in a ResNet block."""
    schema = _schema()
    branch = b.pick(["conv", "depthwise", "relu"]) if len(x.shape) == 4 else "relu"
    if branch == "conv":
        y = step_conv(b, x, out_channels=x.shape[3], same=True)
    elif branch == "depthwise":
        y = step_depthwise(b, x, same=True)
    else:
        y = step_relu(b, x)
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = b.activation_code()
    out = b.requantized(x.shape, max(x.scale, y.scale) * INT8_SPREAD * 1.5)
    b.op("ADD", [x.index, y.index] if b.rng.random() < 0.5 else [y.index, x.index],
         [out.index], opts, operand="residual " + branch,
         activation=ACTIVATIONS[opts.fusedActivationFunction])
    return out


def step_pad(b: _Builder, x: _T) -> _T:
    schema = _schema()
    rank = len(x.shape)
    pads = b.rng.integers(0, 3, size=(rank, 2)).astype(np.int32)
    if rank > 1:
        pads[0] = 0  # keep the batch
    shape = [d + int(lo + hi) for d, (lo, hi) in zip(x.shape, pads)]
    v2 = b.rng.random() < 0.5
    y = b.like(x, shape)
    ins = [x.index, b.constant(pads, "INT32")]
    if v2:
        value = np.asarray(b.rng.integers(-128, 128), dtype=np.int8)
        if b.rng.random() < 0.5:
            value = value.reshape(1)
        ins.append(b.constant(value, "INT8", scale=x.scale, zero_point=x.zero_point))
        b.op("PADV2", ins, [y.index], schema.PadV2OptionsT(), rank=rank,
             value_shape=list(value.shape))
    else:
        b.op("PAD", ins, [y.index], schema.PadOptionsT(), rank=rank)
    return y


def _factor(rng, n: int, parts: int) -> list[int]:
    """n as a product of `parts` positive integers."""
    dims = [1] * parts
    for p in _prime_factors(n):
        dims[int(rng.integers(parts))] *= p
    return dims


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def step_reshape(b: _Builder, x: _T) -> _T:
    schema = _schema()
    batch, rest = x.shape[0] if x.shape else 1, int(np.prod(x.shape[1:])) if x.shape else 1
    rank = int(b.rng.integers(2, 5))
    shape = [batch, *_factor(b.rng, rest, rank - 1)]
    y = b.like(x, shape)
    how = b.pick(["shape input", "option", "both"])
    ins = [x.index]
    opts = schema.ReshapeOptionsT()
    if how in ("shape input", "both"):
        written = np.asarray(shape, np.int32)
        if b.rng.random() < 0.3:
            written[int(b.rng.integers(len(shape)))] = -1  # inferred dimension
        ins.append(b.constant(written, "INT32"))
    if how in ("option", "both"):
        opts.newShape = np.asarray(shape, np.int32)
    b.op("RESHAPE", ins, [y.index], opts, new_shape=how, to_rank=rank)
    return y


def step_expand_dims(b: _Builder, x: _T) -> _T:
    rank = len(x.shape)
    axis = int(b.rng.integers(1, rank + 1))
    negative = b.rng.random() < 0.4
    written = axis - (rank + 1) if negative else axis
    shape = x.shape[:axis] + [1] + x.shape[axis:]
    y = b.like(x, shape)
    value = np.asarray(written, np.int32)
    if b.rng.random() < 0.5:
        value = value.reshape(1)
    b.op("EXPAND_DIMS", [x.index, b.constant(value, "INT32")], [y.index], None,
         negative_axis=negative, from_rank=rank)
    return y


def step_squeeze(b: _Builder, x: _T) -> _T:
    schema = _schema()
    ones = [i for i, d in enumerate(x.shape) if d == 1 and i > 0]
    count = int(b.rng.integers(1, len(ones) + 1))
    dims = sorted(int(i) for i in b.rng.choice(ones, size=count, replace=False))
    negative = b.rng.random() < 0.4
    opts = schema.SqueezeOptionsT()
    opts.squeezeDims = np.asarray([d - len(x.shape) if negative else d for d in dims], np.int32)
    y = b.like(x, [d for i, d in enumerate(x.shape) if i not in dims])
    b.op("SQUEEZE", [x.index], [y.index], opts, negative_dims=negative)
    return y


def step_relu(b: _Builder, x: _T) -> _T:
    name = b.pick(["RELU", "RELU6"])
    if name == "RELU" or b.rng.random() < 0.5:
        y = b.requantized(x.shape, x.scale * INT8_SPREAD)
        requant = True
    else:
        y = b.like(x)
        requant = False
    b.op(name, [x.index], [y.index], None, output_quantization="new" if requant else "same")
    return y


def step_requantize(b: _Builder, x: _T) -> _T:
    y = b.requantized(x.shape, x.scale * INT8_SPREAD)
    b.op("QUANTIZE", [x.index], [y.index], None, input="int8")
    return y


def step_fully_connected(b: _Builder, x: _T) -> _T:
    schema = _schema()
    size = int(np.prod(x.shape))
    keep = bool(b.rng.random() < 0.3) and len(x.shape) > 1
    if keep or (len(x.shape) > 2 and b.rng.random() < 0.3):
        depth = x.shape[-1]
        how = "keep-num-dims" if keep else "last axis"
    else:
        depth = size // x.shape[0] if len(x.shape) > 1 else size
        how = "flatten" if len(x.shape) > 2 else f"rank {len(x.shape)}"
    units = int(b.rng.integers(1, 12))
    per_channel = b.rng.random() < 0.5
    w_scales = b.rng.uniform(0.002, 0.03, size=units if per_channel else 1)
    wi = b.constant(b.rng.integers(-127, 128, size=(units, depth)).astype(np.int8), "INT8",
                    scale=w_scales, zero_point=np.zeros(w_scales.size, np.int64))
    bias, bias_kind = _bias_inputs(b, x, w_scales, units)
    opts = schema.FullyConnectedOptionsT()
    opts.fusedActivationFunction = b.activation_code()
    opts.keepNumDims = keep
    shape = x.shape[:-1] + [units] if keep else [size // depth, units]
    spread = np.sqrt(depth) * INT8_SPREAD * 73 * x.scale * float(np.mean(w_scales))
    y = b.requantized(shape, spread)
    b.op("FULLY_CONNECTED", [x.index, wi, *bias], [y.index], opts, input=how, bias=bias_kind,
         weights="per-channel" if per_channel else "per-tensor",
         activation=ACTIVATIONS[opts.fusedActivationFunction])
    return y


def step_softmax(b: _Builder, x: _T) -> _T:
    schema = _schema()
    opts = schema.SoftmaxOptionsT()
    opts.beta = float(b.pick([1.0, 1.0, 0.5, 2.0, float(b.rng.uniform(0.1, 3.0))]))
    y = b.activation(x.shape, 1.0 / 256, -128)
    b.op("SOFTMAX", [x.index], [y.index], opts, beta="1" if opts.beta == 1.0 else "other",
         rank=len(x.shape))
    return y


def step_logistic(b: _Builder, x: _T) -> _T:
    y = b.activation(x.shape, 1.0 / 256, -128)
    b.op("LOGISTIC", [x.index], [y.index], None, rank=len(x.shape))
    return y


def _steps_for(x: _T) -> list:
    rank = len(x.shape)
    steps = [step_add_broadcast, step_residual, step_pad, step_reshape, step_relu,
             step_requantize, step_fully_connected, step_softmax, step_logistic, step_mean]
    if rank == 4:
        steps += [step_conv, step_conv, step_depthwise, step_depthwise, step_pool, step_pool]
    else:
        steps.append(step_expand_dims)
    if any(d == 1 for d in x.shape[1:]):
        steps.append(step_squeeze)
    return steps


def random_model(seed: int) -> RandomModel:
    """The model of this seed (the same bytes on every machine)."""
    schema = _schema()
    rng = np.random.default_rng([seed, 0xD217])
    b = _Builder(rng)
    rank = int(rng.choice([4, 4, 4, 3, 2, 1]))
    batch = 2 if rank > 1 and rng.random() < 0.15 else 1
    dims = {4: lambda: [int(rng.integers(1, 10)), int(rng.integers(1, 10)),
                        int(rng.integers(1, 5))],
            3: lambda: [int(rng.integers(1, 17)), int(rng.integers(1, 5))],
            2: lambda: [int(rng.integers(1, 33))],
            1: lambda: []}[rank]()
    shape = [batch, *dims] if rank > 1 else [int(rng.integers(1, 33))]
    float_input = rng.random() < 0.15
    x = b.requantized(shape, float(rng.uniform(0.5, 4.0)))
    if float_input:
        b.tensors.append({"shape": shape, "dtype": "FLOAT32"})
        first = len(b.tensors) - 1
        b.op("QUANTIZE", [first], [x.index], None, input="float32")
    else:
        first = x.index
    outputs = []
    for _ in range(int(rng.integers(1, 7))):
        step = b.pick(_steps_for(x))
        x = step(b, x)
        if rng.random() < 0.12 and x.index not in outputs:
            outputs.append(x.index)  # a tensor from the middle of the graph, as Grad-CAM's
            b.features["model second_output=yes"] += 1
    if rng.random() < 0.15:
        b.tensors.append({"shape": x.shape, "dtype": "FLOAT32"})
        b.op("DEQUANTIZE", [x.index], [len(b.tensors) - 1], None)
        final = len(b.tensors) - 1
    else:
        final = x.index
    if final in outputs:
        outputs.remove(final)
    outputs.insert(0, final)
    b.features[f"model input_rank={rank}"] += 1
    b.features[f"model batch={batch}"] += 1
    b.features[f"model input={'float32' if float_input else 'int8'}"] += 1
    data = cm.flatbuffer(b.tensors, b.operators, [first], outputs)
    del schema
    return RandomModel(seed, data, tuple(shape), "FLOAT32" if float_input else "INT8",
                       b.features)


def test_inputs(model: RandomModel, rng: np.random.Generator, count: int = 6) -> np.ndarray:
    """int8 inputs with -128 and 127 (cm.test_inputs), or float inputs that also saturate."""
    if model.input_dtype == "INT8":
        return cm.test_inputs(model.input_shape, rng, count)
    x = (rng.standard_normal((count, *model.input_shape)) * 3).astype(np.float32)
    x[0], x[1] = -1e4, 1e4
    return x


def compare_with_tflm(model: RandomModel, cache_dir=None) -> dict:
    """Run the generated C (HostModel) and TFLM's interpreter on the model's test inputs and
    compare every output bit for bit: {"outputs", "values" compared, "differing",
    "max_abs_diff", ...; how many int8 values of output 0 sit at -128 or 127 and how many
    distinct values it took (a model whose outputs are all one value tests little)}."""
    from tflite_micro.python.tflite_micro import runtime

    from drip_tiny.codegen import HostModel

    host = HostModel(model.data, cache_dir=cache_dir)
    ref = runtime.Interpreter.from_bytes(model.data, arena_size=1 << 20)
    values = differing = saturated = first_values = 0
    max_diff = 0.0
    distinct: set = set()
    for x in test_inputs(model, np.random.default_rng(model.seed)):
        ref.set_input(x.reshape(model.input_shape), 0)
        ref.invoke()
        for k, ours in enumerate(host.run(x)):
            theirs = ref.get_output(k)
            if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
                raise AssertionError(f"seed {model.seed}: output {k} is {ours.dtype} "
                                     f"{ours.shape}, TFLM's {theirs.dtype} {theirs.shape}")
            same = ours.view(np.int32) == theirs.view(np.int32) if ours.dtype == np.float32 else ours == theirs
            values += ours.size
            differing += int((~same).sum())
            if k == 0:
                first_values += ours.size
                distinct.update(np.unique(ours).tolist())
                if ours.dtype == np.int8:
                    saturated += int(((ours == -128) | (ours == 127)).sum())
            diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
            max_diff = max(max_diff, float(diff.max()) if diff.size else 0.0)
    return {"outputs": len(host.info.outputs), "values": values, "differing": differing,
            "max_abs_diff": max_diff, "arena_bytes": host.arena_bytes,
            "first_output_values": first_values,
            "first_output_saturated": saturated, "first_output_distinct": len(distinct)}


# What a few hundred seeds must cover: every op the code generator supports, and each value
# of each option that op's lowering reads.
_ACTS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")
REQUIRED_FEATURES = {
    *(f"CONV_2D {k}" for k in ("padding=SAME", "padding=VALID", "stride_h=2", "stride_h=3",
                               "stride_w=2", "stride_w=3", "dilation_h=2", "dilation_h=3",
                               "dilation_w=2", "dilation_w=3", "bias=yes", "bias=no",
                               "bias=omitted", "weights=per-channel", "weights=per-tensor",
                               "batch=2")),
    *(f"CONV_2D activation={a}" for a in _ACTS),
    *(f"DEPTHWISE_CONV_2D {k}" for k in ("padding=SAME", "padding=VALID", "stride_h=2",
                                         "stride_w=2", "dilation_h=2", "dilation_w=3",
                                         "depth_multiplier=1", "depth_multiplier=2",
                                         "depth_multiplier=3", "bias=yes", "bias=no",
                                         "weights=per-channel",
                                         "weights=per-tensor")),
    *(f"DEPTHWISE_CONV_2D activation={a}" for a in _ACTS),
    *(f"{p} {k}" for p in ("MAX_POOL_2D", "AVERAGE_POOL_2D")
      for k in ("padding=SAME", "padding=VALID", "stride_h=2", "stride_w=3",
                *(f"activation={a}" for a in _ACTS))),
    *(f"FULLY_CONNECTED {k}" for k in ("input=flatten", "input=last axis",
                                       "input=keep-num-dims", "input=rank 2", "bias=yes",
                                       "bias=no", "bias=omitted", "weights=per-channel",
                                       "weights=per-tensor", *(f"activation={a}" for a in _ACTS))),
    *(f"MEAN {k}" for k in ("keep_dims=True", "keep_dims=False", "negative_axes=True",
                            "axes=1+2", "axes=3", "axes=1+2+3")),
    *(f"ADD operand={k}" for k in ("broadcast", "lower-rank", "full", "self", "residual conv",
                                   "residual depthwise", "residual relu")),
    *(f"ADD activation={a}" for a in _ACTS),
    "PAD rank=4", "PAD rank=2", "PADV2 rank=4", "PADV2 value_shape=[]", "PADV2 value_shape=[1]",
    "RESHAPE new_shape=shape input", "RESHAPE new_shape=option", "RESHAPE new_shape=both",
    "EXPAND_DIMS negative_axis=True", "EXPAND_DIMS negative_axis=False",
    "SQUEEZE negative_dims=True", "SQUEEZE negative_dims=False",
    "RELU output_quantization=new", "RELU6 output_quantization=new",
    "RELU6 output_quantization=same",
    "QUANTIZE input=int8", "QUANTIZE input=float32", "DEQUANTIZE",
    "SOFTMAX beta=1", "SOFTMAX beta=other", "SOFTMAX rank=2", "SOFTMAX rank=4",
    "LOGISTIC rank=2", "LOGISTIC rank=4",
    "model batch=2", "model second_output=yes", "model input=float32",
    *(f"model input_rank={r}" for r in (1, 2, 3, 4)),
}


def covered(features: Counter) -> set[str]:
    """The REQUIRED_FEATURES among `features` (ops count by name alone)."""
    names = set(features)
    return {f for f in REQUIRED_FEATURES if f in names}
