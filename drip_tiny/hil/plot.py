"""The PNG of a hil report: retention per predicted class and DRIPS, device vs reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drip_tiny.hil.report import Report


def write_png(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed (CI)
    import matplotlib.pyplot as plt
    import numpy as np

    dev = report["per_class_retention"]
    ref = report["reference_per_class_retention"]
    classes = np.arange(len(dev))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.4
    # rows: per-class entries of the report's JSON
    as_pct: Callable[[list[dict[str, Any]]], list[float]] = lambda rows: [  # noqa: E731
        100 * (r["retention"] or 0) for r in rows]
    left.bar(classes - width / 2, as_pct(dev), width, label="device")
    left.bar(classes + width / 2, as_pct(ref), width, label="reference")
    left.set_xticks(classes)
    left.set_xlabel("predicted class")
    left.set_ylabel("retention (%)")
    left.set_title("Samples kept per predicted class")
    left.legend(loc="lower right")
    d = np.array([r["device"]["drips"] for r in report["records"]])
    r = np.array([r["reference"]["drips"] for r in report["records"]])
    keep = np.array([r["device"]["keep"] for r in report["records"]], dtype=bool)
    if len(d):
        right.scatter(r[keep], d[keep], s=10, label="kept")
        right.scatter(r[~keep], d[~keep], s=10, label="discarded")
        lo, hi = float(min(d.min(), r.min())), float(max(d.max(), r.max()))
        right.plot([lo, hi], [lo, hi], "k--", linewidth=0.8, label="equal")
        right.legend()
    right.set_xlabel("DRIPS, Python reference")
    right.set_ylabel("DRIPS, device")
    ident = report["identity"]
    right.set_title(f"{report['agree']}/{report['samples']} samples agree")
    fig.suptitle(f"drip-tiny hil on {ident['board']}: {report['source']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
