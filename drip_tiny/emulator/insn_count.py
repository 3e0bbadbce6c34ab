"""Exact instruction counts of C code on an emulated Cortex-M4F (QEMU mps2-an386).

The pieces, each usable alone:
- `build_plugin()` compiles boards/<board>/qemu-plugin/insn_count.c with the host C compiler
  into a QEMU TCG plugin (cached by the source's and the compiler command's sha256).
- `build_elf(sources, out)` links C sources with the board's startup and linker script into a
  bare-metal image (arm-none-eabi-gcc, newlib-nano, -O2 by default, unused sections dropped).
- `symbol_addresses(elf, names)` reads function addresses with arm-none-eabi-nm.
- `elf_sizes(elf)` gives text, data and bss bytes (arm-none-eabi-size).
- `run_qemu(elf)` runs an image under a time limit and returns its semihosting exit status
  and console text.
- `count_instructions(elf)` runs it with the plugin between the markers dt_bench_begin and
  dt_bench_end (boards/<board>/bench/dt_bench.h) and returns one count per region.

The counts are executed instructions (a conditional instruction that fails its condition
still counts, as QEMU executes it), not cycles: QEMU models no pipeline, wait states or
branch costs. Never imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drip_tiny import child_processes
from drip_tiny.boards import Board, load_board, require_qemu
from drip_tiny.errors import EmulatorError, EmulatorTimeout
from drip_tiny.resources import cache_dir as user_cache_dir

ARM_GCC = "arm-none-eabi-gcc"
ARM_NM = "arm-none-eabi-nm"
ARM_SIZE = "arm-none-eabi-size"
ARM_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
WARNINGS = ("-Wall", "-Wextra", "-Werror")
C_FLAGS = ("-std=c99", "-ffunction-sections", "-fdata-sections", *WARNINGS)
LINK_FLAGS = ("--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections")
PLUGIN_FLAGS = ("-std=c11", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", *WARNINGS)
BEGIN_MARKER = "dt_bench_begin"
END_MARKER = "dt_bench_end"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ElfSizes:
    text: int  # code and constants (flash), as arm-none-eabi-size counts them
    data: int  # initialized variables (flash and RAM)
    bss: int  # zeroed variables (RAM)


@dataclass(frozen=True)
class QemuRun:
    exit_status: int  # the image's semihosting exit status (QEMU's exit code)
    console: str  # what the image wrote through semihosting (QEMU's stderr)


@dataclass(frozen=True)
class InsnCounts:
    regions: tuple[int, ...]  # instructions per begin/end region, in the order they ended
    total: int  # every instruction the image executed, reset to exit
    exit_status: int
    console: str


def _apt_hint(packages: str) -> str:
    return f"install it (Debian: apt-get install --no-install-recommends {packages})"


def _tool(name: str, packages: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EmulatorError(f"{name} is not on PATH; {_apt_hint(packages)}")
    return path


def _qemu(board: Board) -> str:
    qemu = require_qemu(board)
    return _tool(qemu.binary, qemu.debian_package)


def _cache_root() -> Path:
    return user_cache_dir("emulate")


def _run_tool(command: list[str], what: str) -> str:
    result = child_processes.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-4000:]
        raise EmulatorError(f"{what} failed ({Path(command[0]).name} exit "
                            f"{result.returncode}):\n{output}")
    return result.stdout


# ---- the plugin ----

def build_plugin(board: Board | None = None, *, cc: str | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Compile the board's instruction-counting plugin for this machine; return the .so path.

    Cached under cache_dir (default: $DRIP_TINY_CACHE/emulate or ~/.cache/drip-tiny/emulate)
    by the sha256 of the source and of the compiler command.
    """
    board = board or load_board()
    cc = cc or os.environ.get("CC") or "cc"
    cc_path = _tool(cc, "gcc")
    source = require_qemu(board).plugin_source
    digest = hashlib.sha256(source.read_bytes()
                            + " ".join([cc_path, *PLUGIN_FLAGS]).encode()).hexdigest()
    root = Path(cache_dir) if cache_dir else _cache_root()
    library = root / f"insn_count-{digest[:16]}.so"
    if library.exists():
        return library
    root.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=root, prefix="insn_count-", suffix=".so.tmp")
    os.close(fd)
    try:
        _run_tool([cc_path, *PLUGIN_FLAGS, str(source), "-o", staging],
                  "compiling the QEMU plugin")
        os.replace(staging, library)  # atomic: a parallel build simply wins or loses
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return library


# ---- the image ----

def build_elf(sources: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str], *,
              include_dirs: Iterable[str | os.PathLike[str]] = (), board: Board | None = None,
              optimization: str = "-O2", defines: Iterable[str] = (),
              extra_flags: Sequence[str] = (), with_bench_markers: bool = True) -> Path:
    """Compile and link `sources` (one of them defines main) for the board; return out.

    The board's startup and semihosting code, its include folders and, with
    with_bench_markers, boards/<board>/bench/dt_bench.c and its header are added.
    Warnings are errors. defines are NAME or NAME=VALUE.
    """
    board = board or load_board()
    gcc = _tool(ARM_GCC, ARM_PACKAGES)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    all_sources = [Path(s) for s in sources] + list(board.startup_sources)
    includes = [Path(d) for d in include_dirs] + list(board.include_dirs)
    if with_bench_markers:
        all_sources.append(board.bench_dir / "dt_bench.c")
        includes.append(board.bench_dir)
    command = [gcc, *board.cflags, optimization, *C_FLAGS, *extra_flags,
               *(f"-D{d}" for d in defines), *(f"-I{d}" for d in includes),
               *map(str, all_sources), *LINK_FLAGS, f"-T{board.linker_script}",
               "-o", str(out), "-lm"]
    _run_tool(command, f"building {out.name} for {board.name}")
    return out


def symbol_addresses(elf: str | os.PathLike[str], names: Iterable[str]) -> dict[str, int]:
    """Addresses of the named symbols in elf (Thumb bit cleared)."""
    nm = _tool(ARM_NM, ARM_PACKAGES)
    wanted = set(names)
    found: dict[str, int] = {}
    for line in _run_tool([nm, str(elf)], f"reading the symbols of {elf}").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] in wanted:
            found[fields[2]] = int(fields[0], 16) & ~1
    missing = sorted(wanted - found.keys())
    if missing:
        raise EmulatorError(f"{elf} has no symbol {', '.join(missing)}: link the markers in "
                            "(build_elf(..., with_bench_markers=True)) and call them")
    return found


def elf_entry(elf: str | os.PathLike[str]) -> int:
    """The entry point of elf (its reset handler; Thumb bit cleared)."""
    from elftools.elf.elffile import ELFFile

    try:
        with open(elf, "rb") as f:
            entry: int = ELFFile(f).header["e_entry"]  # pyelftools is untyped
            return entry & ~1
    except (OSError, Exception) as e:  # pyelftools raises its own ELFError
        raise EmulatorError(f"cannot read the entry point of {elf}: {e}") from e


def symbol_ranges(elf: str | os.PathLike[str], names: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(address, bytes) of the named functions in elf (Thumb bit cleared), for the
    plugin's skip= arguments."""
    nm = _tool(ARM_NM, ARM_PACKAGES)
    wanted = set(names)
    found: dict[str, tuple[int, int]] = {}
    for line in _run_tool([nm, "-S", str(elf)], f"reading the symbols of {elf}").splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] in wanted:
            found[fields[3]] = (int(fields[0], 16) & ~1, int(fields[1], 16))
    missing = sorted(wanted - found.keys())
    if missing:
        raise EmulatorError(f"{elf} has no function {', '.join(missing)} with a size; the "
                            "board.json qemu 'uncounted' list names functions its drivers "
                            "must define")
    return found


def elf_sizes(elf: str | os.PathLike[str]) -> ElfSizes:
    size = _tool(ARM_SIZE, ARM_PACKAGES)
    lines = _run_tool([size, str(elf)], f"measuring {elf}").splitlines()
    text, data, bss = (int(v) for v in lines[1].split()[:3])
    return ElfSizes(text=text, data=data, bss=bss)


# ---- running ----

def qemu_command(elf: str | os.PathLike[str], board: Board | None = None,
                 plugin: str | None = None) -> list[str]:
    """The QEMU command line for elf; plugin is '<path.so>,arg=value,...'."""
    board = board or load_board()
    qemu = require_qemu(board)
    command = [_qemu(board), "-M", qemu.machine, *qemu.args, "-kernel", str(elf)]
    if plugin:
        command += ["-plugin", plugin]
    return command


def _tail(text: str, limit: int = 3000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def run_qemu(elf: str | os.PathLike[str], *, board: Board | None = None,
             timeout: float = DEFAULT_TIMEOUT, expect_status: int | None = 0,
             plugin: str | None = None) -> QemuRun:
    """Run elf on the emulated board until it exits through semihosting.

    Raises EmulatorTimeout after `timeout` seconds (QEMU is killed), and EmulatorError if
    the exit status is not expect_status (None accepts any status).
    """
    command = qemu_command(elf, board, plugin)
    try:
        result = child_processes.run(command, capture_output=True, text=True,
                                      errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        console = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else ""
        raise EmulatorTimeout(
            f"{Path(elf).name} did not exit within {timeout:g} s on the emulated "
            f"{(board or load_board()).name}; QEMU was stopped. The program may hang or "
            "may not end through semihosting (return from main, or dt_semihost_exit)"
            + (f"; its console:\n{_tail(console)}" if console.strip() else "")) from None
    # QEMU stopped by a signal (SIGTERM) exits 0: never take status 0 alone as success; the
    # callers check that the image reached its end (all regions, all outputs).
    if result.returncode < 0:
        raise EmulatorError(f"QEMU was killed by signal {-result.returncode} running "
                            f"{Path(elf).name}")
    if expect_status is not None and result.returncode != expect_status:
        raise EmulatorError(
            f"{Path(elf).name} exited with status {result.returncode} on the emulated board, "
            f"expected {expect_status} (128 + n: fault in exception n, 131 = HardFault; "
            f"1 may be QEMU's own error). Console and QEMU messages:\n"
            f"{_tail(result.stderr) or '(none)'}")
    return QemuRun(exit_status=result.returncode, console=result.stderr)


def _parse_counts(text: str) -> tuple[tuple[int, ...], int | None, list[str]]:
    regions: list[int] = []
    total = None
    errors = []
    boots = 0
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "region" and len(fields) == 3:
            if int(fields[1]) != len(regions):
                errors.append(f"region numbers out of order: {line!r}")
            regions.append(int(fields[2]))
        elif fields[0] == "total" and len(fields) == 2:
            total = int(fields[1])
        elif fields == ["boot"]:
            boots += 1
        elif fields[0] == "error":
            errors.append(line[len("error "):])
        else:
            errors.append(f"unexpected line {line!r}")
    if boots > 1:
        errors.append(f"the image restarted {boots - 1} time(s) while counting")
    return tuple(regions), total, errors


def count_instructions(elf: str | os.PathLike[str], *, board: Board | None = None,
                       begin: str = BEGIN_MARKER, end: str = END_MARKER,
                       regions: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                       expect_status: int | None = 0,
                       plugin_path: str | os.PathLike[str] | None = None,
                       skip: Iterable[str] = ()) -> InsnCounts:
    """Run elf with the counting plugin; return the instructions of every begin..end region.

    A region runs from entry to `begin` (inclusive) to entry to `end` (exclusive), so it
    includes a few marker instructions: measure an empty region and subtract it. With
    `regions`, exactly that many regions must complete. `skip` names functions whose
    instructions no region counts (interrupt handlers; they must call nothing counted).
    A restart of the image while counting is an error.
    """
    board = board or load_board()
    addresses = symbol_addresses(elf, [begin, end])
    plugin_so = Path(plugin_path) if plugin_path else build_plugin(board)
    with tempfile.TemporaryDirectory(prefix="drip-tiny-insn-") as tmp:
        out = Path(tmp) / "counts.txt"
        spec = (f"{plugin_so},begin={addresses[begin]:#x},end={addresses[end]:#x},"
                f"out={out},boot={elf_entry(elf):#x}")
        for start, size in symbol_ranges(elf, skip).values():
            spec += f",skip={start:#x}+{size}"
        run = run_qemu(elf, board=board, timeout=timeout, expect_status=expect_status,
                       plugin=spec)
        text = out.read_text() if out.exists() else ""
    counted, total, errors = _parse_counts(text)
    if errors:
        raise EmulatorError(f"instruction counting in {Path(elf).name} went wrong: "
                            + "; ".join(errors))
    if total is None:
        raise EmulatorError(f"the counting plugin wrote no total for {Path(elf).name}: did "
                            f"QEMU load it? QEMU said:\n{_tail(run.console) or '(nothing)'}")
    if regions is not None and len(counted) != regions:
        raise EmulatorError(f"{Path(elf).name} completed {len(counted)} counted regions, "
                            f"expected {regions}: did it stop early?")
    return InsnCounts(regions=counted, total=total, exit_status=run.exit_status,
                      console=run.console)
