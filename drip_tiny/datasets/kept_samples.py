"""The kept-samples file, kept.npz: what `drip-tiny pull` reads back from a device's store,
and what `drip-tiny train --extra` adds to the training split (the paper's loop, closed).

kept.npz holds x (int8, each sample shaped like the model input), predicted (the device's
class), drips (float32), id (the store's sample id), index (the store index) and the
device's input quantization (input_scale, input_zero_point) so that training can
dequantize x without the device. An optional y (true labels, added by a person) takes the
place of the predicted class as the label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from drip_tiny.errors import ConfigError


def save_kept(path: Path, kept: dict[str, npt.ArrayLike]) -> None:
    with open(path, "wb") as f:
        # The keys are array names; mypy matches the ** against savez's allow_pickle: bool.
        np.savez(f, **kept)  # type: ignore[arg-type]


def load_extra(path: Path, sample_shape: tuple[int, ...], num_classes: int
               ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], str]:
    """(x float32 in the dataset's scale, y, label source) from a kept.npz."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read {path} as an .npz of kept samples: {e}") from e
    missing = [k for k in ("x", "input_scale", "input_zero_point") if k not in arrays]
    if missing or ("y" not in arrays and "predicted" not in arrays):
        raise ConfigError(f"{path} lacks {', '.join(missing) or 'predicted (or y)'}: write it "
                          "with `drip-tiny pull`")
    q = arrays["x"]
    if q.dtype != np.int8:
        raise ConfigError(f"{path}: x is {q.dtype}, expected the device's int8 samples")
    n = len(q)
    size = int(np.prod(sample_shape))
    if q.size != n * size:
        raise ConfigError(f"{path}: samples of {q.size // max(1, n)} values; the dataset's "
                          f"samples have {size} ({list(sample_shape)})")
    source = "y" if "y" in arrays else "predicted"
    y = np.asarray(arrays[source]).astype(np.int64).reshape(-1)
    if len(y) != n:
        raise ConfigError(f"{path}: {len(y)} labels for {n} samples")
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ConfigError(f"{path}: labels outside 0..{num_classes - 1}")
    scale = float(arrays["input_scale"])
    zero = int(arrays["input_zero_point"])
    x = ((q.astype(np.float32) - zero) * np.float32(scale)).reshape(n, *sample_shape)
    return x, y, source
