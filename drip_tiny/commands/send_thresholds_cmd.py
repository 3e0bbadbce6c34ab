"""`drip-tiny send-thresholds RUN`: put a run's DRIP thresholds on a running device
(SET_THRESHOLDS), or back to the image's compiled-in ones (--reset), without reflashing."""

from __future__ import annotations

import argparse
from pathlib import Path

from .run_argument import FITTED, add_run_argument, resolve_run

NAME = "send-thresholds"
HELP = "send a run's DRIP thresholds to a running device (no reflash), or --reset them"
DESCRIPTION = (
    "Identify the device, refuse it unless it runs RUN's model (thresholds fitted for "
    "another model are never sent: export and flash that run instead) and computes the "
    "same DRIPS variant, send RUN's thresholds with SET_THRESHOLDS (the device keeps them "
    "across reboots), then check with IDENTIFY that it reports RUN's thresholds hash. "
    "--reset goes back to the thresholds compiled into the image. --port talks to a "
    "connected board (the point of the command); --board host|mps2-an386 starts the "
    "exported image on an emulated board and stops it afterwards: the host board keeps "
    "the thresholds in its flash file for the next `hil --board host`, mps2-an386 loses "
    "them with the emulator. See docs/hil.md.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser, needs=FITTED)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (/dev/ttyACM0, "
                                      "socket://127.0.0.1:PORT, rfc2217://...)")
    where.add_argument("--board", help="start this emulated board: mps2-an386 or host")
    parser.add_argument("--image", type=Path, default=None,
                        help="with --board: export folder or image (default build/BOARD)")
    parser.add_argument("--baud", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for each answer before resending")
    parser.add_argument("--reset", action="store_true",
                        help="RESET_THRESHOLDS: back to the thresholds compiled into the "
                             "image (RUN still names the model the device must run)")


def _apply(device, run, reset: bool):
    from ..link.thresholds_update import reset_thresholds, send_run_thresholds

    return reset_thresholds(device, run) if reset else send_run_thresholds(device, run)


def _print_change(change, run, where: str) -> None:
    t = run.thresholds
    head = f"{change.board} ({where}), model {change.model_hash:08x}"
    if not change.sent:
        print(f"{head}: already uses {run.run}'s thresholds {change.run_hash:08x}; nothing sent")
        return
    if change.reset:
        ours = (f"which are {run.run}'s" if change.after == change.run_hash
                else f"{run.run}'s are {change.run_hash:08x}")
        print(f"{head}: thresholds {change.before:08x} -> {change.after:08x} (the image's "
              f"compiled-in ones; {ours}), confirmed by IDENTIFY")
        return
    print(f"{head}: thresholds {change.before:08x} -> {change.after:08x} ({run.run}: "
          f"{t.variant} DRIPS, DPW {t.dpw:g}%), confirmed by IDENTIFY")
    print(f"{'class':>12} {'lower':>12} {'upper':>12}")
    for c in t.classes:
        if c.lower is None:
            print(f"{c.name:>12} {'(keep all)':>25}")
        else:
            print(f"{c.name:>12} {c.lower:>12.6g} {c.upper:>12.6g}")


def run(args: argparse.Namespace) -> int:
    from ..link.thresholds_update import load_run_thresholds

    resolve_run(args, needs=FITTED)
    thresholds = load_run_thresholds(args.run)  # a bad run fails before any port is opened
    if args.board:
        from ..boards import load_board
        from ..link.emulated import start_emulated
        from ..link.images import default_image_dir, resolve_image

        board = load_board(args.board)
        image = resolve_image(args.image or default_image_dir(board.name), board)
        with start_emulated(board.name, image) as emulated:
            with emulated.connect(timeout=args.timeout) as device:
                change = _apply(device, thresholds, args.reset)
        flash = getattr(emulated, "flash_file", None)
        _print_change(change, thresholds, f"emulated, {image}")
        if flash is not None:
            print(f"kept in {flash}: the next `--board host --image {args.image or image}` "
                  "starts with them")
        elif change.sent:
            print(f"note: {board.name} keeps its settings in the emulator's memory, so they "
                  "ended with it; to keep a board running, start it with `drip-tiny emulate` "
                  "and pass --port")
    else:
        from ..link.client import Device, open_port

        with Device(open_port(args.port, args.baud), timeout=args.timeout) as device:
            change = _apply(device, thresholds, args.reset)
        _print_change(change, thresholds, args.port)
    return 0
