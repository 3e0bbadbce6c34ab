"""The RUN argument every command that reads a run shares: optional in a project folder.

    def add_arguments(parser):
        add_run_argument(parser, needs=FITTED)

    def run(args):
        run_dir = resolve_run(args, needs=FITTED)   # also sets args.run

With RUN given, it is used as it is (the command checks it). Without, the run comes from
drip_tiny.run.discovery (drip-tiny.toml, else the newest complete run under ./runs), and
one line on stderr says which and why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drip_tiny.run.discovery import (
    FITTED,
    NEEDS,
    PROJECT_FILE,
    RUNS_DIR,
    TRAINED,
    find_run,
)

__all__ = ["FITTED", "TRAINED", "add_run_argument", "resolve_run"]

_WHAT = {TRAINED: "run directory written by `drip-tiny train`",
         FITTED: "run directory with thresholds (`drip-tiny fit`)"}


def add_run_argument(parser: argparse.ArgumentParser, needs: str) -> None:
    """The optional positional RUN of a command that needs a `needs` run."""
    if needs not in NEEDS:
        raise ValueError(f"needs must be one of {NEEDS}, got {needs!r}")
    # "%(default).0s" prints nothing: it only keeps ArgumentDefaultsHelpFormatter from adding
    # "(default: None)" to a RUN whose default is found, not fixed.
    parser.add_argument("run", type=Path, nargs="?", default=None, metavar="RUN",
                        help=f"{_WHAT[needs]}; when omitted: the run named in ./{PROJECT_FILE} "
                             f"(run = \"runs/NAME\"), else the newest {needs} run under "
                             f"./{RUNS_DIR}%(default).0s")


def resolve_run(args: argparse.Namespace, needs: str) -> Path:
    """args.run if given; otherwise the discovered run, announced on stderr and stored in
    args.run so the rest of the command reads it as if typed."""
    if args.run is not None:
        given: Path = args.run  # argparse's type=Path
        return given
    found = find_run(needs)
    prog = " ".join(filter(None, ("drip-tiny", getattr(args, "command", None))))
    print(f"{prog}: using run {found.path} ({found.reason})", file=sys.stderr)
    args.run = found.path
    return found.path
