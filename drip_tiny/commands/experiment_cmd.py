"""`drip-tiny experiment`: the paper's protocol, repeated over seeded runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drip_tiny.datasets import DATASET_NAMES, LoadOptions
from drip_tiny.drip.thresholds import GROUP_BY, PATHS
from drip_tiny.drip.variants import DEFAULT_VARIANT, VARIANTS
from drip_tiny.errors import ConfigError
from drip_tiny.experiment.config import DEFAULT_RETRAIN, RETRAIN_MODES
from drip_tiny.experiment.selection import RULES

NAME = "experiment"
HELP = "run the paper's protocol: baseline, DRIP, all-data, random and other rules over N runs"
DESCRIPTION = (
    "Per run: a fresh seeded 40/20/40 split; the baseline model on the train split; DRIP "
    "thresholds on validation and keep/drop decisions over production; then models retrained "
    "on train + all production, + DRIP's kept samples, + as many samples chosen by each other "
    "selection rule. Reports test accuracy and macro F1 (mean and standard deviation), storage "
    "savings, retention per class and time per decision. Runs in parallel; rerun the same "
    "command to resume an interrupted experiment.")


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _rules(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    if names == ("none",):
        return ()
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="digits")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--words", default=None, help="speech-commands: comma-separated words")
    parser.add_argument("--max-per-class", type=int, default=None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="run r uses seed + r")
    parser.add_argument("--dpw", type=float, default=25.0)
    parser.add_argument("--variant", choices=VARIANTS, default=DEFAULT_VARIANT)
    parser.add_argument("--path", choices=PATHS, default="int8",
                        help="Grad-CAM of the int8 baseline (as the device) or the float one")
    parser.add_argument("--group-by", choices=GROUP_BY, default="predicted")
    parser.add_argument("--retrain", choices=RETRAIN_MODES, default=DEFAULT_RETRAIN,
                        help="train each model from scratch, or fine-tune the baseline "
                             "(learning rate / 10, a quarter of the epochs)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per model (default: the train command's for the train split)")
    parser.add_argument("--rules", type=_rules, default=RULES,
                        help=f"selection rules besides DRIP, comma-separated from {','.join(RULES)}, "
                             "or none")
    parser.add_argument("--sweep-dpw", type=_floats, default=(), metavar="5,10,...",
                        help="also train DRIP and random models at each of these DPWs")
    parser.add_argument("--label-noise", type=_floats, default=(), metavar="0,10,...",
                        help="also flip these percentages of production labels and compare "
                             "unfiltered with DRIP-filtered retraining")
    parser.add_argument("--jobs", type=int, default=None, help="parallel runs (default: cores)")
    parser.add_argument("--out", type=Path, default=None, help="default results/<dataset>")
    parser.add_argument("--force", action="store_true", help="start over in a used --out")
    parser.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from drip_tiny.datasets import load_dataset
    from drip_tiny.experiment import ExperimentConfig, run_experiment
    from drip_tiny.experiment.report import write_report

    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    words = tuple(w.strip() for w in args.words.split(",") if w.strip()) if args.words else None
    config = ExperimentConfig(
        dataset=args.dataset, data_dir=str(args.data_dir) if args.data_dir else None,
        load_options=LoadOptions(words=words, max_per_class=args.max_per_class),
        runs=args.runs, seed=args.seed, dpw=args.dpw, variant=args.variant, path=args.path,
        group_by=args.group_by, retrain=args.retrain, epochs=args.epochs, rules=args.rules,
        sweep_dpw=args.sweep_dpw, label_noise=args.label_noise)
    out = args.out or Path("results") / args.dataset

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"run {done}/{total} done", file=sys.stderr, flush=True)

    runs = run_experiment(config, out, jobs=args.jobs, force=args.force, on_done=progress)
    class_names = list(load_dataset(config.dataset, config.data_dir, config.load_options).class_names)
    files = write_report(out, config, runs, class_names)
    print((out / "table.md").read_text().split("## Retention")[0].rstrip())
    for f in files:
        print(f"wrote {f}")
    return 0
