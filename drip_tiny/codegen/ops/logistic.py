"""LOGISTIC (int8 in, int8 out): the parameters of `dt_logistic_s8`, derived as TFLM's
Prepare derives them (micro/kernels/logistic_common.cc CalculateArithmeticOpDataLogistic).

Pure Python: this runs at export time, which never imports TensorFlow.

TFLM's arithmetic, which the numbers below must reproduce exactly:
- real = input_scale (float32 widened to double) * 2^27 (27 = 31 - 4 integer bits of the
  rescaled input).
- frexp(real) = q * 2^shift; multiplier = std::round(q * 2^31), ties away from zero, with
  NO fix-up when it rounds to 2^31 (unlike QuantizeMultiplier; it cannot happen for a
  float32 scale, whose 24-bit mantissa makes q * 2^31 an exact integer below 2^31).
- input_range_radius = floor(15 * 2^27 / 2^shift) in double (CalculateInputRadius(4, shift)).
TFLM checks only the output zero point (-128); its kernel always produces steps of 1/256,
so drip-tiny also requires the output scale 1/256 rather than silently mislabel the output.
"""

from __future__ import annotations

import math

import numpy as np

from drip_tiny.codegen.ops._tflm_scaling import frexp_q31
from drip_tiny.errors import QuantizationError

C_FUNCTION = "dt_logistic_s8"
C_HEADER = "dt_logistic_s8.h"

INPUT_INTEGER_BITS = 4
OUTPUT_SCALE = 1.0 / 256
OUTPUT_ZERO_POINT = -128
# Below this the shift turns negative and TFLM's CalculateInputRadius shifts by a negative
# amount (undefined behaviour); no converter produces such a scale.
MIN_INPUT_SCALE = 2.0 ** -27


def prepare(input_scale: float, input_zero_point: int, output_scale: float,
            output_zero_point: int) -> dict[str, int]:
    """The integer parameters of `dt_logistic_s8` for an int8 LOGISTIC with these
    quantization parameters.

    Returns {"input_zero_point", "input_range_radius", "input_multiplier",
    "input_left_shift"}.
    """
    if int(input_zero_point) != input_zero_point or not -128 <= input_zero_point <= 127:
        raise QuantizationError(f"LOGISTIC: input zero point {input_zero_point!r} is not an "
                                "int8 value; only int8 models are supported")
    try:
        scale = float(np.float32(input_scale))
    except (TypeError, ValueError) as exc:
        raise QuantizationError(f"LOGISTIC: input scale {input_scale!r} is not a number") from exc
    if not (math.isfinite(scale) and scale >= MIN_INPUT_SCALE):
        raise QuantizationError(
            f"LOGISTIC: input scale {input_scale!r} must be a finite number of at least 2^-27 "
            "(TFLM's fixed-point logistic cannot represent smaller steps); re-convert the "
            "model with a representative dataset")
    if output_zero_point != OUTPUT_ZERO_POINT or not _is_one_256th(output_scale):
        raise QuantizationError(
            f"LOGISTIC: int8 output must have scale 1/256 and zero point -128 (TFLM's kernel "
            f"always computes in steps of 1/256), got scale {output_scale!r} and zero point "
            f"{output_zero_point}; re-convert the model with the TFLite converter, which sets "
            "these for int8 sigmoid")

    real = scale * float(1 << (31 - INPUT_INTEGER_BITS))
    multiplier, shift = frexp_q31(real)
    if multiplier >= 1 << 31:  # unreachable for float32 scales, see the module docstring
        raise QuantizationError(f"LOGISTIC: input scale {input_scale!r} makes TFLM's multiplier "
                                "overflow int32; use a float32 scale")
    radius = math.floor(((1 << INPUT_INTEGER_BITS) - 1)
                        * float(1 << (31 - INPUT_INTEGER_BITS)) / float(1 << shift))
    return {"input_zero_point": int(input_zero_point), "input_range_radius": radius,
            "input_multiplier": multiplier, "input_left_shift": shift}


def macs(shape: tuple[int, ...]) -> int:
    """Rough cost in 32x32->64 fixed-point multiplies: about 19 per element (rescale, exp,
    reciprocal)."""
    return 19 * int(np.prod(shape, dtype=np.int64))


def _is_one_256th(scale: float) -> bool:
    """TFLM compares the float32 scale with 1.f / 256 exactly."""
    try:
        return bool(np.float32(scale) == np.float32(OUTPUT_SCALE))
    except (TypeError, ValueError):
        return False
