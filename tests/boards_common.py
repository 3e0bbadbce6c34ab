"""Helpers shared by tests/test_boards_*.py: tool checks and the self-test image build."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SELFTEST = ROOT / "tests" / "boards" / "board_selftest.c"
FIRMWARE_INCLUDES = [ROOT / "firmware" / "board", ROOT / "firmware" / "store"]
CORTEX_M_BOARDS = ("mps2-an386", "nrf52840")
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]


def require_tools(*tools: str) -> None:
    """Skip without the tools (in CI that skip fails: tests/conftest.py)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def selftest_sources(board) -> list[Path]:
    """The self-test with the board's drivers and the store (startup comes from build_elf)."""
    sources = [SELFTEST, *board.driver_sources, ROOT / "firmware" / "store" / "dt_store.c"]
    if "DT_FLASH_SIM_NO_FILES" in board.defines:
        sources.append(ROOT / "firmware" / "store" / "dt_flash_sim.c")
    return sources


def symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    table = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3:
            table[fields[2]] = int(fields[0], 16)
    return table


def load_segments(elf: Path) -> list[tuple[int, int, int]]:
    """(virtual address, file size, memory size) of every PT_LOAD segment."""
    out = subprocess.run(["arm-none-eabi-readelf", "-lW", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    segments = []
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            segments.append((int(fields[2], 16), int(fields[4], 16), int(fields[5], 16)))
    return segments
