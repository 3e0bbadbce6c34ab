"""TFLM's QuantizeMultiplier (kernels/internal/quantization_util.cc), reproduced in Python
for the activation kernels' Prepare. Private to drip_tiny.codegen.ops.

A real multiplier becomes a Q31 mantissa and a power-of-two shift. TFLM computes it in
double: frexp, then std::round of q * 2^31, which rounds ties away from zero (Python's
round() would round them to even, so it is not used).
"""

from __future__ import annotations

import math


def round_half_away(x: float) -> int:
    """std::round for doubles: nearest integer, ties away from zero. Exact for |x| < 2^52."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def frexp_q31(real: float) -> tuple[int, int]:
    """(round(q * 2^31), e) with real = q * 2^e and q in [0.5, 1): frexp and std::round, with
    no fix-up of a mantissa that rounds up to 2^31 (LOGISTIC's Prepare has none)."""
    q, exponent = math.frexp(real)
    return round_half_away(q * float(1 << 31)), exponent


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier for real > 0: (multiplier in [2^30, 2^31), shift), with a mantissa
    that rounds up to 2^31 folded to 2^30 and shift + 1, as TFLM does."""
    multiplier, shift = frexp_q31(real)
    if multiplier == 1 << 31:
        multiplier //= 2
        shift += 1
    if shift < -31:  # TFLM flushes multipliers under 2^-32 to zero
        return 0, 0
    return multiplier, shift
