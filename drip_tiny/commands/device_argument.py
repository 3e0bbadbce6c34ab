"""The device options every command that talks to a board shares (hil, pull,
send-thresholds): --port for a connected board, or --board to start an exported image on
an emulated one for the length of the command.

    def add_arguments(parser):
        add_device_arguments(parser, board_help="; more about --board")

    def run(args):
        with connected_device(args) as link:
            link.device.identify() ...
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drip_tiny.commands.board_argument import EMULATED, add_board_argument

if TYPE_CHECKING:
    from drip_tiny.link.client import Device

DEFAULT_BOARD_HELP = ""


@dataclass
class Link:
    device: Device  # connected and identified on first use
    where: str  # the port, or "emulated, IMAGE"
    flash_file: Path | None = None  # the host board's flash file (kept after the command)


def add_device_arguments(parser: argparse.ArgumentParser,
                         board_help: str = DEFAULT_BOARD_HELP) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (/dev/ttyACM0, "
                                      "socket://127.0.0.1:PORT, rfc2217://...)")
    add_board_argument(where, kind=EMULATED, extra_help=board_help)
    parser.add_argument("--image", type=Path, default=None,
                        help="with --board: export folder or image (default build/BOARD)")
    parser.add_argument("--baud", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for each answer before resending")


@contextmanager
def connected_device(args: argparse.Namespace) -> Iterator[Link]:
    """The device of --port, or of --board (started here, stopped on the way out)."""
    if args.board:
        from drip_tiny.boards import load_board
        from drip_tiny.emulator.images import default_image_dir, resolve_image
        from drip_tiny.emulator.launch import start_emulated

        board = load_board(args.board)
        image = resolve_image(args.image or default_image_dir(board.name), board)
        with start_emulated(board.name, image) as emulated:
            with emulated.connect(timeout=args.timeout) as device:
                yield Link(device, f"emulated, {image}",
                           getattr(emulated, "flash_file", None))
    else:
        from drip_tiny.link.client import Device, open_port

        with Device(open_port(args.port, args.baud), timeout=args.timeout) as device:
            yield Link(device, args.port)
