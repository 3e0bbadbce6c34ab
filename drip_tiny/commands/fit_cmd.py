"""`drip-tiny fit RUN`: per-class keep/drop thresholds from the validation split."""

from __future__ import annotations

import argparse
import sys

from drip_tiny.commands.run_argument import TRAINED, add_run_argument, resolve_run
from drip_tiny.drip.thresholds import GROUP_BY, PATHS
from drip_tiny.drip.variants import DEFAULT_VARIANT, VARIANTS

NAME = "fit"
HELP = "fit the per-class DRIP thresholds of a run on its validation split"
DESCRIPTION = (
    "Score the run's validation split with Grad-CAM (int8 path by default: the computation the "
    "device runs), then fit per class the window of DPW%% of the sorted DRIP scores with the "
    "smallest standard deviation. Writes RUN/thresholds.json, RUN/validation_scores.csv and "
    "RUN/thresholds.png.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser, needs=TRAINED)
    parser.add_argument("--dpw", type=float, default=25.0,
                        help="discard percentage window: the share of each class's validation "
                             "scores the window holds, in percent")
    parser.add_argument("--variant", choices=VARIANTS, default=DEFAULT_VARIANT,
                        help="how a Grad-CAM map becomes a DRIP score (docs/drip-scores.md)")
    parser.add_argument("--path", choices=PATHS, default="int8",
                        help="score with the int8 model (as the device) or the float Keras model")
    parser.add_argument("--group-by", choices=GROUP_BY, default="predicted",
                        help="count each validation score for its predicted class (as decisions "
                             "on the device do) or its true class")
    parser.add_argument("--quiet", action="store_true", help="print only the result table")


def run(args: argparse.Namespace) -> int:
    resolve_run(args, needs=TRAINED)
    from drip_tiny.drip.fit_run import fit_run

    result = fit_run(args.run, dpw=args.dpw, variant=args.variant, path=args.path,
                     group_by=args.group_by, progress=not args.quiet and sys.stderr.isatty())
    t, scores = result.thresholds, result.scores
    print(f"{t.variant} DRIPS on the {t.path} path, DPW {t.dpw:g}%, {len(scores)} validation "
          f"samples grouped by {t.group_by} class "
          f"({1e3 * scores.seconds / max(len(scores), 1):.2f} ms per sample)")
    print(f"{'class':>12} {'count':>6} {'window':>6} {'lower':>12} {'upper':>12} {'discarded':>10}")
    for c in t.classes:
        if c.lower is None:
            print(f"{c.name:>12} {c.count:>6} {'-':>6} {'(keep all: too few scores)':>36}")
            continue
        print(f"{c.name:>12} {c.count:>6} {c.window:>6} {c.lower:>12.6g} {c.upper:>12.6g} "
              f"{100 * c.validation_discarded / c.count:>9.1f}%")
    total = sum(c.validation_discarded for c in t.classes)
    print(f"validation samples inside their window: {total}/{len(scores)} "
          f"({100 * total / max(len(scores), 1):.1f}%)")
    for path in result.files:
        print(f"wrote {path}")
    return 0
