"""TFLM's interpreter (the `tflite-micro` package) as the int8 reference.

The reference for int8 results is TFLM, not `tf.lite.Interpreter`: TFLite's XNNPACK and
even its reference kernels round differently from TFLM (MEAN, FULLY_CONNECTED), and the
device code must agree with TFLM bit for bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from drip_tiny.errors import QuantizationError
from drip_tiny.native_stderr import capture_fd2
from drip_tiny.tflite.flatbuffer import ModelInfo, read_model

# A generous first arena; the used size is then read from TFLM's RecordingMicroAllocator.
_ARENA_HEADROOM = 4 * 1024 * 1024


@dataclass(frozen=True)
class ArenaUsage:
    total: int
    head: int  # activation memory plan
    tail: int  # TFLM's own bookkeeping (64-bit host layout; smaller on a 32-bit MCU)


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float to int8 as TFLite's QUANTIZE does: x / scale in float32, rounded half away from
    zero (std::round), plus the zero point, clamped to [-128, 127]."""
    v = (np.asarray(x, dtype=np.float32) / np.float32(scale)).astype(np.float64)
    # exact: v has a 24-bit mantissa
    rounded: npt.NDArray[np.float64] = np.trunc(v + np.copysign(0.5, v))
    return np.clip(rounded + zero_point, -128, 127).astype(np.int8)


class TflmModel:
    """One TFLM interpreter over an int8 model; `invoke` runs a single sample."""

    def __init__(self, model_bytes: bytes, arena_size: int | None = None,
                 preserve_all_tensors: bool = False) -> None:
        """`preserve_all_tensors` gives every intermediate tensor its own memory, so that
        `tensor()` can read it after `invoke` (int8 Grad-CAM reads the head's activations)."""
        from tflite_micro.python.tflite_micro import runtime

        self.info = read_model(model_bytes)
        size = arena_size or (len(model_bytes) + _ARENA_HEADROOM)
        config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors
                  else runtime.InterpreterConfig.kAllocationRecording)
        self._preserve_all = preserve_all_tensors
        try:
            self._interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=size,
                                                               intrepreter_config=config)
        except RuntimeError as exc:
            raise QuantizationError(f"TFLM cannot load the model: {exc}") from exc
        self._input = self.info.inputs[0]

    def invoke(self, x_int8: np.ndarray) -> list[np.ndarray]:
        """Run one sample (int8, the model's input shape with or without the batch axis);
        return every output, batch axis removed, in the .tflite's output order."""
        x = np.asarray(x_int8)
        if x.dtype != np.int8:
            raise TypeError(f"TFLM input must be int8, got {x.dtype}")
        x = x.reshape(self._input.shape)
        self._interpreter.set_input(x, 0)
        try:
            self._interpreter.invoke()
        except RuntimeError as exc:
            raise QuantizationError(_invoke_failure(self.info, exc)) from exc
        return [self._interpreter.get_output(i)[0].copy() for i in range(len(self.info.outputs))]

    def tensor(self, index: int) -> np.ndarray:
        """The value of tensor `index` after the last `invoke` (needs preserve_all_tensors)."""
        if not self._preserve_all:
            raise RuntimeError("construct TflmModel with preserve_all_tensors=True to read "
                               "intermediate tensors")
        found = self._interpreter.GetTensor(index, 0)
        return np.asarray(found["tensor_data"]).reshape(self.info.tensors[index].shape).copy()

    def arena_usage(self) -> ArenaUsage:
        """The arena TFLM used, read from its RecordingMicroAllocator report on stderr."""
        _, text = capture_fd2(self._interpreter.print_allocations)
        found = {key: int(value) for key, value in
                 re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", text)}
        if set(found) != {"total", "head", "tail"}:
            raise QuantizationError(f"could not read TFLM's arena report: {text[:200]!r}")
        return ArenaUsage(total=found["total"], head=found["head"], tail=found["tail"])


def predict_logits(model: TflmModel, x_float: np.ndarray, logits_output: int,
                   progress: bool = False, desc: str = "TFLM int8") -> np.ndarray:
    """Quantize float inputs with the model's input parameters and return int8 logits (N, C)."""
    inp = model.info.inputs[0]
    q = quantize(x_float, inp.scale, inp.zero_point)
    n_classes = model.info.outputs[logits_output].shape[-1]
    out = np.empty((len(q), n_classes), dtype=np.int8)
    for i in tqdm(range(len(q)), desc=desc, unit="sample", disable=not progress, leave=False):
        out[i] = model.invoke(q[i])[logits_output]
    return out


def _invoke_failure(info: ModelInfo, exc: Exception) -> str:
    """Why TFLM could not run a model that it loaded: usually an op it does not support
    with these tensor types. (`train` refuses ops the code generator lacks before it
    trains, so this names the model's ops and leaves the op registry to codegen/.)"""
    return (f"TFLM could not run the model ({exc}); one of its ops "
            f"({', '.join(info.op_names)}) is not supported with these tensor types; use a "
            "model written by `drip-tiny train`, which checks every op before training")
