"""The shape every dataset loader returns, and the helpers loaders share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drip_tiny.errors import DatasetError

IMAGE = "image"
AUDIO = "audio"


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset as the pipeline consumes it.

    `x_pool`/`y_pool` is the dataset's training pool, which the paper's protocol splits
    40/20/40 into train, validation and production. `x_test`/`y_test` is the dataset's own
    test split, or None when it has none (a held-out part of the pool is used then).
    Images are float32 NHWC in [0, 1]; audio is float32 (N, samples, 1) in [-1, 1].
    Labels are int64 class indices into `class_names`.
    """

    name: str
    kind: str
    x_pool: np.ndarray
    y_pool: np.ndarray
    class_names: tuple[str, ...]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    source: str = ""
    notes: dict[str, object] = field(default_factory=dict)  # JSON values, kept in metadata

    def __post_init__(self) -> None:
        _check_pair(self.name, "pool", self.x_pool, self.y_pool, len(self.class_names))
        if (self.x_test is None) != (self.y_test is None):
            raise ValueError("x_test and y_test must both be given or both be None")
        if self.x_test is not None and self.y_test is not None:  # both or neither, checked above
            _check_pair(self.name, "test", self.x_test, self.y_test, len(self.class_names))
            if self.x_test.shape[1:] != self.x_pool.shape[1:]:
                raise DatasetError(
                    f"{self.name}: test samples have shape {self.x_test.shape[1:]} but "
                    f"training samples {self.x_pool.shape[1:]}")

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_pool.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_test_split(self) -> bool:
        return self.x_test is not None


def _check_pair(name: str, part: str, x: np.ndarray, y: np.ndarray, num_classes: int) -> None:
    if len(x) != len(y):
        raise DatasetError(f"{name}: {len(x)} {part} samples but {len(y)} labels")
    if len(x) == 0:
        raise DatasetError(f"{name}: the {part} split is empty")
    if y.min() < 0 or y.max() >= num_classes:
        raise DatasetError(
            f"{name}: {part} labels must lie in 0..{num_classes - 1}, found {int(y.min())}..{int(y.max())}")


def require_dir(data_dir: Path | None, dataset: str, hint: str) -> Path:
    """Return `data_dir` as a Path, or raise a DatasetError that tells how to get the data."""
    if data_dir is None:
        raise DatasetError(f"{dataset}: no --data-dir given. {hint}")
    path = Path(data_dir)
    if not path.exists():
        raise DatasetError(f"{dataset}: data directory {path} does not exist. {hint}")
    if not path.is_dir():
        raise DatasetError(f"{dataset}: {path} is not a directory. {hint}")
    return path


def limit_per_class(x: np.ndarray, y: np.ndarray, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first `limit` samples of each class, in file order (deterministic)."""
    if limit is None:
        return x, y
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        keep[np.flatnonzero(y == label)[:limit]] = True
    return x[keep], y[keep]
