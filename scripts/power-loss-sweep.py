#!/usr/bin/env python3
"""The full power-loss sweep of issue 9: the host firmware (ASan + UBSan, overwrite-oldest)
cut at every flash operation of the workload in tests/power_loss.py, in the three modes
(clean, torn low half, torn high half), restarted and checked each time. Writes a results
table (markdown) and exits 1 if any acknowledged sample was lost or any read was corrupt.

--store: small (4 pages of 256 bytes, digits samples two a page), spanning (12 pages of 64
bytes, each digits sample over three pages) or audio (the host board's 16 pages of 4 KB,
for a run of the 1D audio model: a clip over four pages).

    scripts/power-loss-sweep.py [--run /work/runs/digits] [--store small] [--every 1] [--out FILE]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import power_loss as pl  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="/work/runs/digits", help="a trained, fitted run")
    ap.add_argument("--store", choices=sorted(pl.STORES), default="small",
                    help="store geometry (see above)")
    ap.add_argument("--every", type=int, default=1, help="try every k-th cut point")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "power_loss_results.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.monotonic()
        exe = pl.build(Path(args.run), work / "build", store=args.store)
        samples = pl.production_samples(args.run)
        classes = pl.classes_of(args.run)
        steps = pl.workload(samples, classes)
        ref = pl.reference_run(exe, work / "ref.bin", steps)
        points = range(1, ref.operations + 1, args.every)
        _, outcomes, _ = pl.sweep(exe, work / "sweep", samples, points=points,
                                  classes=classes)
        seconds = time.monotonic() - t0
    rows = []
    for mode in pl.MODES:
        mine = [o for o in outcomes if o.cut.endswith("," + mode)]
        rows.append((mode, len(mine), sum(o.guaranteed for o in mine),
                     sum(len(o.lost) for o in mine), sum(len(o.corrupt) for o in mine),
                     sum(len(o.unreadable_ok) for o in mine),
                     sum(not o.works_after for o in mine)))
    lines = [
        "# Power-loss sweep (scripts/power-loss-sweep.py)", "",
        f"Workload: {len(steps)} requests (SET_THRESHOLDS, 14 CLASSIFY filling and wrapping "
        f"the {args.store} store ({' '.join(pl.STORES[args.store])}), STORE_ERASE, "
        f"5 CLASSIFY, STORE_ERASE, 4 CLASSIFY), "
        f"{ref.operations} flash operations; cut points 1..{ref.operations} every "
        f"{args.every}; run {args.run}; {seconds:.0f} s wall time in total.", "",
        "| cut mode | cut points tried | acknowledged samples checked | lost acknowledged "
        "| corrupt reads | unreadable unacknowledged (allowed) | store broken after |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(f"| {m} | {n} | {g} | {lost} | {c} | {u} | {b} |" for m, n, g, lost, c, u, b in rows),
        f"| **total** | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows)} | "
        f"{sum(r[3] for r in rows)} | {sum(r[4] for r in rows)} | {sum(r[5] for r in rows)} | "
        f"{sum(r[6] for r in rows)} |", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    failed = sum(r[3] + r[4] + r[6] for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
