"""scikit-learn's bundled 8x8 handwritten digits: the embedded default, no files needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drip_tiny.datasets.base import IMAGE, Dataset, limit_per_class
from drip_tiny.datasets.options import LoadOptions


def load(data_dir: Path | None, options: LoadOptions) -> Dataset:
    from sklearn.datasets import load_digits

    del data_dir  # ships inside scikit-learn
    bunch = load_digits()
    # Pixel values are 0..16 (counts of set pixels in 4x4 blocks of a 32x32 bitmap).
    x = (bunch.images.astype(np.float32) / 16.0)[..., np.newaxis]
    y = bunch.target.astype(np.int64)
    x, y = limit_per_class(x, y, options.max_per_class)
    return Dataset(
        name="digits", kind=IMAGE, x_pool=x, y_pool=y,
        class_names=tuple(str(c) for c in bunch.target_names),
        source="sklearn.datasets.load_digits",
        notes={"test_split": "none: a stratified 20% of the pool is held out"})
