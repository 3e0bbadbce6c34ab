"""Grad-CAM and DRIP scores on the int8 model, the computation the device runs.

TFLM (the bit-exact int8 reference) runs the model with every tensor preserved; the head's
int8 activations give the exact gradient (int8_head.py); the map is then built in integers:

    alpha = sum over positions of g            (int64; the mean's 1/n goes into the scale)
    alpha is brought below 2**ALPHA_BITS by a rounding right shift (exponent += shift)
    I[p]  = sum_k alpha[k] * (q_A[p, k] - zero_point_A)        (int64)
    R[p]  = max(I[p], 0)          real Grad-CAM map = R * raw_constant * 2**exponent,
    raw_constant = scale * s_A / n  (per class: the scale does not depend on the sample)

and DRIPS follows from R by the recipe in variants.drips_from_int_map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from drip_tiny.drip.int8_head import (
    RESHAPE_OPS,
    SUPPORTED_OPS,
    Gradient,
    Int8Head,
    normalize,
)
from drip_tiny.drip.variants import (
    check_variant,
    drips_from_int_map,
    resize_mean_weights,
)
from drip_tiny.errors import ModelError
from drip_tiny.tflite.flatbuffer import ModelInfo, read_model
from drip_tiny.tflite.tflm_reference import TflmModel

ALPHA_BITS = 24  # keeps I[p] and sum(R) inside int64 for any target an MCU can hold


@dataclass(frozen=True)
class ScoreResult:
    """Per sample: the predicted class (argmax of the logits, lowest index on ties) and DRIPS."""

    predicted: np.ndarray  # (N,) int64
    drips: np.ndarray  # (N,) float64
    logits: np.ndarray  # (N, classes): int8 on the int8 path, float32 on the float path


@dataclass(frozen=True)
class Int8Map:
    relu_map: np.ndarray  # R, int64, the target's spatial shape
    raw_constant: float  # real map = R * raw_constant * 2**exponent
    exponent: int
    predicted: int
    logits: np.ndarray

    @property
    def raw_scale(self) -> float:
        """The real value of one unit of R (float64, for plotting heat maps)."""
        return float(np.ldexp(self.raw_constant, self.exponent))


def default_tensors(info: ModelInfo) -> tuple[int, int]:
    """(target, logits) tensor indices when the caller names none.

    Logits: the model's rank-2 output. Target: a rank-3/4 output if the model has one (drip-tiny
    models expose it); otherwise the last feature map before the head, found by walking back
    from the logits through the operators int8 Grad-CAM supports, then forward through
    reshapes until its rank matches the input's (a Conv1D lowered to CONV_2D is followed by a
    RESHAPE back to 1D).
    """
    logits = [t.index for t in info.outputs if len(t.shape) == 2]
    if len(logits) != 1:
        raise ModelError(f"cannot tell the logits among the outputs {[t.shape for t in info.outputs]}; "
                         "name the logits tensor with logits=")
    target = [t.index for t in info.outputs if len(t.shape) in (3, 4)]
    if len(target) == 1:
        return target[0], logits[0]
    producers = {out: op for op in info.operators for out in op.outputs}
    current = logits[0]
    while current in producers and producers[current].name in SUPPORTED_OPS:
        current = producers[current].inputs[0]
    rank = len(info.inputs[0].shape)
    while len(info.tensors[current].shape) != rank:
        nxt = [op for op in info.consumers(current) if op.name in RESHAPE_OPS]
        if len(nxt) != 1:
            break
        current = nxt[0].outputs[0]
    if current == info.inputs[0].index or len(info.tensors[current].shape) not in (3, 4):
        raise ModelError("found no feature map before the head of this model; name the Grad-CAM "
                         "target tensor with target=")
    return current, logits[0]


def _tensor_index(info: ModelInfo, ref: int | str | None, what: str) -> int:
    if isinstance(ref, int):
        if not 0 <= ref < len(info.tensors):
            raise ModelError(f"{what} tensor index {ref} is out of range")
        return ref
    found = [t.index for t in info.tensors if t.name == ref]
    if len(found) != 1:
        raise ModelError(f"the model has {'no' if not found else 'several'} tensor(s) named "
                         f"{ref!r} for the {what}")
    return found[0]


class Int8GradCam:
    """int8 Grad-CAM over any int8 .tflite whose head (target -> logits) int8_head supports."""

    def __init__(self, model_bytes: bytes, target: int | str | None = None,
                 logits: int | str | None = None) -> None:
        info = read_model(model_bytes)
        if target is None or logits is None:
            default_target, default_logits = default_tensors(info)
            target = default_target if target is None else target
            logits = default_logits if logits is None else logits
        self.info = info
        self.head = Int8Head.from_model(info, _tensor_index(info, target, "target"),
                                        _tensor_index(info, logits, "logits"))
        self.input = info.inputs[0]
        if self.input.dtype != "INT8":
            raise ModelError(f"the model's input is {self.input.dtype}; int8 Grad-CAM needs a "
                             "full-integer model with int8 input")
        self.target = self.head.target
        self.map_shape = tuple(self.target.shape[1:-1])
        input_spatial = tuple(self.input.shape[1:1 + len(self.map_shape)])
        if len(self.target.shape) not in (3, 4) or len(input_spatial) != len(self.map_shape):
            raise ModelError(f"the target {self.target.name!r} {self.target.shape} is not a 1D or "
                             f"2D feature map of the input {self.input.shape}")
        self.resize_weights = resize_mean_weights(self.map_shape, input_spatial)
        self._tflm = TflmModel(model_bytes, preserve_all_tensors=True)

    @property
    def num_classes(self) -> int:
        return int(self.head.logits.shape[-1])

    def raw_constant(self, gradient: Gradient) -> float:
        """scale * s_A / n: the per-class constant of raw_scale (before the power of two)."""
        n = float(np.prod(self.map_shape))
        return gradient.scale * self.target.scale / n

    def map_from_tensors(self, q_target: np.ndarray,
                         gradient: Gradient) -> tuple[np.ndarray, float, int]:
        """(R, raw_constant, exponent) from the int8 target and its gradient (the module
        docstring's recipe)."""
        channels = self.target.shape[-1]
        alpha = gradient.g.reshape(-1, channels).sum(axis=0)
        alpha, shift = normalize(alpha, ALPHA_BITS)
        centred = q_target.reshape(-1, channels).astype(np.int64) - self.target.zero_point
        relu = np.maximum(centred @ alpha, 0)
        return relu.reshape(self.map_shape), self.raw_constant(gradient), gradient.exponent + shift

    def gradient(self, x_int8: np.ndarray) -> tuple[int, np.ndarray, Gradient, np.ndarray]:
        """Run one sample; return (predicted class, int8 logits, dy_c/dA, int8 target)."""
        x = np.asarray(x_int8)
        if x.dtype != np.int8:
            raise TypeError(f"int8 Grad-CAM takes int8 samples, got {x.dtype}")
        if x.size != int(np.prod(self.input.shape)):
            raise ValueError(f"sample of shape {x.shape} does not fit the input {self.input.shape}")
        self._tflm.invoke(x)
        logits = self._tflm.tensor(self.head.logits.index).reshape(-1)
        predicted = int(np.argmax(logits))  # the first maximum: lowest class index on ties
        values = {i: self._tflm.tensor(i) for i in self.head.needed_tensors}
        gradient = self.head.gradient(predicted, values)
        return predicted, logits, gradient, self._tflm.tensor(self.target.index)

    def tensor(self, index: int) -> np.ndarray:
        """An int8 tensor of the last sample run (for inspection and tests)."""
        return self._tflm.tensor(index)

    def map(self, x_int8: np.ndarray) -> Int8Map:
        """The integer Grad-CAM map of one sample (int8, input shape with or without batch)."""
        predicted, logits, gradient, q_target = self.gradient(x_int8)
        relu_map, constant, exponent = self.map_from_tensors(q_target, gradient)
        return Int8Map(relu_map=relu_map, raw_constant=constant, exponent=exponent,
                       predicted=predicted, logits=logits)

    def score(self, x_int8: np.ndarray, variant: str = "minmax", progress: bool = False,
              desc: str = "int8 DRIPS") -> ScoreResult:
        """DRIPS of a batch of int8 samples (N, *input shape without batch)."""
        check_variant(variant)
        n = len(x_int8)
        predicted = np.empty(n, dtype=np.int64)
        drips = np.empty(n, dtype=np.float64)
        logits = np.empty((n, self.num_classes), dtype=np.int8)
        for i in tqdm(range(n), desc=desc, unit="sample", disable=not progress, leave=False):
            m = self.map(x_int8[i])
            predicted[i], logits[i] = m.predicted, m.logits
            drips[i] = drips_from_int_map(m.relu_map, variant, self.resize_weights,
                                          m.raw_constant, m.exponent)
        return ScoreResult(predicted=predicted, drips=drips, logits=logits)
