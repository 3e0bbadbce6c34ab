"""TFLM's Prepare-time arithmetic, in Python, so generated C runs straight through.

Every function here reproduces a TFLM/TFLite helper exactly, including where it computes in
float32 and where in double (Python floats are doubles; scales read from the flatbuffer are
float32 values held exactly in a double):
- `quantize_multiplier`: QuantizeMultiplier (frexp, round half away from zero, 2^31 -> 2^30).
- `activation_range`: CalculateActivationRangeQuantized (f / scale in float32, std::round).
- `padding`: ComputePaddingHeightWidth / ComputeOutSize.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def round_half_away(x: float) -> int:
    """std::round on a double (or a float32 held in a double)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q31 multiplier, shift) with real = multiplier * 2^(shift - 31), as TFLM's
    QuantizeMultiplier (double-rounding build: no clamp of the shift to 30)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))  # exact: scaling a double by 2^31
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: the same, checked to be a right shift."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier {real} is not in (0, 1)")
    return quantize_multiplier(real)


def _quantize_f32(f: float, scale: float, zero_point: int) -> int:
    q = np.float32(f) / np.float32(scale)  # float32 division, as TFLM's Quantize
    return zero_point + round_half_away(float(q))


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for NONE, RELU, RELU6, RELU_N1_TO_1. Raises
    ValueError for the fused activations TFLM's int8 kernels do not apply (TANH, ...)."""
    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, _quantize_f32(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (max(qmin, _quantize_f32(0.0, scale, zero_point)),
                min(qmax, _quantize_f32(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, _quantize_f32(-1.0, scale, zero_point)),
                min(qmax, _quantize_f32(1.0, scale, zero_point)))
    raise ValueError(activation)


def out_size(padding: str, size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size + stride - effective) // stride


def padding(padding_name: str, size: int, filter_size: int, stride: int,
            dilation: int = 1) -> tuple[int, int]:
    """(output size, top/left padding) as ComputePaddingHeightWidth computes them. The
    kernels only need the top/left padding: taps beyond the far edge are skipped."""
    out = out_size(padding_name, size, filter_size, stride, dilation)
    effective = (filter_size - 1) * dilation + 1
    total = max(0, (out - 1) * stride + effective - size)
    return out, total // 2


def conv_multipliers(input_scale: float, filter_scales: Iterable[float], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: per channel, double(input_scale) *
    double(filter_scale) / double(output_scale); a single filter scale is broadcast."""
    scales = list(filter_scales)
    if len(scales) == 1:
        scales = scales * channels
    pairs = [quantize_multiplier(input_scale * s / output_scale) for s in scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def fully_connected_multiplier(input_scale: float, filter_scale: float,
                               output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler for a per-tensor FULLY_CONNECTED: the product of
    the two scales is taken in float32 before the division in double."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / output_scale)
