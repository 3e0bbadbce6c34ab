"""The types an op module works with: what it is given (OpContext) and what it returns
(Lowered). See the package docstring of drip_tiny.codegen.ops for the contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drip_tiny.codegen import quant
from drip_tiny.errors import CodegenError
from drip_tiny.tflite.flatbuffer import (
    ACTIVATIONS,
    PADDINGS,
    ModelInfo,
    OperatorInfo,
    TensorInfo,
)

C_TYPES = {"INT8": "int8_t", "FLOAT32": "float", "INT32": "int32_t", "INT16": "int16_t"}


@dataclass(frozen=True)
class In:
    """Call argument: the data pointer of the op's input `k` (const)."""
    k: int


@dataclass(frozen=True)
class Out:
    """Call argument: the data pointer of the op's output `k`."""
    k: int = 0


@dataclass(frozen=True)
class CArray:
    """A constant array placed in flash; as a params field it becomes a pointer to it."""
    ctype: str  # int8_t, int32_t, float, uint8_t
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(np.asarray(self.values).size) * {"int8_t": 1, "uint8_t": 1}.get(self.ctype, 4)


# A params field or a call argument as _Emitter.value (emit.py) spells it in C: NULL, a
# number, an inline int array, a C expression, or a pointer to a CArray in flash.
Value = int | float | np.integer | str | list[int] | tuple[int, ...] | CArray | None


@dataclass
class Lowered:
    """One op, ready to emit.

    function/header: the kernel's C function and its header in firmware/kernels/ (the
    source is the header's name with .c); None for an op that emits no code (an alias).
    params_type/params: a struct emitted as `static const` data and passed by pointer as
    the first argument; field values are int, float, None (NULL), a list of ints (an
    inline array field) or a CArray (a pointer to flash data).
    args: the remaining arguments in order: In(k), Out(k), or a C expression string.
    alias: output 0 is a view of input `alias` (RESHAPE and friends): same bytes, no code.
    inplace: inputs whose buffer output 0 may take over when that input dies at this op;
    only for kernels whose header allows output == input.
    """
    function: str | None = None
    header: str | None = None
    params_type: str | None = None
    params: Mapping[str, Value] = field(default_factory=dict)
    args: list[In | Out | Value] = field(default_factory=list)
    macs: int = 0
    alias: int | None = None
    inplace: tuple[int, ...] = ()


@dataclass(frozen=True)
class OpContext:
    """An operator with its tensors, and helpers that fail with a message naming the op,
    the option and the tensor."""
    index: int
    op: OperatorInfo
    model: ModelInfo

    @property
    def name(self) -> str:
        return self.op.name

    def input(self, k: int) -> TensorInfo | None:
        """Input k, or None when it is omitted (-1) or absent."""
        if k >= len(self.op.inputs) or self.op.inputs[k] < 0:
            return None
        return self.model.tensors[self.op.inputs[k]]

    def need_input(self, k: int) -> TensorInfo:
        t = self.input(k)
        if t is None:
            raise self.fail(f"input {k} is missing")
        return t

    def output(self, k: int = 0) -> TensorInfo:
        return self.model.tensors[self.op.outputs[k]]

    # Any: an option's value as the untyped flatbuffers schema object holds it
    def option(self, name: str, default: Any = None) -> Any:
        return self.op.options.get(name, default)

    def where(self, tensor: TensorInfo | None = None) -> str:
        t = tensor if tensor is not None else (self.output() if self.op.outputs else None)
        return f"{self.name} (operator {self.index}" + (
            f", tensor {t.name!r} {list(t.shape)} {t.dtype})" if t is not None else ")")

    def fail(self, message: str, option: str | None = None,
             tensor: TensorInfo | None = None) -> CodegenError:
        what = f"option {option}: " if option else ""
        return CodegenError(f"{self.where(tensor)}: {what}{message}", op=self.name,
                            operator=self.index, option=option, detail=f"{what}{message}")

    def expect_counts(self, inputs: tuple[int, ...], outputs: int = 1) -> None:
        if len(self.op.inputs) not in inputs:
            raise self.fail(f"has {len(self.op.inputs)} inputs; drip-tiny supports "
                            f"{' or '.join(map(str, inputs))}")
        if len(self.op.outputs) != outputs:
            raise self.fail(f"has {len(self.op.outputs)} outputs; expected {outputs}")

    def expect_type(self, tensor: TensorInfo, *dtypes: str) -> None:
        if tensor.dtype not in dtypes:
            raise self.fail(f"type {tensor.dtype} is not supported (expected "
                            f"{' or '.join(dtypes)})", tensor=tensor)

    def expect_activation_tensor(self, tensor: TensorInfo, dtype: str = "INT8") -> None:
        self.expect_type(tensor, dtype)
        if tensor.is_constant:
            raise self.fail("a constant data input is not supported here", tensor=tensor)
        if dtype == "INT8" and len(tensor.scales) != 1:
            raise self.fail(f"needs one (per-tensor) scale, found {len(tensor.scales)}",
                            tensor=tensor)

    def expect_rank(self, tensor: TensorInfo, *ranks: int) -> None:
        if len(tensor.shape) not in ranks:
            raise self.fail(f"rank {len(tensor.shape)} is not supported (expected "
                            f"{' or '.join(map(str, ranks))})", tensor=tensor)

    def expect_same_quantization(self, a: TensorInfo, b: TensorInfo) -> None:
        if abs(a.scale - b.scale) > 1e-6 or a.zero_point != b.zero_point:
            raise self.fail(f"input and output quantization differ ({a.scale}, {a.zero_point}) "
                            f"vs ({b.scale}, {b.zero_point}); TFLM requires them equal",
                            tensor=b)

    def activation(self) -> str:
        code = self.option("fusedActivationFunction", 0)
        return ACTIVATIONS.get(code, f"ACTIVATION_{code}")

    def activation_range(self) -> tuple[int, int]:
        out = self.output()
        act = self.activation()
        try:
            return quant.activation_range(act, out.scale, out.zero_point)
        except ValueError:
            raise self.fail(f"fused activation {act} is not supported (NONE, RELU, RELU6, "
                            "RELU_N1_TO_1 are)", option="fusedActivationFunction") from None

    def padding_name(self) -> str:
        code = self.option("padding", 0)
        name = PADDINGS.get(code, str(code))
        if name not in ("SAME", "VALID"):
            raise self.fail(f"padding {name} is not supported", option="padding")
        return name

    def constant(self, k: int, *dtypes: str) -> np.ndarray:
        t = self.need_input(k)
        if not t.is_constant:
            raise self.fail(f"input {k} must be a constant tensor", tensor=t)
        if dtypes:
            self.expect_type(t, *dtypes)
        return np.asarray(t.data)

    def positive_option(self, name: str) -> int:
        value = int(self.option(name, 1))
        if value < 1:
            raise self.fail(f"must be >= 1, got {value}", option=name)
        return value


def size_of(tensor: TensorInfo) -> int:
    return int(np.prod(tensor.shape)) if tensor.shape else 1


def pad4(shape: tuple[int, ...]) -> list[int]:
    return [1] * (4 - len(shape)) + [int(d) for d in shape]
