"""Speech Commands v0.02 (Warden 2018) as raw 1 s waveforms, the input of the paper's 1D CNN.

Layout: one folder per word holding 16 kHz mono 16-bit WAV clips of at most one second,
plus `testing_list.txt` and `validation_list.txt` naming clips as "word/file.wav".
`_background_noise_/` is not a class and is skipped. Clips on the testing list form the test
split; every other clip, the validation list included, forms the training pool, because the
paper's protocol draws its own validation split from the pool. Short clips are padded with
zeros at the end, as TensorFlow's speech_commands input pipeline does.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from tqdm import tqdm

from drip_tiny.datasets.base import AUDIO, Dataset, require_dir
from drip_tiny.datasets.options import LoadOptions
from drip_tiny.errors import DatasetError

SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # one second
TESTING_LIST = "testing_list.txt"
VALIDATION_LIST = "validation_list.txt"
_NOT_A_WORD = "_background_noise_"
_HINT = ("Pass --data-dir pointing at the extracted speech_commands_v0.02 folder "
         "(one folder per word, testing_list.txt, validation_list.txt).")


def read_clip(path: Path) -> np.ndarray:
    """One clip as float32 in [-1, 1], zero-padded or cut to exactly one second."""
    try:
        with wave.open(str(path), "rb") as clip:
            channels, width, rate = clip.getnchannels(), clip.getsampwidth(), clip.getframerate()
            frames = clip.readframes(clip.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise DatasetError(f"{path} is not a readable WAV file: {exc}") from exc
    if channels != 1 or width != 2 or rate != SAMPLE_RATE:
        raise DatasetError(
            f"{path}: expected 16 kHz mono 16-bit PCM, found {rate} Hz, {channels} channel(s), "
            f"{8 * width}-bit; convert it (for example `sox in.wav -r 16000 -c 1 -b 16 out.wav`)")
    samples = np.frombuffer(frames, dtype="<i2")[:CLIP_SAMPLES]
    out = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    out[: len(samples)] = samples.astype(np.float32) / 32768.0
    return out


def _read_list(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def load(data_dir: Path | None, options: LoadOptions) -> Dataset:
    root = require_dir(data_dir, "speech-commands", _HINT)
    if not (root / TESTING_LIST).is_file():
        raise DatasetError(f"speech-commands: {root} has no {TESTING_LIST}. {_HINT}")
    testing = _read_list(root / TESTING_LIST)
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != _NOT_A_WORD
                   and not p.name.startswith("."))
    if options.words:
        missing = [w for w in options.words if w not in found]
        if missing:
            raise DatasetError(f"speech-commands: no folder for the word(s) {missing} in {root}; "
                               f"found {found}")
        words = list(options.words)
    else:
        words = found
    if len(words) < 2:
        raise DatasetError(f"speech-commands: {root} has {len(words)} word folder(s); "
                           f"classification needs at least two. {_HINT}")
    pool: list[tuple[Path, int]] = []
    test: list[tuple[Path, int]] = []
    for label, word in enumerate(words):
        clips = sorted((root / word).glob("*.wav"))
        if not clips:
            raise DatasetError(f"speech-commands: the folder {root / word} holds no .wav clips")
        word_pool = [c for c in clips if f"{word}/{c.name}" not in testing]
        word_test = [c for c in clips if f"{word}/{c.name}" in testing]
        limit = options.max_per_class
        pool += [(c, label) for c in word_pool[:limit]]
        test += [(c, label) for c in word_test[:limit]]
    if not test:
        raise DatasetError(f"speech-commands: no clip of the chosen words is on {TESTING_LIST}")

    def read_all(items: list[tuple[Path, int]], what: str) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty((len(items), CLIP_SAMPLES, 1), dtype=np.float32)
        for i, (path, _) in enumerate(tqdm(items, desc=f"reading {what} clips", unit="clip",
                                           disable=len(items) < 2000, leave=False)):
            x[i, :, 0] = read_clip(path)
        return x, np.array([label for _, label in items], dtype=np.int64)

    x_pool, y_pool = read_all(pool, "training-pool")
    x_test, y_test = read_all(test, "test")
    return Dataset(name="speech-commands", kind=AUDIO, x_pool=x_pool, y_pool=y_pool,
                   x_test=x_test, y_test=y_test, class_names=tuple(words), source=str(root),
                   notes={"validation_list": "kept in the training pool; the protocol draws "
                                             "its own validation split"})
