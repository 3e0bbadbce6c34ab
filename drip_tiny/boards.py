"""Boards as data: boards/<name>/board.json loaded into a frozen dataclass.

Every field is described in boards/README.md. Export (building a firmware image and its
memory report), the emulators and flashing all read the same file; code exists only for
what behaves differently.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload

from drip_tiny.errors import ConfigError
from drip_tiny.resources import shipped_dir

DEFAULT_BOARD = "mps2-an386"
TOOLCHAINS = ("arm-none-eabi", "host")


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    start: int
    bytes: int
    access: str  # "rx" (flash: code and constants) or "rwx" (RAM)

    @property
    def is_flash(self) -> bool:
        return "w" not in self.access


# dt_store.h keeps page numbers in a byte.
STORE_MAX_PAGES = 256


@dataclass(frozen=True)
class FlashArea:
    """A reserved flash range (the sample store, the settings pages)."""
    start: int
    bytes: int
    page_bytes: int

    @property
    def pages(self) -> int:
        return self.bytes // self.page_bytes


@dataclass(frozen=True)
class QemuSettings:
    binary: str  # e.g. qemu-system-arm
    debian_package: str  # what to install when the binary is missing
    machine: str  # -M
    args: tuple[str, ...]  # display, monitor, serial and semihosting options
    plugin_source: Path  # the instruction-counting TCG plugin (C)
    # Functions the plugin leaves out of cycle counts: interrupt handlers that may run
    # inside a measured stage at any moment (the serial receive while samples stream in).
    uncounted: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlashMethod:
    tool: str  # "pyocd"
    target: str  # the tool's target name, e.g. "nrf52840"
    alternatives: tuple[str, ...]  # other tools used when installed, e.g. ("nrfjprog",)


@dataclass(frozen=True)
class Board:
    name: str
    directory: Path
    description: str
    toolchain: str  # "arm-none-eabi" (cross) or "host" (the machine's cc)
    cpu: str
    cflags: tuple[str, ...]  # CPU, FPU and ABI flags
    clock_hz: int  # 0: unknown (QEMU counts instructions, not cycles)
    memory: tuple[MemoryRegion, ...]
    startup_sources: tuple[Path, ...]  # reset, vectors, semihosting: every image
    driver_sources: tuple[Path, ...]  # dt_board.h's implementation: the firmware app only
    include_dirs: tuple[Path, ...]
    linker_script: Path | None  # None for the host board
    defines: tuple[str, ...]  # -D flags for the firmware app
    stack_bytes: int
    store: FlashArea | None  # the sample store's region (None: the driver decides, host)
    settings: FlashArea | None  # the persisted-settings pages
    serial: dict[str, Any]  # interface, baud, and how a host reaches it; descriptive
    image_formats: tuple[str, ...]  # "elf", "hex", "uf2"
    uf2_family: int | None  # UF2 family id when the board has a UF2 bootloader
    flash_method: FlashMethod | None
    qemu: QemuSettings | None

    @property
    def app_defines(self) -> tuple[str, ...]:
        """-D flags of the firmware app: board.json's, and the store's page count, so the
        store's RAM state (dt_store_t, about 29 bytes a page) is sized to the board."""
        if self.store is None:
            return self.defines
        return (*self.defines, f"DT_STORE_MAX_PAGES={self.store.pages}u")

    @property
    def bench_dir(self) -> Path:
        """The benchmark support: dt_bench.{h,c} markers, dt_bench_model.c main."""
        return self.directory / "bench"

    def region(self, flash: bool) -> MemoryRegion:
        """The (first) flash or RAM region: the limits of the memory report."""
        for r in self.memory:
            if r.is_flash == flash:
                return r
        raise ConfigError(f"board {self.name}: no {'flash' if flash else 'RAM'} region in "
                          "its board.json memory list")


def board_names() -> list[str]:
    root = shipped_dir("boards")
    return sorted(p.parent.name for p in root.glob("*/board.json"))


_T = TypeVar("_T")
_U = TypeVar("_U")
# board.json as json.loads returns it: values are whatever the file holds until checked.
_Json = dict[str, Any]


@overload
def _field(data: _Json, key: str, kind: type[_T], where: str) -> _T: ...
@overload
def _field(data: _Json, key: str, kind: type[_T], where: str, default: _T) -> _T: ...
@overload
def _field(data: _Json, key: str, kind: tuple[type[_T], type[_U]], where: str,
           default: _T | _U = ...) -> _T | _U: ...
def _field(data: _Json, key: str, kind: type[Any] | tuple[type[Any], ...], where: str,
           default: Any = ...) -> Any:
    if key not in data:
        if default is not ...:
            return default
        raise ConfigError(f"{where}: missing the field {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        # A tuple of kinds has no __name__: name each (this raised AttributeError before).
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise ConfigError(f"{where}: {key!r} must be {' or '.join(k.__name__ for k in kinds)}, "
                          f"got {type(value).__name__}")
    return value


def _int(value: str | int, where: str) -> int:
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {value!r} is not an integer (write \"0x...\" or a "
                          "number)") from e


def _flash_area(data: _Json, key: str, where: str) -> FlashArea | None:
    area = data.get(key)
    if area is None:
        return None
    w = f"{where} {key}"
    if not isinstance(area, dict):
        raise ConfigError(f"{w}: must be an object with start, bytes, page_bytes")
    result = FlashArea(start=_int(_field(area, "start", (str, int), w), w),
                       bytes=_int(_field(area, "bytes", (str, int), w), w),
                       page_bytes=_int(_field(area, "page_bytes", (str, int), w), w))
    if result.page_bytes <= 0 or result.page_bytes % 4 or result.bytes % result.page_bytes:
        raise ConfigError(f"{w}: bytes must be a whole number of pages and page_bytes a "
                          "positive multiple of 4")
    if result.pages < 2:
        raise ConfigError(f"{w}: needs at least 2 pages")
    if key == "store" and result.pages > STORE_MAX_PAGES:
        raise ConfigError(f"{w}: the sample store takes at most {STORE_MAX_PAGES} pages "
                          f"(docs/storage-format.md), not {result.pages}; use larger pages")
    return result


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
    qemu = None
    if "qemu" in data:
        q = _field(data, "qemu", dict, where)
        qemu = QemuSettings(binary=_field(q, "binary", str, where + " qemu"),
                            debian_package=_field(q, "debian_package", str, where + " qemu"),
                            machine=_field(q, "machine", str, where + " qemu"),
                            args=tuple(_field(q, "args", list, where + " qemu")),
                            plugin_source=directory / _field(q, "plugin", str, where + " qemu"),
                            uncounted=tuple(str(name) for name in _field(
                                q, "uncounted", list, where + " qemu", [])))
    flash_method = None
    if data.get("flash_method") is not None:
        f = _field(data, "flash_method", dict, where)
        flash_method = FlashMethod(tool=_field(f, "tool", str, where + " flash_method"),
                                   target=_field(f, "target", str, where + " flash_method"),
                                   alternatives=tuple(_field(f, "alternatives", list,
                                                             where + " flash_method", [])))
    image = _field(data, "image", dict, where, {})
    uf2_family = image.get("uf2_family")
    linker = data.get("linker_script")
    board = Board(name=_field(data, "name", str, where), directory=directory,
                  description=_field(data, "description", str, where, ""),
                  toolchain=_field(data, "toolchain", str, where, "arm-none-eabi"),
                  cpu=_field(data, "cpu", str, where),
                  cflags=tuple(_field(data, "cflags", list, where)),
                  clock_hz=_int(_field(data, "clock_hz", (int, str), where, 0), where),
                  memory=tuple(memory),
                  startup_sources=tuple(directory / s
                                        for s in _field(data, "startup", list, where, [])),
                  driver_sources=tuple(directory / s
                                       for s in _field(data, "drivers", list, where, [])),
                  include_dirs=tuple(directory / s
                                     for s in _field(data, "include", list, where)),
                  linker_script=directory / linker if linker else None,
                  defines=tuple(_field(data, "defines", list, where, [])),
                  stack_bytes=_int(_field(data, "stack_bytes", (int, str), where, 8192), where),
                  store=_flash_area(data, "store", where),
                  settings=_flash_area(data, "settings", where),
                  serial=_field(data, "serial", dict, where, {}),
                  image_formats=tuple(_field(image, "formats", list, where + " image",
                                             ["elf"])),
                  uf2_family=_int(uf2_family, where) if uf2_family is not None else None,
                  flash_method=flash_method,
                  qemu=qemu)
    if board.name != name:
        raise ConfigError(f"{where}: its name {board.name!r} differs from its folder {name!r}")
    if board.toolchain not in TOOLCHAINS:
        raise ConfigError(f"{where}: toolchain {board.toolchain!r} is not one of "
                          f"{', '.join(TOOLCHAINS)}")
    if board.toolchain != "host" and board.linker_script is None:
        raise ConfigError(f"{where}: a cross-compiled board needs a linker_script")
    files = [*board.startup_sources, *board.driver_sources]
    if board.linker_script is not None:
        files.append(board.linker_script)
    if qemu is not None:
        files.append(qemu.plugin_source)
    for source in files:
        if not source.is_file():
            raise ConfigError(f"{where}: {source.name} is missing from {source.parent}")
    return board


def require_qemu(board: Board) -> QemuSettings:
    if board.qemu is None:
        emulated = [n for n in board_names() if load_board(n).qemu is not None]
        raise ConfigError(f"board {board.name} has no emulator; emulated boards: "
                          f"{', '.join(emulated)}")
    return board.qemu
