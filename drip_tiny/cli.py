"""The `drip-tiny` command. The only module that prints errors and chooses exit codes.

Each subcommand lives in drip_tiny/commands/<name>_cmd.py and provides NAME, HELP,
add_arguments(parser) and run(args) -> int.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import SUBCOMMANDS
from .errors import DripTinyError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drip-tiny",
        description="Train int8 TinyML models and decide on the device which samples to keep "
                    "for retraining (DRIP: Grad-CAM-based DRop unImportant data Points).")
    parser.add_argument("--version", action="version", version=f"drip-tiny {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in SUBCOMMANDS:
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.DESCRIPTION,
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except DripTinyError as exc:
        print(f"drip-tiny {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"drip-tiny {args.command}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def entrypoint() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `drip-tiny simulate RUN | head`): stop quietly.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_ERROR
    sys.exit(code)
