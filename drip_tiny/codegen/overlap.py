"""How far an operator's output may overlap its own input (the in-place trick of MIT's
TinyEngine, which TFLM does not play).

Every drip-tiny kernel computes output element j completely, from reads of its input, and
writes it before it reads anything for element j + 1; outputs are written in increasing j.
So if the output starts D bytes below the input (output byte j at input byte j - D), the
write of element j destroys input byte j - D, which is harmless when no later output
element reads a byte at or above it: D >= j - min_read(later than j) + 1 for every j.

`min_reads(function, params)` gives, per output element, the lowest input byte it reads
(a large number when it reads none), from the kernel's parameters; `min_gap` turns that
into the smallest safe D. Only int8 -> int8 kernels are listed: one byte per element.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

NONE = np.int64(1) << 60  # "reads nothing"


# A kernel's params (Lowered.params) read by field name. Any: which fields are ints and
# which int lists depends on the function, which the params' Value union cannot say.
_Params = Mapping[str, Any]


def _window_min(out_size: int, stride: int, pad: int, taps: int, dilation: int,
                size: int) -> np.ndarray:
    """Per output row (or column): the lowest input row a window reads, or -1."""
    result = np.full(out_size, -1, dtype=np.int64)
    for o in range(out_size):
        start = o * stride - pad
        for k in range(taps):
            v = start + k * dilation
            if 0 <= v < size:
                result[o] = v
                break
    return result


def _windowed(p: _Params, channel_min: np.ndarray, dilation: bool) -> np.ndarray:
    b, h, w = p["batches"], p["input_h"], p["input_w"]
    c = p.get("input_c", p.get("channels"))
    dh = p["dilation_h"] if dilation else 1
    dw = p["dilation_w"] if dilation else 1
    ymin = _window_min(p["output_h"], p["stride_h"], p["pad_h"], p["filter_h"], dh, h)
    xmin = _window_min(p["output_w"], p["stride_w"], p["pad_w"], p["filter_w"], dw, w)
    grid = (np.arange(b, dtype=np.int64)[:, None, None, None] * h * w * c
            + ymin[None, :, None, None] * w * c + xmin[None, None, :, None] * c
            + channel_min[None, None, None, :])
    empty = (ymin[None, :, None, None] < 0) | (xmin[None, None, :, None] < 0)
    grid = np.where(empty, NONE, grid)
    return np.broadcast_to(grid, (b, p["output_h"], p["output_w"], channel_min.size)).reshape(-1)


def min_reads(function: str, p: _Params) -> np.ndarray | None:
    """Lowest input byte read by each output element, in write order; None if unknown."""
    if function == "dt_conv2d_s8":
        return _windowed(p, np.zeros(p["output_c"], dtype=np.int64), dilation=True)
    if function == "dt_depthwise_conv2d_s8":
        oc = np.arange(p["input_c"] * p["depth_multiplier"], dtype=np.int64)
        return _windowed(p, oc // p["depth_multiplier"], dilation=True)
    if function in ("dt_max_pool2d_s8", "dt_avg_pool2d_s8"):
        return _windowed(p, np.arange(p["channels"], dtype=np.int64), dilation=False)
    if function == "dt_fully_connected_s8":
        rows = np.arange(p["batches"], dtype=np.int64) * p["accum_depth"]
        return np.repeat(rows, p["output_depth"])
    if function == "dt_mean_s8":
        dims = p["dims"]
        index: np.ndarray = np.arange(int(np.prod(dims)), dtype=np.int64).reshape(dims)
        axes = tuple(i for i in range(4) if p["reduce"][i])
        lowest: np.ndarray = index.min(axis=axes)
        return lowest.reshape(-1)
    if function == "dt_pad_s8":
        out, before, dims = p["out_dims"], p["before"], p["in_dims"]
        coords = np.indices(out, dtype=np.int64)
        inside = np.ones(out, dtype=bool)
        index = np.zeros(out, dtype=np.int64)
        for i in range(4):
            c = coords[i] - before[i]
            inside &= (c >= 0) & (c < dims[i])
            index = index * dims[i] + c
        return np.where(inside, index, NONE).reshape(-1)
    return None


def min_gap(reads: np.ndarray, input_bytes: int) -> int:
    """Smallest D >= 0 such that writing output byte j at input byte j - D never destroys
    an input byte a later output element reads."""
    n = reads.size
    if n <= 1:
        return 0
    later = np.minimum.accumulate(reads[::-1])[::-1]  # later[j] = min(reads[j:])
    need = np.arange(n - 1, dtype=np.int64) - later[1:] + 1
    # A write at or beyond the input's end destroys nothing: only count in-range writes.
    need = need[later[1:] < NONE]
    gap = int(need.max()) if need.size else 0
    return max(0, min(gap, n + input_bytes))
