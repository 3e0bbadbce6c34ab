"""`drip-tiny hil RUN`: stream a split to a device and check every answer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..splits import SPLIT_NAMES

NAME = "hil"
HELP = "stream a split to a device (real or emulated) and check every answer bit for bit"
DESCRIPTION = (
    "Hardware in the loop: identify the device (refusing one that runs another model or "
    "other thresholds), send every sample of a split over the serial protocol, and compare "
    "each answer with the Python reference: predicted class and raw int8 logits with TFLM's "
    "interpreter, DRIPS and keep/drop with the int8 Grad-CAM. Exits 1 on any disagreement. "
    "--port talks to a connected board; --board mps2-an386|host starts the exported image "
    "on an emulated board and stops it afterwards.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="run directory with thresholds (drip-tiny fit)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (/dev/ttyACM0, "
                                      "socket://127.0.0.1:PORT, rfc2217://...)")
    where.add_argument("--board", help="start this emulated board: mps2-an386 or host")
    parser.add_argument("--image", type=Path, default=None,
                        help="with --board: export folder or image (default build/BOARD)")
    parser.add_argument("--baud", type=int, default=1_000_000)
    parser.add_argument("--split", choices=SPLIT_NAMES, default="production")
    parser.add_argument("--limit", type=int, default=None, help="send only the first N samples")
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for each answer before resending")
    parser.add_argument("--erase", action="store_true",
                        help="erase the device's sample store before streaming")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                        help="write the summary and every mismatch here")


def _cost(value, clock_hz: int) -> str:
    """Cycles with the time at the board's clock; instructions when the clock is unknown
    (QEMU counts instructions, see docs/link.md)."""
    if value is None:
        return "-"
    if not clock_hz:
        return f"{value:,.0f} instructions"
    return f"{value:,.0f} cycles ({1e6 * value / clock_hz:,.1f} us)"


def _stream(device, args) -> dict:
    from tqdm import tqdm

    from ..link.stream import stream_split

    if args.erase:
        device.store_erase()
    with tqdm(total=args.limit, desc="hil", unit="sample",
              disable=not sys.stderr.isatty()) as bar:
        result = stream_split(device, args.run, args.split, limit=args.limit,
                              progress=bar.update)
    summary = result.summary()
    summary["identity"] = {k: v for k, v in vars(device.identity).items()}
    summary["retransmissions"] = device.retransmissions
    return summary


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    if args.limit is not None and args.limit <= 0:
        raise ConfigError("--limit must be a positive number of samples")
    if args.board:
        from ..boards import load_board
        from ..link.emulated import start_emulated
        from ..link.images import default_image_dir, resolve_image

        board = load_board(args.board)
        image = resolve_image(args.image or default_image_dir(board.name), board)
        with start_emulated(board.name, image) as emulated:
            with emulated.connect(timeout=args.timeout) as device:
                summary = _stream(device, args)
    else:
        from ..link.client import Device, open_port

        with Device(open_port(args.port, args.baud), timeout=args.timeout) as device:
            summary = _stream(device, args)
    ident = summary["identity"]
    n = summary["samples"]
    print(f"{ident['board']} ({ident['firmware']}): {n} samples of the {args.split} split")
    print(f"agree with the reference: {summary['agree']}/{n}"
          + (f"; {len(summary['mismatches'])} mismatching fields" if summary["mismatches"]
             else " (predicted class and int8 logits bit-exact, DRIPS, decision)"))
    for m in summary["mismatches"][:10]:
        print(f"  sample {m['index']}: {m['field']}: device {m['device']}, "
              f"reference {m['reference']}")
    print(f"accuracy {100 * summary['accuracy']:.2f}%; kept {summary['kept']}, discarded "
          f"{summary['discarded']}: storage savings {100 * summary['storage_savings']:.1f}%; "
          f"stored {summary['stored']}, store full {summary['store_full']}, store errors "
          f"{summary['store_failures']}")
    clock = ident["clock_hz"]
    print(f"per sample: inference {_cost(summary['cycles_inference'], clock)}, DRIP step "
          f"{_cost(summary['cycles_drip'], clock)}, storing a kept sample "
          f"{_cost(summary['cycles_store_when_stored'], clock)}")
    if summary["samples_per_second"]:
        print(f"link: {summary['samples_per_second']:.1f} samples/s, "
              f"{summary['retransmissions']} retransmissions")
    if args.json is not None:
        from ..rundir import replace_files

        out = args.json.absolute()
        if not out.parent.is_dir():
            raise ConfigError(f"cannot write {args.json}: the folder {out.parent} does not exist")
        replace_files({out: lambda p: p.write_text(json.dumps(summary, indent=1) + "\n")})
        print(f"wrote {args.json}")
    return 1 if summary["mismatches"] else 0
