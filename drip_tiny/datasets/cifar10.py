"""CIFAR-10 from the standard "CIFAR-10 python version" batch files.

Accepted: the extracted folder (data_batch_1..5, test_batch, batches.meta), the folder
holding it (cifar-10-batches-py/), or the original cifar-10-python.tar.gz archive.
Each batch is a pickled dict: b"data" is (N, 3072) uint8 in channel-planar order (1024 red,
1024 green, 1024 blue, each row-major 32x32), b"labels" a list of N ints. The batches are
pickles: only load files you trust, as with any pickle.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from drip_tiny.datasets.base import IMAGE, Dataset, limit_per_class, require_dir
from drip_tiny.datasets.options import LoadOptions
from drip_tiny.errors import DatasetError

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
ARCHIVE = "cifar-10-python.tar.gz"
DEFAULT_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
_HINT = ("Pass --data-dir pointing at the extracted cifar-10-batches-py folder (data_batch_1..5, "
         "test_batch, batches.meta) or at a folder holding cifar-10-python.tar.gz.")


def _unpickle(raw: bytes, where: str) -> dict[Any, Any]:  # whatever the pickle holds
    try:
        obj = pickle.load(io.BytesIO(raw), encoding="bytes")
    except Exception as exc:  # pickle raises many types on corrupt input
        raise DatasetError(f"{where} is not a CIFAR-10 python batch (unpickling failed: {exc})") from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{where} is not a CIFAR-10 python batch (holds a {type(obj).__name__})")
    return obj


def _decode_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(raw, where)
    if b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{where}: a CIFAR-10 batch needs the keys b'data' and b'labels', "
                           f"found {sorted(k for k in batch)}")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DatasetError(f"{where}: b'data' must be (N, 3072) uint8, found {data.shape} {data.dtype}")
    if len(labels) != len(data):
        raise DatasetError(f"{where}: {len(data)} images but {len(labels)} labels")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # planar -> NHWC
    return images.astype(np.float32) / 255.0, labels


def _reader(directory: Path) -> tuple[Callable[[str], bytes], str]:
    """Return a function reading a member by name, and a description of the source."""
    for folder in (directory, directory / "cifar-10-batches-py"):
        if (folder / TEST_BATCH).is_file() or (folder / TRAIN_BATCHES[0]).is_file():
            def read_file(name: str, folder: Path = folder) -> bytes:
                path = folder / name
                if not path.is_file():
                    raise DatasetError(f"{folder} has no {name}. {_HINT}")
                return path.read_bytes()
            return read_file, str(folder)
    archive = directory / ARCHIVE if directory.is_dir() else directory
    if archive.is_file():
        try:
            tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 (read below, closed after)
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DatasetError(f"{archive} is not a readable .tar.gz archive: {exc}") from exc

        def read_member(name: str) -> bytes:
            if name not in members:
                raise DatasetError(f"{archive} has no member {name}. {_HINT}")
            handle = tar.extractfile(members[name])
            assert handle is not None
            return handle.read()
        return read_member, str(archive)
    raise DatasetError(f"cifar10: {directory} holds neither the CIFAR-10 batch files nor {ARCHIVE}. {_HINT}")


def load(data_dir: Path | None, options: LoadOptions) -> Dataset:
    directory = require_dir(data_dir, "cifar10", _HINT)
    read, source = _reader(directory)
    parts = [_decode_batch(read(name), f"{source}/{name}") for name in TRAIN_BATCHES]
    x_pool = np.concatenate([p[0] for p in parts])
    y_pool = np.concatenate([p[1] for p in parts])
    x_test, y_test = _decode_batch(read(TEST_BATCH), f"{source}/{TEST_BATCH}")
    class_names: tuple[str, ...] = DEFAULT_CLASSES
    try:
        meta = _unpickle(read(META), f"{source}/{META}")
        names = meta.get(b"label_names")
        if names:
            class_names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    except DatasetError:
        pass  # batches.meta only carries the names, which are fixed for CIFAR-10 anyway
    x_pool, y_pool = limit_per_class(x_pool, y_pool, options.max_per_class)
    x_test, y_test = limit_per_class(x_test, y_test, options.max_per_class)
    return Dataset(name="cifar10", kind=IMAGE, x_pool=x_pool, y_pool=y_pool, x_test=x_test,
                   y_test=y_test, class_names=class_names, source=source)
