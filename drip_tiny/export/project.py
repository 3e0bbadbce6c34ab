"""Which files make a standalone firmware project for one board, and where they go.

Data-driven, so a new firmware source or board driver needs no change here:
- firmware/app, firmware/protocol, firmware/board: every .c and .h (subfolders kept);
- firmware/store: every .h, dt_store.c always, and dt_flash_sim.c when some copied source
  (a board driver, the startup, a board header or the app) includes dt_flash_sim.h: the
  boards whose flash is simulated (host: a file; mps2-an386: a RAM buffer) do, a board
  with real flash (nrf52840: NVMC) does not, and its image carries no simulator;
- the board: board.json, startup[] + drivers[], the linker script, and the headers found
  in its include[] folders and beside its sources, under board/ with the same relative
  paths;
- generated/: write_model_sources' output (model, kernels, DRIP kernel, thresholds).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from drip_tiny.boards import Board
from drip_tiny.errors import ExportError

FIRMWARE_FOLDERS = ("app", "protocol", "board", "store")
COMPILE_ALL = ("app", "protocol", "board")  # every .c of these is compiled
STORE_SOURCE = "dt_store.c"
FLASH_SIM_SOURCE = "dt_flash_sim.c"
FLASH_SIM_HEADER = "dt_flash_sim.h"
GENERATED = "generated"
BOARD_DIR = "board"
FIRMWARE_DIR = "firmware"
_INCLUDES_FLASH_SIM = re.compile(r'^\s*#\s*include\s*[<"]' + re.escape(FLASH_SIM_HEADER) + '[>"]',
                                 re.MULTILINE)


@dataclass(frozen=True)
class ProjectFiles:
    """The copied part of a project (generated/ is added when the model is written)."""
    copies: dict[str, Path]  # project-relative path -> the file to copy there
    sources: tuple[str, ...]  # project-relative .c files to compile, generated/ excluded
    include_dirs: tuple[str, ...]  # project-relative -I folders, generated/ included
    linker_script: str | None
    flash_sim: bool  # dt_flash_sim.c is compiled in


def _c_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".c", ".h"))


def _board_relative(board: Board, path: Path) -> str:
    rel = os.path.relpath(path, board.directory)
    if rel.startswith(".."):
        raise ExportError(f"board {board.name}: {path} lies outside its folder "
                          f"{board.directory}; a board's files must live in its folder")
    return Path(BOARD_DIR, rel).as_posix() if rel != "." else BOARD_DIR


def plan_project(board: Board, firmware_root: Path) -> ProjectFiles:
    """The firmware and board files of a project for `board`, from firmware_root
    (the shipped firmware/ folder, or another one in tests)."""
    firmware_root = Path(firmware_root)
    copies: dict[str, Path] = {}
    sources: list[str] = []
    for name in FIRMWARE_FOLDERS:
        folder = firmware_root / name
        if not folder.is_dir():
            raise ExportError(f"{folder} is missing: this drip-tiny installation has no "
                              f"firmware/{name}/ sources to build (reinstall it from a "
                              "complete source checkout)")
        for path in _c_files(folder):
            dest = Path(FIRMWARE_DIR, name, path.relative_to(folder)).as_posix()
            copies[dest] = path
            if path.suffix == ".c" and name in COMPILE_ALL:
                sources.append(dest)
    store_source = f"{FIRMWARE_DIR}/store/{STORE_SOURCE}"
    if store_source not in copies:
        raise ExportError(f"{firmware_root / 'store' / STORE_SOURCE} is missing")
    sources.append(store_source)

    board_files = [board.directory / "board.json", *board.startup_sources,
                   *board.driver_sources]
    if board.linker_script is not None:
        board_files.append(board.linker_script)
    header_dirs = {*board.include_dirs, *(p.parent for p in board.startup_sources),
                   *(p.parent for p in board.driver_sources)}
    for folder in sorted(header_dirs):
        board_files += sorted(folder.glob("*.h"))
    for path in board_files:
        copies[_board_relative(board, path)] = path
    for path in (*board.startup_sources, *board.driver_sources):
        sources.append(_board_relative(board, path))

    # dt_flash_sim.c goes in when something the image compiles includes its header.
    flash_sim_users = [dest for dest, path in copies.items()
                       if not dest.startswith(f"{FIRMWARE_DIR}/store/")
                       and _INCLUDES_FLASH_SIM.search(path.read_text(errors="replace"))]
    flash_sim = bool(flash_sim_users)
    if flash_sim:
        sim = f"{FIRMWARE_DIR}/store/{FLASH_SIM_SOURCE}"
        if sim not in copies:
            raise ExportError(f"{', '.join(flash_sim_users)} include {FLASH_SIM_HEADER} but "
                              f"{firmware_root / 'store' / FLASH_SIM_SOURCE} is missing")
        sources.append(sim)

    includes = [f"{FIRMWARE_DIR}/{name}" for name in FIRMWARE_FOLDERS]
    includes += [_board_relative(board, d) for d in board.include_dirs]
    includes.append(GENERATED)
    return ProjectFiles(copies=copies, sources=tuple(dict.fromkeys(sources)),
                        include_dirs=tuple(dict.fromkeys(includes)),
                        linker_script=(_board_relative(board, board.linker_script)
                                       if board.linker_script is not None else None),
                        flash_sim=flash_sim)
