"""The paper's data split: 40% train / 20% validation / 40% production, plus a test split.

Every split is stratified (each class is cut in the same proportions) and seeded (the same
seed and labels give the same indices on any machine: numpy's PCG64 generator). When the
dataset has its own test split, the whole pool is cut 40/20/40; otherwise a stratified
`heldout_fraction` of the pool is set aside as the test split first.

Per class with n samples (after the held-out cut), the cut points are round(0.4 n) and
round(0.6 n): each split holds its share of every class to within one sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from drip_tiny.errors import DatasetError

if TYPE_CHECKING:
    from drip_tiny.datasets import Dataset

SPLIT_NAMES = ("train", "validation", "production", "test")
PAPER_FRACTIONS = (0.4, 0.2, 0.4)
HELDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class Splits:
    """Indices into the dataset's pool (train/validation/production), and the test split.

    `test` indexes the dataset's own test arrays when `test_from_pool` is False, and the
    pool when it is True.
    """

    train: np.ndarray
    validation: np.ndarray
    production: np.ndarray
    test: np.ndarray
    test_from_pool: bool
    seed: int

    def indices(self, name: str) -> np.ndarray:
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLIT_NAMES}")
        indices: np.ndarray = getattr(self, name)  # one of the four index fields
        return indices

    def save(self, path: str | Path | BinaryIO) -> None:
        np.savez(path, train=self.train, validation=self.validation, production=self.production,
                 test=self.test, test_from_pool=np.array(self.test_from_pool),
                 seed=np.array(self.seed))

    @classmethod
    def load(cls, path: str | Path | BinaryIO) -> Splits:
        with np.load(path) as f:
            return cls(train=f["train"], validation=f["validation"], production=f["production"],
                       test=f["test"], test_from_pool=bool(f["test_from_pool"]), seed=int(f["seed"]))


def _cut(indices: np.ndarray, fractions: tuple[float, ...]) -> list[np.ndarray]:
    bounds = np.round(np.cumsum(fractions)[:-1] * len(indices)).astype(int)
    return np.split(indices, bounds)


def make_splits(y_pool: np.ndarray, *, has_test_split: bool, seed: int,
                fractions: tuple[float, float, float] = PAPER_FRACTIONS,
                heldout_fraction: float = HELDOUT_FRACTION) -> Splits:
    """Stratified, seeded split of a pool with labels `y_pool`."""
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for label in np.unique(y_pool):
        members = rng.permutation(np.flatnonzero(y_pool == label))
        if not has_test_split:
            n_test = round(heldout_fraction * len(members))
            parts[3].append(members[:n_test])
            members = members[n_test:]
        for part, chunk in zip(parts, _cut(members, fractions)):
            part.append(chunk)
        if len(parts[0][-1]) == 0:
            raise DatasetError(
                f"class {int(label)} has only {int(np.sum(y_pool == label))} sample(s): too few for "
                "a 40/20/40 split with a training sample; give it more samples or drop the class")
    train, validation, production, test = (
        np.sort(np.concatenate(p)) if p else np.empty(0, dtype=np.int64) for p in parts)
    named = {"train": train, "validation": validation, "production": production}
    if not has_test_split:
        named["test"] = test
    empty = [name for name, part in named.items() if len(part) == 0]
    if empty:
        raise DatasetError(
            f"the pool of {len(y_pool)} samples is too small to split: the {' and '.join(empty)} "
            f"split(s) would be empty (smallest class: {int(np.bincount(y_pool).min())} samples). "
            "Give each class at least 5 samples, or more if the dataset has no test split")
    return Splits(train=train, validation=validation, production=production, test=test,
                  test_from_pool=not has_test_split, seed=seed)


def split_arrays(dataset: Dataset, splits: Splits, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) arrays of split `name` of `dataset` (a datasets.Dataset)."""
    idx = splits.indices(name)
    if name == "test" and not splits.test_from_pool:
        # test_from_pool is False only for a dataset with its own test split
        assert dataset.x_test is not None and dataset.y_test is not None
        return dataset.x_test[idx], dataset.y_test[idx]
    return dataset.x_pool[idx], dataset.y_pool[idx]


def make_dataset_splits(dataset: Dataset, seed: int) -> Splits:
    """Split `dataset` (a datasets.Dataset) the paper's way; its own test split when it has one."""
    splits = make_splits(dataset.y_pool, has_test_split=dataset.has_test_split, seed=seed)
    if dataset.has_test_split:
        assert dataset.y_test is not None  # has_test_split: x_test, and so y_test, is set
        splits = Splits(train=splits.train, validation=splits.validation,
                        production=splits.production, test=np.arange(len(dataset.y_test)),
                        test_from_pool=False, seed=seed)
    return splits
