"""SOFTMAX (int8 in, int8 out): the parameters of `dt_softmax_s8`, derived as TFLM's Prepare
derives them (micro/kernels/softmax_common.cc CalculateSoftmaxParams ->
PreprocessSoftmaxScaling and CalculateInputRadius, quantization_util.cc).

Pure Python: this runs at export time, which never imports TensorFlow.

TFLM's arithmetic, which the numbers below must reproduce exactly:
- beta (a float32 in the flatbuffer) and the input scale (float32) are widened to double;
  real = beta * input_scale * 2^26 in double (26 = 31 - 5 integer bits of the scaled
  difference), capped at 2^31 - 1 (TFLM's double-rounding build; the single-rounding build
  would cap at 2^30 - 1).
- QuantizeMultiplier: frexp(real) = q * 2^shift, multiplier = round(q * 2^31) with ties away
  from zero (std::round), 2^31 folded to 2^30 with shift + 1. TFLM aborts unless real > 1.
- diff_min = -floor(31 * 2^26 / 2^shift), in double (exact: powers of two).
The output must be scale 1/256 exactly (TFLM compares the float32 with ==) and zero point -128.
"""

from __future__ import annotations

import math

import numpy as np

from drip_tiny.codegen.ops._tflm_scaling import quantize_multiplier
from drip_tiny.errors import QuantizationError

C_FUNCTION = "dt_softmax_s8"
C_HEADER = "dt_softmax_s8.h"

SCALED_DIFF_INTEGER_BITS = 5
# Exponentials are summed in Q12 (int32): 4095 ones still fit, 4096 overflow.
MAX_DEPTH = 4095
OUTPUT_SCALE = 1.0 / 256
OUTPUT_ZERO_POINT = -128


def prepare(input_scale: float, input_zero_point: int, output_scale: float,
            output_zero_point: int, *, beta: float = 1.0) -> dict[str, int]:
    """The integer parameters of `dt_softmax_s8` for an int8 SOFTMAX with these quantization
    parameters and beta (the op's SoftmaxOptions.beta).

    Returns {"input_multiplier", "input_left_shift", "diff_min"}. The input zero point is
    checked but not needed: softmax sees only differences to the row maximum.
    """
    _check_int8_zero_point("input", input_zero_point)
    scale = _float32("input scale", input_scale)
    if not (math.isfinite(scale) and scale > 0):
        raise QuantizationError(f"SOFTMAX: input scale {input_scale!r} must be a positive "
                                "finite number; re-convert the model with a representative "
                                "dataset")
    if not _is_one_256th(output_scale) or output_zero_point != OUTPUT_ZERO_POINT:
        raise QuantizationError(
            f"SOFTMAX: int8 output must have scale 1/256 and zero point -128 (TFLM refuses "
            f"anything else), got scale {output_scale!r} and zero point {output_zero_point}; "
            "re-convert the model with the TFLite converter, which sets these for int8 softmax")
    beta32 = _float32("beta", beta)
    if not math.isfinite(beta32):
        raise QuantizationError(f"SOFTMAX: beta {beta!r} is not finite")

    max_real_multiplier = float((1 << 31) - 1)
    real = min(beta32 * scale * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)), max_real_multiplier)
    if not real > 1.0:
        raise QuantizationError(
            f"SOFTMAX: beta * input_scale = {beta32!r} * {scale!r} is too small (at most 2^-26) "
            "for TFLM's int8 softmax, which aborts on it (QuantizeMultiplierGreaterThanOne); "
            "beta must be positive and the input range wider")
    multiplier, shift = quantize_multiplier(real)
    radius = math.floor(((1 << SCALED_DIFF_INTEGER_BITS) - 1)
                        * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)) / float(1 << shift))
    return {"input_multiplier": multiplier, "input_left_shift": shift, "diff_min": -radius}


def check_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, depth) of a SOFTMAX over the last axis of `shape`; refuses rows the kernel
    cannot sum (depth over 4095 overflows the Q12 sum, as it would in TFLM)."""
    if len(shape) < 1 or any(d < 1 for d in shape):
        raise QuantizationError(f"SOFTMAX: input shape {tuple(shape)} must have at least one "
                                "axis and no empty or unknown dimension")
    depth = int(shape[-1])
    if depth > MAX_DEPTH:
        raise QuantizationError(
            f"SOFTMAX: the last axis has {depth} values; the int8 kernel (like TFLM's) sums "
            f"exponentials in Q12 and supports at most {MAX_DEPTH}. Split the softmax or "
            "keep it in float outside the model")
    return int(np.prod(shape[:-1], dtype=np.int64)), depth


def macs(shape: tuple[int, ...]) -> int:
    """Rough cost in 32x32->64 fixed-point multiplies: per element two exp() evaluations
    (about 13 multiplies each) and the final product; per row the reciprocal (7)."""
    rows, depth = int(np.prod(shape[:-1], dtype=np.int64)), int(shape[-1])
    return rows * (27 * depth + 7)


def _float32(what: str, value: float) -> float:
    try:
        return float(np.float32(value))
    except (TypeError, ValueError) as exc:
        raise QuantizationError(f"SOFTMAX: {what} {value!r} is not a number") from exc


def _check_int8_zero_point(what: str, zero_point: int) -> None:
    if int(zero_point) != zero_point or not -128 <= zero_point <= 127:
        raise QuantizationError(f"SOFTMAX: {what} zero point {zero_point!r} is not an int8 "
                                "value; only int8 models are supported")


def _is_one_256th(scale: float) -> bool:
    """TFLM compares the float32 scale with 1.f / 256 exactly."""
    try:
        return bool(np.float32(scale) == np.float32(OUTPUT_SCALE))
    except (TypeError, ValueError):
        return False
