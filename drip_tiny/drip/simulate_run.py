"""`drip-tiny simulate`: stream a split through the reference and apply the keep/drop rule.

The per-sample results and the summary are what a device running the same model and
thresholds must reproduce (the hardware-in-the-loop harness checks it against them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import numpy as np

from drip_tiny.drip.run_model import model_sha256
from drip_tiny.drip.run_scores import SplitScores, score_split
from drip_tiny.drip.thresholds import Thresholds
from drip_tiny.errors import ConfigError, RunDirError
from drip_tiny.run import directory as rundir
from drip_tiny.run.file_names import THRESHOLDS
from drip_tiny.run.splits import SPLIT_NAMES

# What `simulate` returns and `--json` writes. Rates are None when their count is 0.
# "class" is a keyword, hence the functional form.
ClassRetention = TypedDict("ClassRetention", {
    "class": int, "name": str, "predicted": int, "kept": int, "retention": float | None,
    "true": int, "true_kept": int, "true_retention": float | None})


class Summary(TypedDict):
    split: str
    samples: int
    kept: int
    discarded: int
    retention_rate: float | None
    storage_savings: float | None
    accuracy: float | None
    accuracy_kept: float | None
    accuracy_discarded: float | None
    variant: str
    dpw: float
    path: str
    thresholds_path: str
    seconds_per_sample: float | None
    per_class: list[ClassRetention]


class SampleResult(TypedDict):
    index: int
    true_class: int
    predicted_class: int
    drips: float
    keep: bool


class SimulateResult(TypedDict):
    summary: Summary
    samples: list[SampleResult]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(scores: SplitScores, keep: np.ndarray, thresholds: Thresholds,
              class_names: list[str]) -> Summary:
    seen = len(keep)
    kept = int(keep.sum())
    correct = scores.predicted == scores.labels
    per_class: list[ClassRetention] = []
    for c, name in enumerate(class_names):
        by_pred = scores.predicted == c
        by_true = scores.labels == c
        per_class.append({
            "class": c, "name": name,
            "predicted": int(by_pred.sum()), "kept": int(keep[by_pred].sum()),
            "retention": _rate(int(keep[by_pred].sum()), int(by_pred.sum())),
            "true": int(by_true.sum()), "true_kept": int(keep[by_true].sum()),
            "true_retention": _rate(int(keep[by_true].sum()), int(by_true.sum())),
        })
    return {
        "split": scores.split, "samples": seen, "kept": kept, "discarded": seen - kept,
        "retention_rate": _rate(kept, seen), "storage_savings": _rate(seen - kept, seen),
        "accuracy": _rate(int(correct.sum()), seen),
        "accuracy_kept": _rate(int(correct[keep].sum()), kept),
        "accuracy_discarded": _rate(int(correct[~keep].sum()), seen - kept),
        "variant": thresholds.variant, "dpw": thresholds.dpw, "path": scores.path,
        "thresholds_path": thresholds.path,
        "seconds_per_sample": scores.seconds / seen if seen else None,
        "per_class": per_class,
    }


def simulate_run(run: Path, split: str = "production", thresholds_file: Path | None = None,
                 path: str | None = None, progress: bool = False) -> SimulateResult:
    run = rundir.check_run(run)
    if split not in SPLIT_NAMES:
        raise ConfigError(f"--split must be one of {', '.join(SPLIT_NAMES)}, got {split!r}")
    thresholds_file = Path(thresholds_file) if thresholds_file else run / THRESHOLDS
    thresholds = Thresholds.load(thresholds_file)
    if thresholds.model_sha256 and thresholds.model_sha256 != model_sha256(run):
        raise RunDirError(f"{thresholds_file} was fitted for another model than {run}/"
                          f"{rundir.MODEL_TFLITE}; re-run `drip-tiny fit {run}`")
    class_names = rundir.load_json(run, rundir.METADATA)["dataset"]["class_names"]
    if len(thresholds.classes) != len(class_names):
        raise RunDirError(f"{thresholds_file} has {len(thresholds.classes)} classes, the run "
                          f"{len(class_names)}; re-run `drip-tiny fit {run}`")
    scores = score_split(run, split, path=path or thresholds.path, variant=thresholds.variant,
                         progress=progress)
    keep = thresholds.decide(scores.predicted, scores.drips)
    samples: list[SampleResult] = [
        {"index": int(scores.indices[i]), "true_class": int(scores.labels[i]),
         "predicted_class": int(scores.predicted[i]), "drips": float(scores.drips[i]),
         "keep": bool(keep[i])} for i in range(len(keep))]
    return {"summary": summarize(scores, keep, thresholds, class_names), "samples": samples}
