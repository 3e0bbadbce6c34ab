"""`drip-tiny send-thresholds RUN`: put a run's DRIP thresholds on a running device
(SET_THRESHOLDS), or back to the image's compiled-in ones (--reset), without reflashing."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from drip_tiny.commands.device_argument import add_device_arguments, connected_device
from drip_tiny.commands.run_argument import FITTED, add_run_argument, resolve_run

if TYPE_CHECKING:
    from drip_tiny.hil.thresholds_update import RunThresholds, ThresholdsChange
    from drip_tiny.link.client import Device

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
    add_device_arguments(parser)
    parser.add_argument("--reset", action="store_true",
                        help="RESET_THRESHOLDS: back to the thresholds compiled into the "
                             "image (RUN still names the model the device must run)")


def _apply(device: Device, run: RunThresholds, reset: bool) -> ThresholdsChange:
    from drip_tiny.hil.thresholds_update import reset_thresholds, send_run_thresholds

    return reset_thresholds(device, run) if reset else send_run_thresholds(device, run)


def _print_change(change: ThresholdsChange, run: RunThresholds, where: str) -> None:
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
    from drip_tiny.hil.thresholds_update import load_run_thresholds

    resolve_run(args, needs=FITTED)
    thresholds = load_run_thresholds(args.run)  # a bad run fails before any port is opened
    with connected_device(args) as link:
        change = _apply(link.device, thresholds, args.reset)
    _print_change(change, thresholds, link.where)
    if link.flash_file is not None:
        print(f"kept in {link.flash_file}: the next `--board host` with this image starts "
              "with them")
    elif args.board and change.sent:
        print(f"note: {args.board} keeps its settings in the emulator's memory, so they "
              "ended with it; to keep a board running, start it with `drip-tiny emulate` "
              "and pass --port")
    return 0
