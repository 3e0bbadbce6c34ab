"""`drip-tiny fit`: score a run's validation split and fit the per-class DRIP thresholds.

Writes into the run directory (each file replaced whole, never half-written):
    thresholds.json          the thresholds (docs/thresholds.md has the schema)
    validation_scores.csv    index, true_class, predicted_class, drips: the scores fitted on
    thresholds.png           one histogram per class with the discard window shaded
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import rundir
from .drip.plots import plot_thresholds
from .drip.run_scores import SplitScores, model_sha256, score_split
from .drip.thresholds import GROUP_BY, PATHS, Thresholds, check_dpw, fit_thresholds
from .drip.variants import check_variant
from .errors import ConfigError

THRESHOLDS = "thresholds.json"
VALIDATION_SCORES = "validation_scores.csv"
THRESHOLDS_PLOT = "thresholds.png"


@dataclass(frozen=True)
class FitResult:
    thresholds: Thresholds
    scores: SplitScores
    files: tuple[Path, ...]


def write_scores_csv(path: Path, scores: SplitScores, keep: np.ndarray | None = None) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "true_class", "predicted_class", "drips"] +
                        (["keep"] if keep is not None else []))
        for i in range(len(scores)):
            row = [int(scores.indices[i]), int(scores.labels[i]), int(scores.predicted[i]),
                   repr(float(scores.drips[i]))]  # repr: the float64 round-trips exactly
            writer.writerow(row + ([int(keep[i])] if keep is not None else []))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def replace_files(outputs: dict) -> None:
    """Write every file to a temporary name beside it, then rename all into place: an error
    while writing leaves the old files untouched and no temporary file behind."""
    temps: dict[Path, Path] = {}
    try:
        for final, write in outputs.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix,
                                       dir=final.parent)
            os.close(fd)
            temps[final] = Path(tmp)
            write(Path(tmp))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for final, tmp in temps.items():
        os.replace(tmp, final)


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
    replace_files(outputs)
    return FitResult(thresholds=thresholds, scores=scores, files=tuple(outputs))
