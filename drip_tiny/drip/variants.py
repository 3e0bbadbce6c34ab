"""DRIP score variants: how a Grad-CAM map becomes one number per sample.

    raw     mean of the ReLU'd map over its positions, in the logit's units
    max     mean of map / max(map)                     (0 when the map is all zero)
    minmax  mean of the bilinear resize to the input size of (map - min) / (max - min)
            (0 when the map is constant), as pytorch-grad-cam normalizes and resizes

docs/drip-scores.md states the formulas. The mean of a bilinear resize is a fixed weighted
sum of the coarse map; `resize_mean_weights` precomputes those weights once per model.

The int8 path hands over an integer map (int64) and one positive scale; every variant is then
computed from integers with a fixed order of float64 operations, so C can reproduce it bit
for bit (see `drips_from_int_map`).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import ConfigError

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
        return flat.mean(axis=1)
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
                       raw_scale: float) -> float:
    """DRIPS of one integer map R >= 0 (int64, map_shape) whose real value is R * raw_scale.

    The exact recipe (the C kernel follows it operation for operation, in float64):
        raw     (double)sum(R) * raw_scale / n
        max     (double)sum(R) / ((double)max(R) * n)                    0 if max(R) == 0
        minmax  acc = 0; for p in row-major order: acc += w[p] * (double)(R[p] - min(R))
                acc / (double)(max(R) - min(R))                          0 if max == min
    where n is the number of map positions. Integer sums are exact in int64.
    """
    flat = np.asarray(relu_map, dtype=np.int64).reshape(-1)
    n = float(flat.size)
    if variant == "raw":
        return float(np.float64(int(flat.sum())) * np.float64(raw_scale) / np.float64(n))
    hi = int(flat.max())
    if variant == "max":
        if hi == 0:
            return 0.0
        return float(np.float64(int(flat.sum())) / (np.float64(hi) * np.float64(n)))
    lo = int(flat.min())
    if hi == lo:
        return 0.0
    acc = 0.0
    for w, r in zip(weights.reshape(-1).tolist(), (flat - lo).tolist()):
        acc += w * float(r)  # Python floats are IEEE float64: the C loop's exact sequence
    return acc / float(hi - lo)
