"""Reading a .tflite flatbuffer without TensorFlow (the schema module ships with tflite-micro).

Commands that do not train never import TensorFlow; this module is what they use to learn a
model's tensors, inputs, outputs and operators.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from drip_tiny.errors import QuantizationError

_TENSOR_TYPES: dict[int, str] = {v: k for k, v in vars(schema.TensorType).items()
                                  if not k.startswith("_")}
_OP_NAMES: dict[int, str] = {v: k for k, v in vars(schema.BuiltinOperator).items()
                             if not k.startswith("_")}
_OPTION_NAMES: dict[int, str] = {v: k for k, v in vars(schema.BuiltinOptions).items()
                                  if not k.startswith("_")}
# Enum names for the option fields that hold enums, so callers compare with strings.
ACTIVATIONS: dict[int, str] = {v: k for k, v in vars(schema.ActivationFunctionType).items()
                               if not k.startswith("_")}
PADDINGS: dict[int, str] = {v: k for k, v in vars(schema.Padding).items()
                            if not k.startswith("_")}
_NUMPY_TYPES: dict[str, type[np.generic]] = {
    "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "INT32": np.int32,
    "INT64": np.int64, "FLOAT32": np.float32, "BOOL": np.bool_}


@dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # schema name: INT8, INT32, FLOAT32, ...
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int = 0  # the axis per-channel scales run along
    data: np.ndarray | None = field(default=None, compare=False, repr=False)  # constants only

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclass(frozen=True)
class OperatorInfo:
    name: str  # builtin op name, e.g. CONV_2D
    inputs: tuple[int, ...]  # -1 marks an omitted optional input (e.g. no bias)
    outputs: tuple[int, ...]
    # Builtin options as plain fields of the schema's *OptionsT object, e.g. {"strideW": 2,
    # "padding": 1, "fusedActivationFunction": 0}; empty for ops without options.
    # Any: the values are whatever the untyped flatbuffers schema object holds.
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    options_type: str = ""  # e.g. "Conv2DOptions"


@dataclass(frozen=True)
class ModelInfo:
    tensors: tuple[TensorInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    operators: tuple[OperatorInfo, ...]

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(op.name for op in self.operators)

    def consumers(self, tensor_index: int) -> list[OperatorInfo]:
        return [op for op in self.operators if tensor_index in op.inputs]


def read_model(data: bytes) -> ModelInfo:
    """Parse the first subgraph of a .tflite flatbuffer."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise QuantizationError("not a TFLite flatbuffer (the file identifier 'TFL3' is missing at "
                                "byte 4); pass the model.tflite that `drip-tiny train` wrote")
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
        graph = model.subgraphs[0]
        tensors = tuple(_tensor(i, t, model.buffers) for i, t in enumerate(graph.tensors))
        operators = tuple(_operator(op, model.operatorCodes)
                          for op in (graph.operators if graph.operators is not None else ()))
        inputs = tuple(tensors[i] for i in graph.inputs)
        outputs = tuple(tensors[i] for i in graph.outputs)
    except (IndexError, AttributeError, TypeError, ValueError, struct.error) as exc:
        # A truncated or damaged file: flatbuffers reads past its end (struct.error).
        raise QuantizationError(f"corrupt TFLite flatbuffer ({exc}); replace it with the "
                                "model.tflite that `drip-tiny train` wrote") from exc
    return ModelInfo(tensors=tensors, inputs=inputs, outputs=outputs, operators=operators)


def numpy_dtype(tensor: TensorInfo) -> type[np.generic]:
    return _NUMPY_TYPES[tensor.dtype]


# The parameters typed Any below are objects of the generated flatbuffers schema
# (schema_py_generated), which has no type annotations.

def _op_name(code: Any) -> str:
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    return _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")


def _operator(op: Any, codes: Any) -> OperatorInfo:
    options = op.builtinOptions
    return OperatorInfo(
        name=_op_name(codes[op.opcodeIndex]),
        inputs=tuple(int(i) for i in (op.inputs if op.inputs is not None else ())),
        outputs=tuple(int(i) for i in (op.outputs if op.outputs is not None else ())),
        options=dict(vars(options)) if options is not None else {},
        options_type=_OPTION_NAMES.get(op.builtinOptionsType, "") if options is not None else "")


def _tensor(index: int, t: Any, buffers: Any) -> TensorInfo:
    q = t.quantization
    scales = tuple(float(s) for s in q.scale) if q is not None and q.scale is not None else ()
    zps = tuple(int(z) for z in q.zeroPoint) if q is not None and q.zeroPoint is not None else ()
    name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
    shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
    dtype = _TENSOR_TYPES.get(t.type, str(t.type))
    return TensorInfo(index=index, name=name, shape=shape, dtype=dtype,
                      scales=scales, zero_points=zps,
                      quantized_dimension=int(q.quantizedDimension) if q is not None else 0,
                      data=_constant(name, shape, dtype, buffers[t.buffer]))


def _constant(name: str, shape: tuple[int, ...], dtype: str,
              buffer: Any) -> np.ndarray | None:
    """The tensor's constant value, or None for activations (their buffer is empty)."""
    if buffer.data is None or len(buffer.data) == 0:
        if getattr(buffer, "offset", 0) > 1:
            raise QuantizationError(f"tensor {name!r} keeps its data outside the flatbuffer "
                                    "(a model over 2 GB); drip-tiny reads self-contained models")
        return None
    if dtype not in _NUMPY_TYPES:
        raise QuantizationError(f"constant tensor {name!r} has type {dtype}, which drip-tiny "
                                "cannot read; expected an int8/int32/float32 model")
    raw = np.asarray(buffer.data, dtype=np.uint8).tobytes()
    values = np.frombuffer(raw, dtype=np.dtype(_NUMPY_TYPES[dtype]).newbyteorder("<"))
    count = int(np.prod(shape)) if shape else 1
    if values.size != count:
        raise QuantizationError(f"constant tensor {name!r} holds {values.size} values but its "
                                f"shape {shape} needs {count}: the flatbuffer is corrupt")
    return values.reshape(shape).astype(_NUMPY_TYPES[dtype])
