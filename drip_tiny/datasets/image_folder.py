"""Images in one sub-folder per class (the PlantVillage layout), resized to a chosen size.

`DIR/<class>/<image>` makes one pool. When DIR holds `train/` and one of `val/`, `valid/`,
`validation/` or `test/`, each laid out by class (PlantVillage's augmented release ships
train/ and valid/), the first is the pool and the second the test split. Images are
converted to RGB (or grayscale) and resized with bilinear filtering.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from drip_tiny.datasets.base import IMAGE, Dataset, require_dir
from drip_tiny.datasets.options import LoadOptions
from drip_tiny.errors import DatasetError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
TEST_FOLDER_NAMES = ("val", "valid", "validation", "test")
_HINT = "Pass --data-dir DIR where DIR holds one sub-folder of images per class."


def _class_dirs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: Path, size: tuple[int, int], color: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            img = opened.convert("RGB" if color == "rgb" else "L")
            img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DatasetError(f"{path} is not a readable image: {exc}; remove or replace it") from exc
    return pixels if pixels.ndim == 3 else pixels[..., np.newaxis]


def _read_split(directory: Path, classes: list[str], options: LoadOptions,
                what: str) -> tuple[np.ndarray, np.ndarray]:
    items: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = directory / name
        files = _images(folder) if folder.is_dir() else []
        if not files:
            raise DatasetError(f"image-folder: {folder} holds no images "
                               f"({', '.join(sorted(IMAGE_SUFFIXES))}). {_HINT}")
        items += [(f, label) for f in files[: options.max_per_class]]
    channels = 3 if options.color == "rgb" else 1
    x = np.empty((len(items), *options.image_size, channels), dtype=np.float32)
    for i, (path, _) in enumerate(tqdm(items, desc=f"reading {what} images", unit="img",
                                       disable=len(items) < 2000, leave=False)):
        x[i] = read_image(path, options.image_size, options.color)
    return x, np.array([label for _, label in items], dtype=np.int64)


def load(data_dir: Path | None, options: LoadOptions) -> Dataset:
    root = require_dir(data_dir, "image-folder", _HINT)
    if options.color not in ("rgb", "grayscale"):
        raise DatasetError(f"image-folder: color must be 'rgb' or 'grayscale', not {options.color!r}")
    if min(options.image_size) < 1:
        raise DatasetError(f"image-folder: image size must be positive, got {options.image_size}")
    test_dir = next((root / n for n in TEST_FOLDER_NAMES if (root / n).is_dir()), None)
    pool_dir = root / "train" if (root / "train").is_dir() and test_dir is not None else root
    classes = [p.name for p in _class_dirs(pool_dir)]
    if len(classes) < 2:
        raise DatasetError(f"image-folder: {pool_dir} has {len(classes)} class folder(s); "
                           f"classification needs at least two. {_HINT}")
    x_pool, y_pool = _read_split(pool_dir, classes, options, "training-pool")
    x_test = y_test = None
    if pool_dir != root:
        assert test_dir is not None
        extra = sorted(set(p.name for p in _class_dirs(test_dir)) - set(classes))
        if extra:
            raise DatasetError(f"image-folder: {test_dir} has classes {extra} that {pool_dir} lacks")
        x_test, y_test = _read_split(test_dir, classes, options, "test")
    return Dataset(name="image-folder", kind=IMAGE, x_pool=x_pool, y_pool=y_pool,
                   x_test=x_test, y_test=y_test, class_names=tuple(classes), source=str(root),
                   notes={"image_size": list(options.image_size), "color": options.color})
