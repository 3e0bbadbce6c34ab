"""Per-class keep/drop thresholds from a Discard Percentage Window (DPW), and the decision.

Per class (docs/thresholds.md has the full rules):
- sort that class's validation DRIPS ascending (n scores);
- the window holds w = round_half_up(n * DPW / 100) consecutive sorted scores;
- slide it over all n - w + 1 positions and compute each window's standard deviation
  (population, ddof = 0: every window has the same size, so ddof never changes the choice);
- the window with the smallest standard deviation wins; on a tie the lowest-scoring window
  (the first position) wins;
- L_lower, L_upper = that window's smallest and largest score.
A class with w < MIN_WINDOW (too few validation scores to call anything routine) gets no
window: every sample predicted as that class is kept.

Decision for a sample predicted as class c: discard when L_lower[c] <= DRIPS <= L_upper[c],
keep otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from drip_tiny.errors import ConfigError, RunDirError

MIN_WINDOW = 2  # a one-score window has standard deviation 0 anywhere: meaningless
FORMAT_VERSION = 1
PATHS = ("int8", "float")
GROUP_BY = ("predicted", "true")


def check_dpw(dpw: float) -> float:
    dpw = float(dpw)
    if not 0 < dpw <= 100:
        raise ConfigError(f"--dpw must be a percentage in (0, 100], got {dpw:g}; the paper "
                          "uses 25")
    return dpw


def window_size(count: int, dpw: float) -> int:
    """round_half_up(count * dpw / 100), computed exactly (no float rounding surprises)."""
    exact = Fraction(count) * Fraction(str(dpw)) / 100
    return int(exact + Fraction(1, 2))  # int() floors a non-negative Fraction


@dataclass(frozen=True)
class Window:
    lower: float
    upper: float
    start: int  # position in the sorted scores
    size: int
    std: float


def fit_window(scores: np.ndarray, dpw: float) -> Window | None:
    """The minimal-standard-deviation window over the sorted `scores`; None if too few."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    w = window_size(len(s), dpw)
    if w < MIN_WINDOW:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(s, w)
    stds = windows.std(axis=1, ddof=0)
    start = int(np.argmin(stds))  # argmin returns the first minimum: the tie rule
    return Window(lower=float(s[start]), upper=float(s[start + w - 1]), start=start, size=w,
                  std=float(stds[start]))


@dataclass(frozen=True)
class ClassThreshold:
    label: int
    name: str
    count: int  # validation scores of this class
    window: int  # scores the window holds (0 when the class has no window)
    lower: float | None  # None: no window, every sample of this class is kept
    upper: float | None
    std: float | None
    validation_discarded: int  # validation scores inside [lower, upper] (ties included)


@dataclass(frozen=True)
class Thresholds:
    variant: str
    dpw: float
    path: str  # "int8" or "float": which Grad-CAM the scores came from
    group_by: str  # "predicted" or "true": which class a validation score counts for
    classes: tuple[ClassThreshold, ...]
    model_sha256: str | None = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) per class; a class without a window gets (+inf, -inf): never inside."""
        lower = np.array([np.inf if c.lower is None else c.lower for c in self.classes])
        upper = np.array([-np.inf if c.upper is None else c.upper for c in self.classes])
        return lower, upper

    def decide(self, predicted: np.ndarray, drips: np.ndarray) -> np.ndarray:
        """keep (True) / discard (False) for each sample."""
        predicted = np.asarray(predicted, dtype=np.int64)
        drips = np.asarray(drips, dtype=np.float64)
        if predicted.shape != drips.shape:
            raise ValueError(f"{predicted.shape} predicted classes but {drips.shape} scores")
        if predicted.size and (predicted.min() < 0 or predicted.max() >= len(self.classes)):
            raise ConfigError(f"predicted classes span {predicted.min()}..{predicted.max()} but the "
                              f"thresholds cover {len(self.classes)} classes; fit thresholds for "
                              "this model")
        lower, upper = self.arrays()
        inside: npt.NDArray[np.bool_] = (lower[predicted] <= drips) & (drips <= upper[predicted])
        return ~inside

    # A JSON object: dict[str, Any], its values whatever json.loads produced.
    def to_json(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "variant": self.variant, "dpw": self.dpw,
                "path": self.path, "group_by": self.group_by, "min_window": MIN_WINDOW,
                "model_sha256": self.model_sha256,
                "classes": [asdict(c) for c in self.classes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thresholds:
        if data.get("format_version") != FORMAT_VERSION:
            raise RunDirError(f"thresholds format {data.get('format_version')} is not "
                              f"{FORMAT_VERSION}; re-run `drip-tiny fit`")
        try:
            classes = tuple(ClassThreshold(**c) for c in data["classes"])
            return cls(variant=data["variant"], dpw=float(data["dpw"]), path=data["path"],
                       group_by=data["group_by"], classes=classes,
                       model_sha256=data.get("model_sha256"))
        except (KeyError, TypeError) as exc:
            raise RunDirError(f"thresholds file is missing or has a wrong field ({exc}); "
                              "re-run `drip-tiny fit`") from exc

    @classmethod
    def load(cls, path: Path) -> Thresholds:
        """Read a thresholds file, checked against its schema (run_files.py) whatever its name."""
        from drip_tiny.run.file_names import THRESHOLDS
        from drip_tiny.run.files import read_run_file

        if not Path(path).is_file():
            raise RunDirError(f"{path} does not exist; create it with `drip-tiny fit RUN`")
        return cls.from_json(read_run_file(Path(path), THRESHOLDS))


def fit_thresholds(drips: np.ndarray, classes: np.ndarray, class_names: list[str], dpw: float,
                   *, variant: str, path: str, group_by: str,
                   model_sha256: str | None = None) -> Thresholds:
    """Fit one window per class. `classes` holds, per score, the class it counts for
    (predicted or true label, as `group_by` says)."""
    check_dpw(dpw)
    drips = np.asarray(drips, dtype=np.float64)
    classes = np.asarray(classes, dtype=np.int64)
    if not np.all(np.isfinite(drips)):
        raise ValueError("DRIP scores contain NaN or infinity")
    fitted = []
    for label, name in enumerate(class_names):
        scores = drips[classes == label]
        window = fit_window(scores, dpw)
        if window is None:
            fitted.append(ClassThreshold(label=label, name=name, count=len(scores), window=0,
                                         lower=None, upper=None, std=None, validation_discarded=0))
            continue
        inside = int(np.sum((scores >= window.lower) & (scores <= window.upper)))
        fitted.append(ClassThreshold(label=label, name=name, count=len(scores), window=window.size,
                                     lower=window.lower, upper=window.upper, std=window.std,
                                     validation_discarded=inside))
    return Thresholds(variant=variant, dpw=float(dpw), path=path, group_by=group_by,
                      classes=tuple(fitted), model_sha256=model_sha256)
