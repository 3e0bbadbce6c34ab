"""DRIP scores for a split of a run, on the int8 path (the device's) or the float path."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drip_tiny.drip.int8_gradcam import ScoreResult
from drip_tiny.drip.run_model import int8_gradcam_for_run
from drip_tiny.drip.thresholds import PATHS
from drip_tiny.drip.variants import check_variant
from drip_tiny.errors import ConfigError
from drip_tiny.run import directory as rundir
from drip_tiny.tflite.tflm_reference import quantize


@dataclass(frozen=True)
class SplitScores:
    split: str
    path: str
    variant: str
    indices: np.ndarray  # each sample's index in the dataset (pool, or test arrays for test)
    labels: np.ndarray  # true class
    predicted: np.ndarray
    drips: np.ndarray
    seconds: float  # wall time of scoring (inference + Grad-CAM + DRIPS), excluding loading

    def __len__(self) -> int:
        return len(self.labels)


def score_arrays(run: Path, x: np.ndarray, path: str, variant: str,
                 progress: bool = False) -> ScoreResult:
    """Score float samples `x` (the dataset's scale) with the run's model."""
    check_variant(variant)
    if path not in PATHS:
        raise ConfigError(f"unknown scoring path {path!r}; choose int8 (what the device runs) "
                          "or float")
    if path == "int8":
        cam = int8_gradcam_for_run(run)
        q = quantize(x, cam.input.scale, cam.input.zero_point)
        return cam.score(q, variant, progress=progress)
    from drip_tiny.drip.float_gradcam import FloatGradCam
    from drip_tiny.tf_seam import keras

    meta = rundir.load_json(run, rundir.METADATA)
    model = keras.models.load_model(Path(run) / rundir.FLOAT_MODEL, compile=False)
    return FloatGradCam(model, meta["model"]["target_layer"]).score(x, variant)


def score_split(run: Path, split: str, path: str = "int8", variant: str = "minmax",
                progress: bool = False) -> SplitScores:
    from drip_tiny.run.splits import Splits, split_arrays

    run = rundir.check_run(run)
    dataset = rundir.load_run_dataset(run)
    splits = Splits.load(run / rundir.SPLITS)
    x, y = split_arrays(dataset, splits, split)
    start = time.perf_counter()
    result = score_arrays(run, x, path, variant, progress=progress)
    seconds = time.perf_counter() - start
    return SplitScores(split=split, path=path, variant=variant, indices=splits.indices(split),
                       labels=np.asarray(y, dtype=np.int64), predicted=result.predicted,
                       drips=result.drips, seconds=seconds)
