"""`drip-tiny pull`: read every sample a device kept back into an .npz."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "pull"
HELP = "read the samples a device kept (its store) back into an .npz"
DESCRIPTION = (
    "Read every stored sample back from a device (STORE_LIST, then STORE_READ) into OUT.npz "
    "with x (int8, shaped like the model input), predicted, drips, id and the device's input "
    "quantization. `drip-tiny train ... --extra OUT.npz` trains with them. See docs/hil.md.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL")
    where.add_argument("--board", help="start this emulated board (host or mps2-an386); "
                                       "only the host board keeps its store between runs")
    parser.add_argument("--image", type=Path, default=None,
                        help="with --board: export folder or image (default build/BOARD)")
    parser.add_argument("--baud", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True, metavar="KEPT.npz")


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..hil.kept import read_store, save_kept
    from ..rundir import replace_files

    out = args.out.absolute()
    if out.suffix != ".npz":
        raise ConfigError(f"--out {args.out}: give a file name ending in .npz")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write {args.out}: the folder {out.parent} does not exist")
    if args.board:
        from ..boards import load_board
        from ..link.emulated import start_emulated
        from ..link.images import default_image_dir, resolve_image

        board = load_board(args.board)
        image = resolve_image(args.image or default_image_dir(board.name), board)
        with start_emulated(board.name, image) as emulated:
            with emulated.connect(timeout=args.timeout) as device:
                kept = read_store(device)
                ident = device.identity
    else:
        from ..link.client import Device, open_port

        with Device(open_port(args.port, args.baud), timeout=args.timeout) as device:
            kept = read_store(device)
            ident = device.identity
    replace_files({out: lambda p: save_kept(p, kept)})
    n = len(kept["x"])
    counts = ", ".join(f"{c}: {int((kept['predicted'] == c).sum())}"
                       for c in range(ident.num_classes))
    print(f"{ident.board}: {n} stored samples (predicted class {counts}) -> {args.out}")
    return 0
