"""One DRIPS histogram per class, the fitted window shaded (matplotlib, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from drip_tiny.drip.thresholds import Thresholds


def plot_thresholds(drips: np.ndarray, classes: np.ndarray, thresholds: Thresholds,
                    out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(thresholds.classes)
    cols = min(5, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    finite = drips[np.isfinite(drips)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 31)
    for ax, c in zip(axes.flat, thresholds.classes):
        ax.hist(drips[classes == c.label], bins=bins, color="#4477aa")
        if c.lower is not None:
            ax.axvspan(c.lower, c.upper, color="#ee6677", alpha=0.35,
                       label=f"discard ({c.validation_discarded}/{c.count})")
            ax.legend(fontsize=7, loc="upper right")
        else:
            ax.text(0.5, 0.9, f"no window ({c.count} scores)", transform=ax.transAxes,
                    ha="center", fontsize=7)
        ax.set_title(f"class {c.name}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(f"{thresholds.variant} DRIPS ({thresholds.path} path), DPW {thresholds.dpw:g}%, "
                 f"by {thresholds.group_by} class", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
