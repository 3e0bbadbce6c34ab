"""Writers of real on-disk dataset formats, for loader tests. Each follows its format's spec:
IDX (LeCun), CIFAR-10 python batches (pickled dicts), 16-bit PCM WAV (stdlib `wave`), and
image files through Pillow."""

from __future__ import annotations

import gzip
import pickle
import struct
import wave
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_mnist_dir(directory: Path, n_train: int = 40, n_test: int = 20, gz: bool = False,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four IDX files; returns (train images, train labels) for checking."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    train_x = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    train_y = (np.arange(n_train) % 10).astype(np.uint8)
    test_x = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    test_y = (np.arange(n_test) % 10).astype(np.uint8)
    write_idx(directory / f"train-images-idx3-ubyte{suffix}", train_x, gz)
    write_idx(directory / f"train-labels-idx1-ubyte{suffix}", train_y, gz)
    write_idx(directory / f"t10k-images-idx3-ubyte{suffix}", test_x, gz)
    write_idx(directory / f"t10k-labels-idx1-ubyte{suffix}", test_y, gz)
    return train_x, train_y


def write_cifar_dir(directory: Path, per_batch: int = 10, seed: int = 0) -> dict:
    """data_batch_1..5, test_batch and batches.meta, pickled the way the original was."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"img{i}.png".encode() for i in range(per_batch)]}
        (directory / name).write_bytes(pickle.dumps(batch, protocol=2))
        batches[name] = batch
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    meta = {b"num_cases_per_batch": per_batch, b"label_names": names, b"num_vis": 3072}
    (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000, channels: int = 1,
              width: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples).astype("<i2" if width == 2 else "u1").tobytes())
    return path


def write_speech_dir(root: Path, words=("no", "yes"), per_word: int = 6, test_per_word: int = 2,
                     short_every: int = 3) -> None:
    """Speech Commands v0.02 layout: word folders, testing/validation lists, noise folder.

    Each word is a tone of its own frequency; every `short_every`-th clip is half a second
    long, to exercise padding."""
    testing, validation = [], []
    t = np.arange(16000) / 16000.0
    for w, word in enumerate(words):
        for i in range(per_word):
            length = 8000 if i % short_every == 0 else 16000
            tone = (8000 * np.sin(2 * np.pi * (300 + 200 * w) * t[:length])).astype(np.int16)
            name = f"{i:08x}_nohash_0.wav"
            write_wav(root / word / name, tone)
            if i < test_per_word:
                testing.append(f"{word}/{name}")
            elif i == test_per_word:
                validation.append(f"{word}/{name}")
    write_wav(root / "_background_noise_" / "white_noise.wav", np.zeros(32000, dtype=np.int16))
    (root / "testing_list.txt").write_text("\n".join(testing) + "\n")
    (root / "validation_list.txt").write_text("\n".join(validation) + "\n")


def write_image_folder(root: Path, classes=("healthy", "blight"), per_class: int = 4,
                       size=(20, 30), fmt: str = "PNG") -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            pixels[..., c % 3] = 255  # a colour per class
            ext = "png" if fmt == "PNG" else "jpg"
            Image.fromarray(pixels).save(root / name / f"img_{i}.{ext}", fmt)
