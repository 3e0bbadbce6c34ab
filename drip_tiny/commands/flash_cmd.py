"""`drip-tiny flash --board nrf52840`: write an exported image through a debug probe."""

from __future__ import annotations

import argparse
from pathlib import Path

from drip_tiny.commands.board_argument import FLASHABLE, add_board_argument

NAME = "flash"
HELP = "write an exported firmware image to a board through a debug probe"
DESCRIPTION = (
    "Program the HEX image of an exported project (`drip-tiny export`) with the board's "
    "flash method: pyOCD (`pip install drip-tiny[flash]`) by default, or Nordic's nrfjprog "
    "with --tool nrfjprog when it is installed. Emulated and host boards have nothing to "
    "flash: start them with `drip-tiny emulate`.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_board_argument(parser, kind=FLASHABLE, required=True)
    parser.add_argument("--image", type=Path, default=None, metavar="DIR_or_HEX",
                        help="exported project folder or its .hex; build/BOARD when omitted")
    parser.add_argument("--probe", default=None, metavar="UID",
                        help="debug probe unique id (`pyocd list`, or the J-Link serial "
                             "number for nrfjprog); needed when several are connected")
    parser.add_argument("--tool", default=None, choices=("pyocd", "nrfjprog"),
                        help="flash tool (default: the board's flash_method)")


def run(args: argparse.Namespace) -> int:
    from drip_tiny.boards import load_board
    from drip_tiny.export.flash import flash_image

    board = load_board(args.board)
    image = args.image or Path("build") / board.name
    result = flash_image(board, image, probe=args.probe, tool=args.tool)
    probe = f" through probe {result.probe}" if result.probe else ""
    print(f"flashed {result.image} to {result.board} with {result.tool}{probe}; the board "
          "was reset and runs the new firmware")
    return 0
