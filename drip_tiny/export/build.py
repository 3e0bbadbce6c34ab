"""Building an exported project: `make -C DIR`, with clear errors.

- The tools a board needs (make and its compiler) are looked up first; when one is
  missing, `missing_tools` says which and the Debian packages to install, and export
  still writes the project (it can be built later with the same command).
- A failed build raises ExportError with the compiler's last lines; a link that fails
  because a memory region overflowed becomes "does not fit" with the region and bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from drip_tiny import child_processes
from drip_tiny.boards import Board
from drip_tiny.errors import ExportError

ARM_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
TAIL_LINES = 25
_OVERFLOW = re.compile(r"region [`']?(\S+?)'? overflowed by (\d+) bytes")
_NOT_FIT = re.compile(r"will not fit in region [`']?(\S+?)'?$", re.MULTILINE)


@dataclass(frozen=True)
class Tool:
    command: str
    debian_package: str


def required_tools(board: Board) -> tuple[Tool, ...]:
    if board.toolchain == "host":
        return (Tool("make", "make"), Tool("cc", "gcc"))
    return (Tool("make", "make"), Tool("arm-none-eabi-gcc", ARM_PACKAGES),
            Tool("arm-none-eabi-objcopy", "binutils-arm-none-eabi"),
            Tool("arm-none-eabi-size", "binutils-arm-none-eabi"))


def missing_tools(board: Board) -> str | None:
    """None when the board's tools are all on PATH, else a notice naming the missing ones
    and the Debian packages that provide them."""
    missing = [t for t in required_tools(board) if shutil.which(t.command) is None]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(t.debian_package for t in missing))
    return (f"{', '.join(t.command for t in missing)} not found, so the project was not "
            f"built; install them (Debian: apt-get install --no-install-recommends "
            f"{packages}) and run `make -C <project>`")


def tool_versions(board: Board) -> dict[str, str]:
    """The first line of `--version` of each tool the board needs, when present."""
    versions = {}
    for tool in required_tools(board):
        path = shutil.which(tool.command)
        if path is None or tool.command.endswith(("objcopy", "size")):
            continue
        try:
            out = child_processes.run([path, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        versions[tool.command] = out.splitlines()[0].strip() if out else ""
    return versions


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _excerpt(text: str) -> str:
    """The first error lines (the cause; later ones often follow from it), then the end."""
    all_lines = text.strip().splitlines()
    errors = [line for line in all_lines if "error" in line.lower()][:8]
    tail = all_lines[-(TAIL_LINES - len(errors)):]
    head = [line for line in errors if line not in tail]
    return "\n".join(head + (["..."] if head else []) + tail)


def run_make(project: Path, board: Board, jobs: int = 2, timeout: float = 600.0) -> str:
    """Run make in project; return its output. Raises ExportError on failure."""
    command = ["make", "-C", str(project), f"-j{max(1, jobs)}", "--no-print-directory"]
    try:
        result = child_processes.run(command, capture_output=True, text=True, errors="replace",
                                      timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ExportError(f"building the {board.name} firmware took more than {timeout:g} s; "
                          "make was stopped") from None
    if result.returncode == 0:
        stdout: str = result.stdout  # text=True
        return stdout
    output = result.stdout + "\n" + result.stderr
    overflows = [(m.group(1), int(m.group(2))) for m in _OVERFLOW.finditer(output)]
    if overflows:
        what = "; ".join(f"region {name} overflowed by {n:,} bytes" for name, n in overflows)
        raise ExportError(f"the firmware does not fit on {board.name}: {what} (the linker "
                          f"says:)\n{_tail(output, 8)}")
    not_fit = _NOT_FIT.findall(output)
    if not_fit:
        raise ExportError(f"the firmware does not fit on {board.name}: sections do not fit "
                          f"in region {', '.join(sorted(set(not_fit)))}:\n{_tail(output, 8)}")
    raise ExportError(f"building the {board.name} firmware failed (make exit "
                      f"{result.returncode}); the compiler said:\n{_excerpt(output)}")
