"""DRIP score variants: how a Grad-CAM map becomes one number per sample.

    raw     mean of the ReLU'd map over its positions, in the logit's units
    max     mean of map / max(map)                     (0 when the map is all zero)
    minmax  mean of the bilinear resize to the input size of (map - min) / (max - min)
            (0 when the map is constant), as pytorch-grad-cam normalizes and resizes

docs/drip-scores.md states the formulas. The mean of a bilinear resize is a fixed weighted
sum of the coarse map; `resize_mean_weights` precomputes those weights once per model.

The int8 path hands over an integer map (int64) and one positive scale; every variant is then
computed from integers with a fixed order of float32 operations, the ones the generated C
kernel runs on the Cortex-M4F's single-precision FPU, so the device reproduces it bit for bit
(see `drips_from_int_map`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from drip_tiny.errors import ConfigError

VARIANTS = ("raw", "max", "minmax")
DEFAULT_VARIANT = "minmax"


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ConfigError(f"unknown DRIP score variant {variant!r}; choose one of "
                          f"{', '.join(VARIANTS)} (default {DEFAULT_VARIANT})")
    return variant


def _axis_weights(coarse: int, fine: int) -> list[Fraction]:
    """Weight of each coarse cell in the mean of a 1D bilinear resize coarse -> fine.

    Half-pixel centres (cv2.resize INTER_LINEAR, tf.image.resize 'bilinear', torch
    align_corners=False): output o samples x = (o + 0.5) * coarse / fine - 0.5, clamped to the
    edge cells. Exact rationals; they sum to 1.
    """
    weights = [Fraction(0)] * coarse
    for o in range(fine):
        x = Fraction(2 * o + 1, 2) * Fraction(coarse, fine) - Fraction(1, 2)
        x0 = x.numerator // x.denominator  # floor
        frac = x - x0
        lo, hi = min(max(x0, 0), coarse - 1), min(max(x0 + 1, 0), coarse - 1)
        weights[lo] += (1 - frac) / fine
        weights[hi] += frac / fine
    return weights


def resize_mean_weights(map_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> np.ndarray:
    """float64 weights w (map_shape) with mean(bilinear_resize(m, input_shape)) == sum(w * m).

    The 2D weights are the outer product of the per-axis weights (bilinear is separable).
    """
    if len(map_shape) != len(input_shape):
        raise ValueError(f"map {map_shape} and input {input_shape} differ in rank")
    weights = np.ones((), dtype=np.float64)
    for coarse, fine in zip(map_shape, input_shape):
        axis = np.array([float(w) for w in _axis_weights(coarse, fine)], dtype=np.float64)
        weights = np.multiply.outer(weights, axis)
    return weights


def drips_from_float_map(cam: np.ndarray, variant: str, weights: np.ndarray) -> np.ndarray:
    """DRIPS of float maps `cam` (N, *map_shape), already ReLU'd. Returns float64 (N,)."""
    cam = np.asarray(cam, dtype=np.float64)
    flat = cam.reshape(len(cam), -1)
    if variant == "raw":
        mean: npt.NDArray[np.float64] = flat.mean(axis=1)  # numpy's stubs say Any
        return mean
    hi = flat.max(axis=1)
    if variant == "max":
        safe = np.where(hi > 0, hi, 1.0)
        return np.where(hi > 0, flat.mean(axis=1) / safe, 0.0)
    lo = flat.min(axis=1)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    norm = (flat - lo[:, None]) / safe[:, None]
    return np.where(span > 0, norm @ weights.reshape(-1), 0.0)


def drips_from_int_map(relu_map: np.ndarray, variant: str, weights: np.ndarray,
                       raw_constant: float, exponent: int = 0) -> float:
    """DRIPS of one integer map R >= 0 (int64, map_shape) whose real value is
    R * raw_constant * 2**exponent.

    The exact recipe, in single precision (float32, every operation rounded, no fused
    multiply-add), the operations of the generated C kernel one for one, so the device's
    score equals this one bit for bit:
        raw     ldexp((float)sum(R) * (float)raw_constant, exponent) / (float)n
        max     (float)sum(R) / ((float)max(R) * (float)n)             0 if max(R) == 0
        minmax  acc = 0; for p in row-major order: acc += (float)w[p] * (float)(R[p] - min R)
                acc / (float)(max R - min R)                            0 if max == min
    where n is the number of map positions and sums of R are exact int64.
    """
    f32 = np.float32
    flat = np.asarray(relu_map, dtype=np.int64).reshape(-1)
    n = _int_to_f32(flat.size)
    total = _int_to_f32(flat.sum())
    if variant == "raw":
        scaled = f32(total * f32(raw_constant))
        return float(f32(np.ldexp(scaled, exponent)) / n)
    hi = flat.max()
    if variant == "max":
        if hi == 0:
            return 0.0
        return float(total / f32(_int_to_f32(hi) * n))
    lo = flat.min()
    if hi == lo:
        return 0.0
    acc = f32(0.0)
    for w, r in zip(weights.reshape(-1).astype(np.float32), (flat - lo).astype(np.float32)):
        acc = f32(acc + f32(w * r))  # two roundings: the C loop with contraction off
    return float(acc / _int_to_f32(hi - lo))


def _int_to_f32(value: int | np.integer[Any]) -> np.float32:
    """int64 -> float32 in one rounding, as C's (float) of an int64_t (not via double)."""
    # [()] of a 0-d array is its scalar; numpy's stubs type it as an array.
    return cast(np.float32, np.array(value, dtype=np.int64).astype(np.float32)[()])
