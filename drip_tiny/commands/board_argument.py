"""The one --board option: every command that names a board declares it here, so the
names it accepts and lists come from boards/*/board.json (boards as data), and each kind
of command offers only the boards it can use.

    add_board_argument(parser, kind=EMULATED, default=DEFAULT_BOARD)
"""

from __future__ import annotations

import argparse
import functools
from typing import Final, Literal

from drip_tiny.boards import DEFAULT_BOARD, board_names, load_board

# Final, so each name has its Literal type and passes as a Kind.
ANY: Final = "any"  # export: every board drip-tiny can build for
EMULATED: Final = "emulated"  # emulate, hil/pull/send-thresholds --board: started on this machine
FLASHABLE: Final = "flashable"  # flash: a real board with a flash method
Kind = Literal["any", "emulated", "flashable"]

_WHAT = {ANY: "target board", EMULATED: "start this emulated board",
         FLASHABLE: "board to flash"}

__all__ = ["ANY", "DEFAULT_BOARD", "EMULATED", "FLASHABLE", "add_board_argument",
           "boards_of_kind"]


@functools.cache  # every subcommand's parser asks at start-up: read each board.json once
def boards_of_kind(kind: Kind) -> tuple[str, ...]:
    names = board_names()
    if kind == ANY:
        return tuple(names)
    boards = [load_board(name) for name in names]
    if kind == EMULATED:
        return tuple(b.name for b in boards if b.toolchain == "host" or b.qemu is not None)
    return tuple(b.name for b in boards if b.flash_method is not None)


def add_board_argument(parser: argparse.ArgumentParser | argparse._ActionsContainer, *,
                       kind: Kind, default: str | None = None, required: bool = False,
                       extra_help: str = "") -> None:
    names = boards_of_kind(kind)
    text = f"{_WHAT[kind]}: {', '.join(names)}"  # the CLI's formatter adds the default
    # No argparse choices: load_board's error names the closest board and exits 1.
    parser.add_argument("--board", default=default, required=required, metavar="BOARD",
                        help=text + extra_help)
