"""MNIST and Fashion-MNIST from the standard IDX files, gzipped or not.

IDX format (LeCun): bytes 0-1 are zero, byte 2 is the element type (0x08 = unsigned byte,
...), byte 3 the number of dimensions; then one big-endian uint32 per dimension; then the
data, row-major.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any

import numpy as np

from drip_tiny.datasets.base import IMAGE, Dataset, limit_per_class, require_dir
from drip_tiny.datasets.options import LoadOptions
from drip_tiny.errors import DatasetError

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))

_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or plain) into an array of its stored shape."""
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise DatasetError(
            f"{path} is not an IDX file: its header {raw[:4].hex(' ')} should be "
            "00 00 <type> <ndim> (for example 00 00 08 03 for images); "
            "re-download the file or check that it is not an HTML error page")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DatasetError(f"{path}: IDX header is truncated ({len(raw)} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header_len != expected:
        raise DatasetError(
            f"{path}: the header announces shape {dims} ({expected} data bytes) but the file "
            f"holds {len(raw) - header_len}; the file is truncated or corrupt, re-download it")
    return np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)


def _find(directory: Path, stem: str) -> Path:
    # Distributions name the files with a dash (train-images-idx3-ubyte) or a dot
    # (train-images.idx3-ubyte), gzipped or not.
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DatasetError(f"{directory} has no {stem} or {stem}.gz; an MNIST-style directory "
                       "holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                       "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (gzipped or not)")


def _read_pair(directory: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(f"{images_path}: expected a 3-D unsigned-byte image array, "
                           f"found {images.ndim}-D {images.dtype}")
    if labels.ndim != 1:
        raise DatasetError(f"{labels_path}: expected a 1-D label array, found {labels.ndim}-D")
    if len(images) != len(labels):
        raise DatasetError(f"{images_path.name} holds {len(images)} images but "
                           f"{labels_path.name} {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{labels_path}: labels must be 0..9, found {int(labels.max())}")
    return (images.astype(np.float32) / 255.0)[..., np.newaxis], labels.astype(np.int64)


def _load(name: str, directory: Path, classes: tuple[str, ...], options: LoadOptions) -> Dataset:
    x_pool, y_pool = limit_per_class(*_read_pair(directory, "train"), options.max_per_class)
    x_test, y_test = limit_per_class(*_read_pair(directory, "t10k"), options.max_per_class)
    return Dataset(name=name, kind=IMAGE, x_pool=x_pool, y_pool=y_pool, x_test=x_test,
                   y_test=y_test, class_names=classes, source=str(directory))


def load_mnist(data_dir: Path | None, options: LoadOptions) -> Dataset:
    directory = require_dir(data_dir, "mnist",
                            "Pass --data-dir DIR, where DIR holds the four MNIST IDX files.")
    return _load("mnist", directory, DIGIT_CLASSES, options)


def load_fashion_mnist(data_dir: Path | None, options: LoadOptions) -> Dataset:
    if data_dir is None and DEBIAN_FASHION_MNIST_DIR.is_dir():
        data_dir = DEBIAN_FASHION_MNIST_DIR
    directory = require_dir(
        data_dir, "fashion-mnist",
        "Pass --data-dir DIR with the four Fashion-MNIST IDX files, or install Debian's copy "
        f"with `apt-get install dataset-fashion-mnist` (read from {DEBIAN_FASHION_MNIST_DIR}).")
    return _load("fashion-mnist", directory, FASHION_CLASSES, options)
