"""Random int8 models for the codegen tests: tf_keras models of random shapes, strides,
paddings, dilations, depth multipliers, activations and residual adds, converted with the
project's full-integer converter (drip_tiny.train.quantize.convert_int8).

Each builder takes a numpy Generator and returns (name, keras model, input shape). The
models are untrained (random weights) and calibrated on random data: their outputs mean
nothing, but they exercise every quantization path the converter writes.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = (None, "relu", "relu6")


def _act(rng):
    return ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))]


def _conv_args(rng, allow_dilation=False):
    # Keras dilated convolutions convert to SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND around an
    # undilated one; dilation is tested through `dilate` instead.
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    dilated = allow_dilation and rng.random() < 0.3
    stride = (1, 1) if dilated else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if dilated else (1, 1)
    padding = "same" if rng.random() < 0.5 else "valid"
    return {"kernel_size": k, "strides": stride, "dilation_rate": dilation, "padding": padding}


def _fits(size, args):
    k, d, _s = args["kernel_size"], args["dilation_rate"], args["strides"]
    if args["padding"] == "same":
        return True
    return all(size[i] >= (k[i] - 1) * d[i] + 1 for i in range(2))


def conv_stack(rng, keras):
    h, w, c = int(rng.integers(4, 11)), int(rng.integers(4, 11)), int(rng.integers(1, 4))
    inputs = keras.Input((h, w, c))
    x, size = inputs, (h, w)
    for _ in range(int(rng.integers(1, 4))):
        args = _conv_args(rng)
        if not _fits(size, args):
            args["padding"] = "same"
        layer_kind = rng.random()
        if layer_kind < 0.6:
            x = keras.layers.Conv2D(int(rng.integers(1, 9)), activation=_act(rng),
                                    use_bias=bool(rng.random() < 0.8), **args)(x)
        else:
            x = keras.layers.DepthwiseConv2D(depth_multiplier=int(rng.integers(1, 4)),
                                             activation=_act(rng),
                                             use_bias=bool(rng.random() < 0.8), **args)(x)
        size = tuple(int(v) for v in x.shape[1:3])
        if rng.random() < 0.4 and min(size) >= 2:
            pool = keras.layers.MaxPooling2D if rng.random() < 0.5 else keras.layers.AveragePooling2D
            p = (int(rng.integers(1, min(3, size[0]) + 1)), int(rng.integers(1, min(3, size[1]) + 1)))
            x = pool(pool_size=p, strides=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                     padding="same" if rng.random() < 0.5 else "valid")(x)
            size = tuple(int(v) for v in x.shape[1:3])
    x = keras.layers.GlobalAveragePooling2D()(x) if rng.random() < 0.5 else keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(int(rng.integers(2, 11)), activation=_act(rng))(x)
    return keras.Model(inputs, outputs), (h, w, c)


def residual(rng, keras):
    h, w, c = int(rng.integers(4, 10)), int(rng.integers(4, 10)), int(rng.integers(1, 4))
    filters = int(rng.integers(2, 9))
    inputs = keras.Input((h, w, c))
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    for _ in range(int(rng.integers(1, 3))):
        y = keras.layers.Conv2D(filters, int(rng.integers(1, 4)), padding="same",
                                activation=_act(rng))(x)
        if rng.random() < 0.5:
            y = keras.layers.DepthwiseConv2D(3, padding="same")(y)
        x = keras.layers.Add()([x, y])
        if rng.random() < 0.5:
            x = keras.layers.ReLU()(x)
    if rng.random() < 0.5:
        x = keras.layers.ZeroPadding2D(((int(rng.integers(0, 3)), int(rng.integers(0, 3))),
                                        (int(rng.integers(0, 3)), int(rng.integers(0, 3)))))(x)
        x = keras.layers.Conv2D(filters, 3, strides=2)(x)
    target = x
    x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(int(rng.integers(2, 8)))(x)
    # Two outputs like drip-tiny's models: the logits and the Grad-CAM target activation.
    return keras.Model(inputs, [logits, target]), (h, w, c)


def conv1d(rng, keras):
    n, c = int(rng.integers(16, 64)), int(rng.integers(1, 3))
    inputs = keras.Input((n, c))
    x = keras.layers.Conv1D(int(rng.integers(2, 8)), int(rng.integers(2, 6)),
                            strides=int(rng.integers(1, 3)), padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling1D(int(rng.integers(2, 4)))(x)
    x = keras.layers.Conv1D(int(rng.integers(2, 8)), 3, activation=_act(rng))(x)
    target = x
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    logits = keras.layers.Dense(int(rng.integers(2, 6)))(x)
    return keras.Model(inputs, [logits, target]), (n, c)


def reductions(rng, keras):
    """Average pooling, then MEAN over other axes than H and W (tf ops in a Lambda layer)."""
    import tensorflow as tf

    h, w, c = int(rng.integers(2, 8)), int(rng.integers(2, 8)), int(rng.integers(2, 6))
    inputs = keras.Input((h, w, c))
    x = keras.layers.Conv2D(int(rng.integers(2, 6)), 1, activation=_act(rng))(inputs)
    x = keras.layers.AveragePooling2D(
        pool_size=(int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1))),
        strides=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
        padding="same" if rng.random() < 0.5 else "valid")(x)
    axes = [[3], [1], [2], [1, 2, 3]][int(rng.integers(4))]
    keep = bool(rng.random() < 0.5)
    x = keras.layers.Lambda(lambda t: tf.reduce_mean(t, axis=axes, keepdims=keep))(x)
    x = keras.layers.Flatten()(x)
    if rng.random() < 0.5:
        x = keras.layers.ReLU(max_value=6.0 if rng.random() < 0.5 else None)(x)  # unfused
    outputs = keras.layers.Dense(int(rng.integers(2, 6)))(x)
    return keras.Model(inputs, outputs), (h, w, c)


BUILDERS = {"conv": conv_stack, "residual": residual, "conv1d": conv1d,
            "reduce": reductions}


def convert(model, input_shape, rng, samples: int = 64) -> bytes:
    from drip_tiny.train.quantize import convert_int8

    scale = float(rng.uniform(0.5, 4.0))
    calibration = (rng.standard_normal((samples, *input_shape)) * scale).astype(np.float32)
    return convert_int8(model, calibration)


def test_inputs(shape, rng, count: int = 6) -> np.ndarray:
    """int8 inputs: all -128, all 127, then random values that include both extremes."""
    x = rng.integers(-128, 128, size=(count, *shape)).astype(np.int8)
    x[0] = -128
    x[1] = 127
    flat = x.reshape(count, -1)
    flat[2:, 0] = -128
    flat[2:, -1] = 127
    return x


def single_conv(rng, keras, depthwise: bool):
    """One CONV_2D or DEPTHWISE_CONV_2D whose activation is the model's output, to be
    dilated with `dilate` (the converter lowers Keras dilated convolutions to
    SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND around an undilated one)."""
    h, w, c = int(rng.integers(6, 12)), int(rng.integers(6, 12)), int(rng.integers(1, 4))
    inputs = keras.Input((h, w, c))
    args = {"kernel_size": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
            "strides": (int(rng.integers(1, 3)), int(rng.integers(1, 3))),
            "padding": "same" if rng.random() < 0.5 else "valid", "activation": _act(rng)}
    if depthwise:
        x = keras.layers.DepthwiseConv2D(depth_multiplier=int(rng.integers(1, 4)), **args)(inputs)
    else:
        x = keras.layers.Conv2D(int(rng.integers(1, 6)), **args)(inputs)
    return keras.Model(inputs, x), (h, w, c)


def dilate(data: bytes, dilation_h: int, dilation_w: int) -> bytes:
    """Set the dilation of the model's only convolution and fix its output shape."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    graph = model.subgraphs[0]
    (op,) = [o for o in graph.operators
             if model.operatorCodes[o.opcodeIndex].builtinCode in
             (schema.BuiltinOperator.CONV_2D, schema.BuiltinOperator.DEPTHWISE_CONV_2D)]
    opts = op.builtinOptions
    opts.dilationHFactor, opts.dilationWFactor = dilation_h, dilation_w
    x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    kh, kw = w.shape[1], w.shape[2]

    def out(size, k, stride, d):
        eff = (k - 1) * d + 1
        if opts.padding == schema.Padding.SAME:
            return (size + stride - 1) // stride
        if size < eff:
            raise ValueError("the dilated filter does not fit the input with VALID padding")
        return (size + stride - eff) // stride

    shape = list(y.shape)
    shape[1] = out(x.shape[1], kh, opts.strideH, dilation_h)
    shape[2] = out(x.shape[2], kw, opts.strideW, dilation_w)
    y.shape = np.asarray(shape, dtype=np.int32)
    if y.shapeSignature is not None:
        y.shapeSignature = np.asarray(shape, dtype=np.int32)
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# --- Models written directly as flatbuffers (ops the converter rarely emits) ---------------

def flatbuffer(tensors: list[dict], operators: list[tuple], inputs: list[int],
               outputs: list[int]) -> bytes:
    """A one-subgraph .tflite. tensors: dicts with shape, dtype ("INT8", ...), and optional
    scale, zero_point, data (numpy, for constants). operators: (builtin name, inputs,
    outputs, options object or None), e.g. ("ADD", [0, 1], [2], schema.AddOptionsT())."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    graph = schema.SubGraphT()
    graph.tensors = []
    for i, spec in enumerate(tensors):
        t = schema.TensorT()
        t.name = spec.get("name", f"t{i}").encode()
        t.shape = np.asarray(spec["shape"], dtype=np.int32)
        t.type = getattr(schema.TensorType, spec["dtype"])
        if "scale" in spec:
            q = schema.QuantizationParametersT()
            q.scale = np.atleast_1d(np.asarray(spec["scale"], dtype=np.float32))
            q.zeroPoint = np.atleast_1d(np.asarray(spec.get("zero_point", 0), dtype=np.int64))
            q.quantizedDimension = spec.get("quantized_dimension", 0)
            t.quantization = q
        t.buffer = 0
        if spec.get("data") is not None:
            b = schema.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(spec["data"]).astype(
                spec["data"].dtype.newbyteorder("<")).tobytes(), dtype=np.uint8)
            model.buffers.append(b)
            t.buffer = len(model.buffers) - 1
        graph.tensors.append(t)
    codes, graph.operators = [], []
    for name, ins, outs, options in operators:
        code = getattr(schema.BuiltinOperator, name)
        if code not in codes:
            codes.append(code)
        op = schema.OperatorT()
        op.opcodeIndex = codes.index(code)
        op.inputs = np.asarray(ins, dtype=np.int32)
        op.outputs = np.asarray(outs, dtype=np.int32)
        if options is not None:
            op.builtinOptionsType = getattr(schema.BuiltinOptions,
                                            type(options).__name__[:-1])
            op.builtinOptions = options
        graph.operators.append(op)
    model.operatorCodes = []
    for code in codes:
        oc = schema.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        model.operatorCodes.append(oc)
    graph.inputs = np.asarray(inputs, dtype=np.int32)
    graph.outputs = np.asarray(outputs, dtype=np.int32)
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _q(rng):
    return {"scale": float(rng.uniform(0.005, 0.2)), "zero_point": int(rng.integers(-20, 21))}


def broadcast_add(rng) -> tuple[bytes, tuple[int, ...]]:
    """ADD of an activation and a broadcast operand (a constant or the same input reduced)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    h, w, c = (int(v) for v in rng.integers(1, 6, size=3))
    other = [1, h, w, c]
    for axis in rng.choice([1, 2, 3], size=int(rng.integers(1, 3)), replace=False):
        other[axis] = 1
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = int(rng.choice([0, 1, 3]))
    tensors = [{"shape": [1, h, w, c], "dtype": "INT8", **_q(rng)},
               {"shape": other, "dtype": "INT8", **_q(rng),
                "data": rng.integers(-128, 128, size=other).astype(np.int8)},
               {"shape": [1, h, w, c], "dtype": "INT8", **_q(rng)}]
    order = [0, 1] if rng.random() < 0.5 else [1, 0]
    return flatbuffer(tensors, [("ADD", order, [2], opts)], [0], [2]), (1, h, w, c)


def pad_mean_requantize(rng) -> tuple[bytes, tuple[int, ...]]:
    """PADV2 (or PAD), MEAN over random axes (negative ones too), int8 -> int8 QUANTIZE."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    shape = [1] + [int(v) for v in rng.integers(1, 6, size=3)]
    pads = rng.integers(0, 3, size=(4, 2)).astype(np.int32)
    pads[0] = 0
    padded = [d + int(a + b) for d, (a, b) in zip(shape, pads)]
    q_in = _q(rng)
    axes = sorted(rng.choice([1, 2, 3], size=int(rng.integers(1, 4)), replace=False).tolist())
    axes_written = np.asarray([a - 4 if rng.random() < 0.5 else a for a in axes], np.int32)
    keep = bool(rng.random() < 0.5)
    reduced = [1 if i in axes else d for i, d in enumerate(padded)] if keep else \
        [d for i, d in enumerate(padded) if i not in axes]
    tensors = [{"shape": shape, "dtype": "INT8", **q_in},
               {"shape": [4, 2], "dtype": "INT32", "data": pads},
               {"shape": padded, "dtype": "INT8", **q_in},
               {"shape": [len(axes_written)], "dtype": "INT32", "data": axes_written},
               {"shape": reduced, "dtype": "INT8", **_q(rng)},
               {"shape": reduced, "dtype": "INT8", **_q(rng)},
               {"shape": [], "dtype": "INT8", **q_in,
                "data": np.asarray(rng.integers(-128, 128), dtype=np.int8)}]
    mean_opts = schema.ReducerOptionsT()
    mean_opts.keepDims = keep
    v2 = rng.random() < 0.5
    ops = [("PADV2" if v2 else "PAD", [0, 1, 6] if v2 else [0, 1], [2],
            schema.PadV2OptionsT() if v2 else schema.PadOptionsT()),
           ("MEAN", [2, 3], [4], mean_opts),
           ("QUANTIZE", [4], [5], None)]
    return flatbuffer(tensors, ops, [0], [5]), tuple(shape)


def standalone_activation(rng) -> tuple[bytes, tuple[int, ...]]:
    """RELU (requantizing) or RELU6 (TFLM clamps and ignores the output quantization) as
    separate operators."""
    shape = [1] + [int(v) for v in rng.integers(1, 6, size=3)]
    name = "RELU" if rng.random() < 0.5 else "RELU6"
    q_in = _q(rng)
    q_out = _q(rng) if name == "RELU" or rng.random() < 0.5 else q_in
    tensors = [{"shape": shape, "dtype": "INT8", **q_in},
               {"shape": shape, "dtype": "INT8", **q_out}]
    return flatbuffer(tensors, [(name, [0], [1], None)], [0], [1]), tuple(shape)


def fully_connected(rng) -> tuple[bytes, tuple[int, ...]]:
    """FULLY_CONNECTED with per-tensor or per-channel weights, several batches, maybe no
    bias, a fused activation: the per-tensor multiplier is where TFLM multiplies the two
    scales in float32."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    batches, depth, units = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 40),
                                              rng.integers(1, 12)))
    per_channel = rng.random() < 0.5
    w_scale = rng.uniform(0.001, 0.05, size=units if per_channel else 1)
    x_q, y_q = _q(rng), _q(rng)
    opts = schema.FullyConnectedOptionsT()
    opts.fusedActivationFunction = int(rng.choice([0, 1, 2, 3]))
    tensors = [{"shape": [batches, depth], "dtype": "INT8", **x_q},
               {"shape": [units, depth], "dtype": "INT8", "scale": w_scale,
                "zero_point": np.zeros(w_scale.size, np.int64),
                "data": rng.integers(-127, 128, size=(units, depth)).astype(np.int8)},
               {"shape": [batches, units], "dtype": "INT8", **y_q}]
    inputs = [0, 1]
    if rng.random() < 0.7:
        tensors.append({"shape": [units], "dtype": "INT32",
                        "scale": x_q["scale"] * w_scale,
                        "zero_point": np.zeros(w_scale.size, np.int64),
                        "data": rng.integers(-3000, 3000, size=units).astype(np.int32)})
        inputs.append(3)
    return (flatbuffer(tensors, [("FULLY_CONNECTED", inputs, [2], opts)], [0], [2]),
            (batches, depth))


def per_tensor_conv(rng) -> tuple[bytes, tuple[int, ...]]:
    """CONV_2D with one filter scale for all channels and two batches."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from drip_tiny.codegen.quant import out_size

    h, w, c, oc = (int(v) for v in rng.integers(2, 7, size=4))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    opts = schema.Conv2DOptionsT()
    opts.padding = int(rng.integers(0, 2))  # SAME or VALID
    opts.strideH, opts.strideW = (int(v) for v in rng.integers(1, 3, size=2))
    opts.dilationHFactor = opts.dilationWFactor = 1
    opts.fusedActivationFunction = int(rng.choice([0, 1, 3]))
    pad = "SAME" if opts.padding == 0 else "VALID"
    kh, kw = min(kh, h), min(kw, w)
    oh, ow = out_size(pad, h, kh, opts.strideH), out_size(pad, w, kw, opts.strideW)
    x_q = _q(rng)
    w_scale = float(rng.uniform(0.001, 0.05))
    tensors = [{"shape": [2, h, w, c], "dtype": "INT8", **x_q},
               {"shape": [oc, kh, kw, c], "dtype": "INT8", "scale": w_scale,
                "data": rng.integers(-127, 128, size=(oc, kh, kw, c)).astype(np.int8)},
               {"shape": [oc], "dtype": "INT32", "scale": x_q["scale"] * w_scale,
                "data": rng.integers(-3000, 3000, size=oc).astype(np.int32)},
               {"shape": [2, oh, ow, oc], "dtype": "INT8", **_q(rng)}]
    return flatbuffer(tensors, [("CONV_2D", [0, 1, 2], [3], opts)], [0], [3]), (2, h, w, c)
