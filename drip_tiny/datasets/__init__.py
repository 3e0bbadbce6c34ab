"""Dataset loaders. `load_dataset(name, data_dir, options)` is the one entry point."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from drip_tiny.datasets import cifar10, digits, idx, image_folder, speech_commands
from drip_tiny.datasets.base import AUDIO, IMAGE, Dataset
from drip_tiny.datasets.options import LoadOptions
from drip_tiny.errors import DatasetError

Loader = Callable[[Path | None, LoadOptions], Dataset]

LOADERS: dict[str, Loader] = {
    "digits": digits.load,
    "mnist": idx.load_mnist,
    "fashion-mnist": idx.load_fashion_mnist,
    "cifar10": cifar10.load,
    "speech-commands": speech_commands.load,
    "image-folder": image_folder.load,
}

DATASET_NAMES = tuple(LOADERS)


def load_dataset(name: str, data_dir: str | Path | None = None,
                 options: LoadOptions | None = None) -> Dataset:
    """Load dataset `name`; raise DatasetError naming the problem and the fix."""
    loader = LOADERS.get(name)
    if loader is None:
        close = difflib.get_close_matches(name, DATASET_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}.{hint}")
    return loader(Path(data_dir) if data_dir is not None else None, options or LoadOptions())


def dataset_fingerprint(dataset: Dataset) -> dict[str, int | str]:
    """Sizes and a label hash: enough to notice that the files behind a run have changed,
    which would make its saved split indices point at other samples."""
    import hashlib

    labels = hashlib.sha256(dataset.y_pool.astype("<i8").tobytes())
    if dataset.y_test is not None:
        labels.update(dataset.y_test.astype("<i8").tobytes())
    return {"pool": len(dataset.y_pool),
            "test": len(dataset.y_test) if dataset.y_test is not None else 0,
            "labels_sha256": labels.hexdigest()}


__all__ = ["AUDIO", "DATASET_NAMES", "IMAGE", "Dataset", "LoadOptions", "dataset_fingerprint",
           "load_dataset"]
