"""Emulated boards as data: boards/<name>/board.json loaded into a frozen dataclass.

Only what running code under QEMU needs is read here; the firmware build will read more
of the same file.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..resources import shipped_dir

DEFAULT_BOARD = "mps2-an386"


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    start: int
    bytes: int
    access: str


@dataclass(frozen=True)
class QemuSettings:
    binary: str  # e.g. qemu-system-arm
    debian_package: str  # what to install when the binary is missing
    machine: str  # -M
    args: tuple[str, ...]  # display, monitor, serial and semihosting options
    plugin_source: Path  # the instruction-counting TCG plugin (C)


@dataclass(frozen=True)
class Board:
    name: str
    directory: Path
    cpu: str
    cflags: tuple[str, ...]  # CPU, FPU and ABI flags for arm-none-eabi-gcc
    memory: tuple[MemoryRegion, ...]
    startup_sources: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    linker_script: Path
    qemu: QemuSettings

    @property
    def bench_dir(self) -> Path:
        """The benchmark support: dt_bench.{h,c} markers, dt_bench_model.c main."""
        return self.directory / "bench"


def board_names() -> list[str]:
    root = shipped_dir("boards")
    return sorted(p.parent.name for p in root.glob("*/board.json"))


def _field(data: dict, key: str, kind: type, where: str):
    if key not in data:
        raise ConfigError(f"{where}: missing the field {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {key!r} must be {kind.__name__}, "
                          f"got {type(value).__name__}")
    return value


def load_board(name: str = DEFAULT_BOARD) -> Board:
    """Read and check boards/<name>/board.json."""
    root = shipped_dir("boards")
    path = root / name / "board.json"
    if not path.is_file():
        names = board_names()
        hint = difflib.get_close_matches(name, names, n=1)
        raise ConfigError(f"unknown board {name!r}"
                          + (f"; did you mean {hint[0]!r}?" if hint else "")
                          + f" (boards with a board.json: {', '.join(names) or 'none'})")
    where = str(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where}: not valid JSON: {e}") from e
    directory = path.parent
    memory = []
    for region in _field(data, "memory", list, where):
        try:
            memory.append(MemoryRegion(name=str(region["name"]), start=int(region["start"], 0),
                                       bytes=int(region["bytes"]), access=str(region["access"])))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"{where}: memory region {region!r} needs name, start "
                              f"(\"0x...\"), bytes and access") from e
    q = _field(data, "qemu", dict, where)
    qemu = QemuSettings(binary=_field(q, "binary", str, where + " qemu"),
                        debian_package=_field(q, "debian_package", str, where + " qemu"),
                        machine=_field(q, "machine", str, where + " qemu"),
                        args=tuple(_field(q, "args", list, where + " qemu")),
                        plugin_source=directory / _field(q, "plugin", str, where + " qemu"))
    board = Board(name=_field(data, "name", str, where), directory=directory,
                  cpu=_field(data, "cpu", str, where),
                  cflags=tuple(_field(data, "cflags", list, where)),
                  memory=tuple(memory),
                  startup_sources=tuple(directory / s
                                        for s in _field(data, "startup", list, where)),
                  include_dirs=tuple(directory / s
                                     for s in _field(data, "include", list, where)),
                  linker_script=directory / _field(data, "linker_script", str, where),
                  qemu=qemu)
    if board.name != name:
        raise ConfigError(f"{where}: its name {board.name!r} differs from its folder {name!r}")
    for f in (*board.startup_sources, board.linker_script, qemu.plugin_source):
        if not f.is_file():
            raise ConfigError(f"{where}: {f.name} is missing from {f.parent}")
    return board
