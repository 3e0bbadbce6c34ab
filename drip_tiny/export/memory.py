"""The memory report of a built firmware image, and the fast pre-check before building.

Totals come from the ELF's section headers (pyelftools); the split into parts comes from
the linker's map file, which names the object file behind every input section:

flash (code and constants, plus the initial values of .data):
  model weights and parameters   generated/dt_model_data.o
  model code and kernels         the other generated/ objects except the DRIP kernel
  DRIP kernel                    generated/drips_kernel.o
  firmware app, protocol, store  firmware/ objects
  board startup and drivers      board/ objects
  C library, padding             the rest of the flash sections
  .data initial values           writable sections with contents (copied to RAM at reset)
RAM:
  model arena                    generated/dt_model.o (DT_MODEL_ARENA_BYTES)
  DRIP work buffers              generated/drips_kernel.o (DRIP_WORK_BYTES)
  app state, frame buffers       firmware/ objects (the receive and reply frames live in
                                 the application's state)
  board drivers                  board/ objects (serial rings, simulated flash on the host)
  C library, padding             the rest of .data and .bss
  stack                          a .stack section if the linker script has one, else the
                                 ELF's DT_STACK_BYTES symbol, else board.json stack_bytes

Sections in another region of board.json (mps2-an386's NVRAM: the simulated store and
settings that survive a reset) are listed apart and count against neither limit.
Capacity: the board's first flash (rx) and RAM (rwx) regions of board.json, minus the
store and settings areas that lie inside them (they are not part of the image). Every
part is a partition: the parts of each kind add up to the used total.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drip_tiny.boards import Board, FlashArea, MemoryRegion
from drip_tiny.errors import ExportError
from drip_tiny.export.store_capacity import StoreCapacity

WEIGHTS = "model weights and parameters"
MODEL_CODE = "model code and kernels"
DRIP_KERNEL = "DRIP kernel"
FIRMWARE = "firmware app, protocol, store"
BOARD_CODE = "board startup and drivers"
FLASH_REST = "C library, padding"
DATA_INIT = ".data initial values"
ARENA = "model arena"
DRIP_WORK = "DRIP work buffers"
APP_RAM = "app state, frame buffers"
BOARD_RAM = "board drivers"
RAM_REST = "C library, padding"
STACK = "stack"
STACK_SECTIONS = (".stack", ".stack_dummy")
STACK_SYMBOL = "DT_STACK_BYTES"


@dataclass(frozen=True)
class Part:
    name: str
    bytes: int
    source: str  # how the number was found


@dataclass(frozen=True)
class Budget:
    """One kind of memory (flash or RAM): what the image uses against what the board has."""
    kind: str  # "flash" or "RAM"
    parts: tuple[Part, ...]
    region: MemoryRegion | None  # None: no limit known (the host board)
    reserved: tuple[Part, ...]  # store and settings areas inside the region

    @property
    def used(self) -> int:
        return sum(p.bytes for p in self.parts)

    @property
    def capacity(self) -> int | None:
        if self.region is None:
            return None
        return self.region.bytes - sum(p.bytes for p in self.reserved)

    @property
    def excess(self) -> int:
        """Bytes too many (0 when it fits or there is no limit)."""
        return max(0, self.used - self.capacity) if self.capacity is not None else 0

    def part(self, name: str) -> int:
        return next(p.bytes for p in self.parts if p.name == name)

    def describe_capacity(self) -> str:
        if self.region is None:
            return "no limit (host)"
        text = f"{self.capacity:,} available ({self.region.name} {self.region.bytes:,}"
        for r in self.reserved:
            text += f" - {r.name} {r.bytes:,}"
        return text + ")"

    # JSON objects (memory.json): dict[str, Any], the values of several types.
    def to_json(self) -> dict[str, Any]:
        return {"parts": [{"name": p.name, "bytes": p.bytes, "source": p.source}
                          for p in self.parts],
                "used": self.used, "capacity": self.capacity,
                "region": self.region.name if self.region else None,
                "region_bytes": self.region.bytes if self.region else None,
                "reserved": [{"name": p.name, "bytes": p.bytes, "source": p.source}
                             for p in self.reserved],
                "excess": self.excess}


@dataclass(frozen=True)
class MemoryReport:
    board: str
    elf: str  # project-relative path of the image it describes
    flash: Budget
    ram: Budget
    other: tuple[Part, ...] = ()  # sections in other regions (e.g. NVRAM), not counted
    store: StoreCapacity | None = None  # the sample store against this model's samples

    @property
    def fits(self) -> bool:
        stores = self.store is None or self.store.samples > 0
        return self.flash.excess == 0 and self.ram.excess == 0 and stores

    def problems(self) -> list[str]:
        out = []
        if self.store is not None and self.store.samples == 0:
            out.append(store_problem(self.store))
        for b in (self.flash, self.ram):
            if b.excess:
                biggest = max(b.parts, key=lambda p: p.bytes)
                out.append(f"{b.kind}: {b.used:,} bytes used, {b.capacity:,} available, "
                           f"{b.excess:,} bytes too many (largest part: {biggest.name}, "
                           f"{biggest.bytes:,} bytes)")
        return out

    def format(self) -> str:
        lines = [f"Memory report for {self.board} ({self.elf})"]
        for b in (self.flash, self.ram):
            lines.append(f"{b.kind:<34} {'bytes':>10}")
            for p in b.parts:
                lines.append(f"  {p.name:<32} {p.bytes:>10,}")
            share = f" ({100.0 * b.used / b.capacity:.1f}%)" if b.capacity else ""
            lines.append(f"  {'total':<32} {b.used:>10,}{share} of {b.describe_capacity()}")
        if self.other:
            lines.append(f"{'elsewhere (not counted above)':<34} {'bytes':>10}")
            for p in self.other:
                lines.append(f"  {p.name:<32} {p.bytes:>10,}  {p.source}")
        if self.store is not None:
            lines.append(self.store.describe())
        lines.append("fits" if self.fits else "DOES NOT FIT: " + "; ".join(self.problems()))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"board": self.board, "elf": self.elf, "fits": self.fits,
                "flash": self.flash.to_json(), "ram": self.ram.to_json(),
                "other": [{"name": p.name, "bytes": p.bytes, "source": p.source}
                          for p in self.other],
                "store": self.store.to_json() if self.store is not None else None}


# ---- limits ----

def _contains(region: MemoryRegion, area: FlashArea) -> bool:
    return region.start <= area.start < region.start + region.bytes


def limits(board: Board, flash: bool) -> tuple[MemoryRegion | None, tuple[Part, ...]]:
    """The board's region for flash or RAM and the reserved areas inside it; no region for
    the host board (its limits are the machine's)."""
    if board.toolchain == "host":
        return None, ()
    region = board.region(flash)
    reserved = tuple(Part(name, area.bytes, f"board.json {name}")
                     for name, area in (("store", board.store), ("settings", board.settings))
                     if area is not None and _contains(region, area))
    return region, reserved


def store_problem(store: StoreCapacity) -> str:
    return (f"a sample of this model ({store.sample_bytes:,} bytes) cannot be stored: the "
            f"sample store ({store.pages} pages of {store.page_bytes:,} bytes) takes "
            f"samples of at most {store.max_sample_bytes:,} bytes")


def precheck(board: Board, weight_bytes: int, arena_bytes: int, drip_work_bytes: int,
             store: StoreCapacity | None = None) -> None:
    """Before building: do the model's weights fit the flash and its arena, the DRIP work
    buffers and the stack the RAM, and can the store hold one of its samples? Raises
    ExportError naming what does not fit."""
    flash, flash_reserved = limits(board, True)
    ram, ram_reserved = limits(board, False)
    problems = []
    if store is not None and store.samples == 0:
        problems.append(store_problem(store))
    if flash is not None:
        room = flash.bytes - sum(p.bytes for p in flash_reserved)
        if weight_bytes > room:
            problems.append(f"the model's weights ({weight_bytes:,} bytes) exceed the "
                            f"{room:,} bytes of flash left beside the store and settings "
                            f"by {weight_bytes - room:,} bytes")
    if ram is not None:
        room = ram.bytes - sum(p.bytes for p in ram_reserved)
        need = arena_bytes + drip_work_bytes + board.stack_bytes
        if need > room:
            problems.append(f"the model arena ({arena_bytes:,} bytes) + DRIP work buffers "
                            f"({drip_work_bytes:,}) + stack ({board.stack_bytes:,}) need "
                            f"{need:,} bytes of RAM, {need - room:,} more than the "
                            f"{room:,} the board has")
    if problems:
        raise ExportError(f"the model does not fit on {board.name}: " + "; ".join(problems)
                          + " (a smaller model or input, or a board with more memory)")


# ---- reading the image ----

@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int
    writable: bool
    has_contents: bool  # not NOBITS (.bss)


def elf_sections(elf: Path) -> tuple[list[Section], dict[str, int]]:
    """The allocated sections of elf and the values of its absolute symbols."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    sections, absolute = [], {}
    with open(elf, "rb") as f:
        image = ELFFile(f)
        for s in image.iter_sections():
            flags = s["sh_flags"]
            if flags & SH_FLAGS.SHF_ALLOC and s["sh_size"]:
                sections.append(Section(s.name, s["sh_addr"], s["sh_size"],
                                        bool(flags & SH_FLAGS.SHF_WRITE),
                                        s["sh_type"] != "SHT_NOBITS"))
            if isinstance(s, SymbolTableSection) and s.name == ".symtab":
                for sym in s.iter_symbols():
                    if sym["st_shndx"] == "SHN_ABS" and sym.name:
                        absolute[sym.name] = sym["st_value"]
    return sections, absolute


_INPUT = re.compile(r"^\s+(\S+)?\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(\S.*)$")


def map_contributions(map_text: str) -> dict[str, dict[str, int]]:
    """{output section: {object file: bytes}} from a GNU ld map file."""
    out: dict[str, dict[str, int]] = {}
    current = None
    pending = None  # an input section name too long for its line: its numbers follow
    started = False
    for line in map_text.splitlines():
        if not started:
            started = line.startswith("Linker script and memory map")
            continue
        if not line.strip():
            continue
        if not line[0].isspace():
            section = line.split()[0]
            current = section if section.startswith(".") else None
            pending = None
            continue
        fields = line.split()
        if len(fields) == 1 and (fields[0].startswith(".") or fields[0] == "COMMON"):
            pending = fields[0]
            continue
        match = _INPUT.match(line)
        name = match.group(1) if match else None
        if match and pending and name is None:
            name = pending
        pending = None
        if (current is None or not match or name is None
                or not (name.startswith(".") or name == "COMMON")):
            continue
        obj = match.group(4).strip()
        out.setdefault(current, {})
        out[current][obj] = out[current].get(obj, 0) + int(match.group(3), 16)
    return out


def _category(obj: str) -> str | None:
    """What an object file of the project is, from its path under build/obj/."""
    slashed = obj.replace("\\", "/")
    path = slashed.split("build/obj/", 1)[1] if "build/obj/" in slashed else None
    if path is None:
        return None  # the C library, crt files, linker stubs
    if path.startswith("generated/"):
        return {"dt_model_data.o": "weights", "drips_kernel.o": "drip",
                "dt_model.o": "model"}.get(path.rsplit("/", 1)[-1], "kernels")
    if path.startswith("firmware/"):
        return "firmware"
    if path.startswith("board/"):
        return "board"
    return None


def _region_of(address: int, board: Board) -> MemoryRegion | None:
    for r in board.memory:
        if r.start <= address < r.start + r.bytes:
            return r
    return None


def _partition(totals: Mapping[str | None, int], total: int,
               named: list[tuple[str, tuple[str, ...], str]],
               rest: tuple[str, str]) -> list[Part]:
    parts = [Part(name, sum(totals.get(k, 0) for k in keys), source)
             for name, keys, source in named]
    parts.append(Part(rest[0], total - sum(p.bytes for p in parts), rest[1]))
    return parts


def report_from_build(board: Board, elf: Path, map_file: Path,
                      project_dir: Path | None = None) -> MemoryReport:
    """The memory report of a linked image and its map file."""
    elf, map_file = Path(elf), Path(map_file)
    sections, absolute = elf_sections(elf)
    contributions = map_contributions(map_file.read_text(errors="replace"))
    host = board.toolchain == "host"
    flash_region, flash_reserved = limits(board, True)
    ram_region, ram_reserved = limits(board, False)

    code: list[Section] = []  # flash-resident: code, constants
    ram: list[Section] = []
    stack_sections: list[Section] = []
    other: list[Part] = []
    for s in sections:
        if s.name in STACK_SECTIONS:
            stack_sections.append(s)
            continue
        region = None if host else _region_of(s.address, board)
        if host:
            (ram if s.writable else code).append(s)
        elif region is None:
            other.append(Part(s.name, s.size, f"at {s.address:#010x}, outside every "
                                              "board.json memory region"))
        elif region == flash_region:
            code.append(s)
        elif region == ram_region:
            ram.append(s)
        else:
            other.append(Part(s.name, s.size, f"in {region.name} at {s.address:#010x}"))

    def by_category(group: list[Section]) -> dict[str | None, int]:
        totals: dict[str | None, int] = {}
        for s in group:
            for obj, size in contributions.get(s.name, {}).items():
                key = _category(obj)
                totals[key] = totals.get(key, 0) + size
        return totals

    flash_parts = _partition(
        by_category(code), sum(s.size for s in code),
        [(WEIGHTS, ("weights",), "map: generated/dt_model_data.o"),
         (MODEL_CODE, ("model", "kernels"), "map: generated/dt_model.o and the kernels"),
         (DRIP_KERNEL, ("drip",), "map: generated/drips_kernel.o"),
         (FIRMWARE, ("firmware",), "map: firmware/ objects"),
         (BOARD_CODE, ("board",), "map: board/ objects")],
        (FLASH_REST, "ELF flash sections minus the parts above"))
    flash_parts.append(Part(DATA_INIT, sum(s.size for s in ram if s.has_contents),
                            "ELF: RAM sections with contents (.data)"))
    ram_parts = _partition(
        by_category(ram), sum(s.size for s in ram),
        [(ARENA, ("model",), "map: generated/dt_model.o"),
         (DRIP_WORK, ("drip",), "map: generated/drips_kernel.o"),
         (APP_RAM, ("firmware",), "map: firmware/ objects"),
         (BOARD_RAM, ("board",), "map: board/ objects")],
        (RAM_REST, "ELF .data + .bss minus the parts above"))
    if stack_sections:
        ram_parts.append(Part(STACK, sum(s.size for s in stack_sections),
                              "ELF: " + ", ".join(s.name for s in stack_sections)))
    elif not host:
        if STACK_SYMBOL in absolute:
            ram_parts.append(Part(STACK, absolute[STACK_SYMBOL], f"ELF symbol {STACK_SYMBOL}"))
        else:
            ram_parts.append(Part(STACK, board.stack_bytes, "board.json stack_bytes"))
    for p in (*flash_parts, *ram_parts):
        if p.bytes < 0:
            raise ExportError(f"memory report of {elf}: the map file gives {p.name} a "
                              f"negative size ({p.bytes}); it does not match the image")
    shown = elf.relative_to(project_dir).as_posix() if project_dir else str(elf)
    return MemoryReport(board=board.name, elf=shown,
                        flash=Budget("flash", tuple(flash_parts), flash_region, flash_reserved),
                        ram=Budget("RAM", tuple(ram_parts), ram_region, ram_reserved),
                        other=tuple(other))


def check_fits(report: MemoryReport) -> None:
    if not report.fits:
        raise ExportError(f"the firmware does not fit on {report.board}: "
                          + "; ".join(report.problems()))
