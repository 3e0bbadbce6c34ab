"""`drip-tiny simulate RUN`: stream a split through the int8 reference and keep or drop."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from drip_tiny.commands.run_argument import (
    FITTED,
    TRAINED,
    add_run_argument,
    resolve_run,
)
from drip_tiny.drip.thresholds import PATHS
from drip_tiny.run.splits import SPLIT_NAMES

NAME = "simulate"
HELP = "stream a split through the reference model and apply the keep/drop thresholds"
DESCRIPTION = (
    "Run every sample of a split (production by default) through the int8 reference, score it "
    "and decide keep or discard with RUN/thresholds.json, as the device will. Prints the "
    "retention summary; --json writes it with the per-sample results.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser, needs=FITTED)
    parser.add_argument("--split", choices=SPLIT_NAMES, default="production")
    parser.add_argument("--thresholds", type=Path, default=None,
                        help="thresholds file (default RUN/thresholds.json)")
    parser.add_argument("--path", choices=PATHS, default=None,
                        help="scoring path (default: the one the thresholds were fitted on)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                        help="write the summary and the per-sample results here")
    parser.add_argument("--quiet", action="store_true")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def run(args: argparse.Namespace) -> int:
    # With --thresholds FILE the run gives only the model and the split: trained is enough.
    resolve_run(args, needs=TRAINED if args.thresholds is not None else FITTED)
    from drip_tiny.drip.simulate_run import simulate_run
    from drip_tiny.run.directory import replace_files

    result = simulate_run(args.run, split=args.split, thresholds_file=args.thresholds,
                          path=args.path, progress=not args.quiet and sys.stderr.isatty())
    if args.json is not None:
        out = args.json.absolute()
        if not out.parent.is_dir():
            from drip_tiny.errors import ConfigError

            raise ConfigError(f"cannot write {args.json}: the folder {out.parent} does not exist")
        replace_files({out: lambda p: p.write_text(json.dumps(result, indent=1) + "\n")})
    s = result["summary"]
    print(f"{s['split']} split: {s['samples']} samples, {s['variant']} DRIPS on the {s['path']} "
          f"path, DPW {s['dpw']:g}%")
    print(f"kept {s['kept']}, discarded {s['discarded']}: retention {_pct(s['retention_rate'])}, "
          f"storage savings {_pct(s['storage_savings'])}")
    print(f"prediction accuracy: all {_pct(s['accuracy'])}, kept {_pct(s['accuracy_kept'])}, "
          f"discarded {_pct(s['accuracy_discarded'])}")
    print(f"{'class':>12} {'predicted':>9} {'kept':>6} {'retention':>9}")
    for c in s["per_class"]:
        print(f"{c['name']:>12} {c['predicted']:>9} {c['kept']:>6} {_pct(c['retention']):>9}")
    if s["seconds_per_sample"] is not None:
        print(f"scoring: {1e3 * s['seconds_per_sample']:.2f} ms per sample on this host")
    if args.json is not None:
        print(f"wrote {args.json}")
    return 0
