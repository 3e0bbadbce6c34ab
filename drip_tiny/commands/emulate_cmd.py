"""`drip-tiny emulate --board B`: start an emulated board and serve its serial port."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from drip_tiny.commands.board_argument import DEFAULT_BOARD, EMULATED, add_board_argument

NAME = "emulate"
HELP = "run an exported firmware on an emulated board (QEMU mps2-an386, or the host build)"
DESCRIPTION = (
    "Start the firmware exported for an emulated board and print the serial URL to connect "
    "to (for --port of drip-tiny hil, or pyserial's serial_for_url). Runs until Ctrl-C "
    "(exit 0) or SIGTERM/SIGHUP (exit 143/129), and the board stops with it. "
    "mps2-an386 runs under QEMU with UART0 on a local TCP port; host runs the native build "
    "on a pseudo-terminal with its flash in a file.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_board_argument(parser, kind=EMULATED, default=DEFAULT_BOARD)
    parser.add_argument("--image", type=Path, default=None,
                        help="the export folder or the image itself (default build/BOARD)")
    parser.add_argument("--flash-file", type=Path, default=None,
                        help="host board: the file holding its flash (default: flash.bin "
                             "next to the executable); kept across runs")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds instead of waiting for Ctrl-C")


def run(args: argparse.Namespace) -> int:
    from drip_tiny.boards import load_board
    from drip_tiny.emulator.images import default_image_dir, resolve_image
    from drip_tiny.emulator.launch import start_emulated

    board = load_board(args.board)
    image = resolve_image(args.image or default_image_dir(board.name), board)
    with start_emulated(board.name, image, flash_file=args.flash_file) as emulated:
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            # Inside the try: a Ctrl-C may come as soon as the URL is out.
            print(f"serial {emulated.url}", flush=True)
            print(f"{board.name} running {image}; Ctrl-C stops it", flush=True)
            while emulated.process.poll() is None:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
        except KeyboardInterrupt:
            return 0  # Ctrl-C is how this command is meant to end
        status = emulated.process.poll()
        if status is not None:
            from drip_tiny.errors import EmulatorError

            raise EmulatorError(f"the emulated {board.name} stopped with status {status}; its "
                                f"output:\n{emulated.log()}")
    return 0
