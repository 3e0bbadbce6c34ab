"""`drip-tiny export RUN --board B --out DIR`: a standalone firmware project, built."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drip_tiny.commands.board_argument import ANY, DEFAULT_BOARD, add_board_argument
from drip_tiny.commands.run_argument import FITTED, add_run_argument, resolve_run

NAME = "export"
HELP = "write a standalone firmware project for a board and build it"
DESCRIPTION = (
    "Write the run's model (model.tflite and a C array for TFLM), the generated inference "
    "code, DRIP kernel and threshold header, the firmware application and the board's files "
    "into DIR with a Makefile (`make -C DIR` builds it), then build it when the toolchain is "
    "installed: ELF, HEX (and UF2 for boards with a UF2 bootloader), and a memory report "
    "against the board's flash and RAM. Fails, writing nothing, when the model does not fit. "
    "Without the toolchain the project is still written, with a notice naming the package "
    "to install (exit 0). docs/export.md describes the project.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser, needs=FITTED)
    add_board_argument(parser, kind=ANY, default=DEFAULT_BOARD)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="project folder; build/BOARD when omitted")
    parser.add_argument("--force", action="store_true", help="replace DIR if it exists")
    parser.add_argument("--no-build", action="store_true",
                        help="write the project only; build it later with `make -C DIR`")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs")
    parser.add_argument("--optimize", choices=("speed", "size"), default="speed",
                        help="-O2 (speed) or -Os (size: about 1.5 KB less code on digits, "
                             "2x the inference instructions)")
    parser.add_argument("--quiet", action="store_true", help="print only the memory report")


def run(args: argparse.Namespace) -> int:
    resolve_run(args, needs=FITTED)
    from drip_tiny.export import export_project

    out = args.out or Path("build") / args.board
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    result = export_project(args.run, args.board, out, force=args.force,
                            build=not args.no_build, jobs=args.jobs,
                            optimize=args.optimize, log=log)
    if result.report is not None:
        print(result.report.format())  # it ends with the store's capacity
    elif result.store is not None:
        print(result.store.describe())
    if not args.quiet:
        print(f"wrote {len(result.manifest['files'])} files to {result.out} "
              f"(build: make -C {result.out})")
        for kind, path in result.images.items():
            print(f"  {kind:<4} {path}")
    if result.notice:
        print(f"drip-tiny export: notice: {result.notice}", file=sys.stderr)
    return 0
