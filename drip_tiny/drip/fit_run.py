"""`drip-tiny fit`: score a run's validation split and fit the per-class DRIP thresholds.

Writes into the run directory (each file replaced whole, never half-written):
    thresholds.json          the thresholds (docs/thresholds.md has the schema)
    validation_scores.csv    index, true_class, predicted_class, drips: the scores fitted on
    thresholds.png           one histogram per class with the discard window shaded
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from drip_tiny.drip.plots import plot_thresholds
from drip_tiny.drip.run_model import model_sha256
from drip_tiny.drip.run_scores import SplitScores, score_split
from drip_tiny.drip.thresholds import (
    GROUP_BY,
    PATHS,
    Thresholds,
    check_dpw,
    fit_thresholds,
)
from drip_tiny.drip.variants import check_variant
from drip_tiny.errors import ConfigError
from drip_tiny.run import directory as rundir

THRESHOLDS = rundir.THRESHOLDS
VALIDATION_SCORES = "validation_scores.csv"
THRESHOLDS_PLOT = "thresholds.png"


@dataclass(frozen=True)
class FitResult:
    thresholds: Thresholds
    scores: SplitScores
    files: tuple[Path, ...]


def write_scores_csv(path: Path, scores: SplitScores) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "true_class", "predicted_class", "drips"])
        for i in range(len(scores)):
            writer.writerow([int(scores.indices[i]), int(scores.labels[i]),
                             int(scores.predicted[i]),
                             repr(float(scores.drips[i]))])  # repr: round-trips exactly


def fit_run(run: Path, dpw: float = 25.0, variant: str = "minmax", path: str = "int8",
            group_by: str = "predicted", progress: bool = False) -> FitResult:
    run = rundir.check_run(run)
    check_dpw(dpw)
    check_variant(variant)
    if path not in PATHS:
        raise ConfigError(f"--path must be one of {', '.join(PATHS)}, got {path!r}")
    if group_by not in GROUP_BY:
        raise ConfigError(f"--group-by must be one of {', '.join(GROUP_BY)}, got {group_by!r}")
    class_names = rundir.load_json(run, rundir.METADATA)["dataset"]["class_names"]
    scores = score_split(run, "validation", path=path, variant=variant, progress=progress)
    classes = scores.predicted if group_by == "predicted" else scores.labels
    thresholds = fit_thresholds(scores.drips, classes, class_names, dpw, variant=variant,
                                path=path, group_by=group_by, model_sha256=model_sha256(run))
    outputs = {
        run / THRESHOLDS: lambda p: rundir.write_json(p, thresholds.to_json()),
        run / VALIDATION_SCORES: lambda p: write_scores_csv(p, scores),
        run / THRESHOLDS_PLOT: lambda p: plot_thresholds(scores.drips, classes, thresholds, p),
    }
    rundir.replace_files(outputs)
    return FitResult(thresholds=thresholds, scores=scores, files=tuple(outputs))
