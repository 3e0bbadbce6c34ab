"""The `drip-tiny` command. The only module that prints errors and chooses exit codes.

Each subcommand lives in drip_tiny/commands/<name>_cmd.py and provides NAME, HELP,
add_arguments(parser) and run(args) -> int.

SIGTERM and SIGHUP stop a command as Ctrl-C does: the signal becomes an exception, so the
with blocks that own emulated boards and build tools unwind and stop them
(drip_tiny/child_processes.py); the exit code is 128 + the signal's number. A second
signal during that unwinding kills every child at once and exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import NoReturn

from drip_tiny import __version__, child_processes
from drip_tiny.commands import SUBCOMMANDS
from drip_tiny.errors import DripTinyError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like KeyboardInterrupt (which `except Exception`
    does not catch either)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """The first SIGINT, SIGTERM or SIGHUP raises (KeyboardInterrupt, Stopped); a second
    one while the first unwinds kills the children and exits at once. A signal the
    caller ignores (nohup ignores SIGHUP) stays ignored."""
    raised: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> NoReturn:
        if raised:
            child_processes.kill_all()
            name = signal.Signals(signum).name
            with suppress(OSError):
                os.write(2, f"drip-tiny: {name} while stopping; killed its processes\n".encode())
            os._exit(128 + signum)
        raised.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(signum)

    previous = {}
    try:
        for signum in STOP_SIGNALS:
            current = signal.getsignal(signum)
            if current in (signal.SIG_DFL, signal.default_int_handler):
                previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: signals cannot be handled here
        pass
    try:
        with child_processes.stopping_leftovers():
            yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


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
        with _stop_on_signals():
            return int(args._run(args))
    except DripTinyError as exc:
        print(f"drip-tiny {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say(f"drip-tiny {args.command}: interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except Stopped as stop:
        _say(f"drip-tiny {args.command}: stopped by {stop}; nothing was written, and every "
             "process it started was stopped")
        return 128 + stop.signum


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass  # the terminal went away (SIGHUP): the exit code still tells


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
