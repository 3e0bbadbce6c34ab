"""`drip-tiny flash`: write an exported image to a board through a debug probe.

Tools, from board.json's flash_method: pyOCD (the default; its Python API, installed with
`pip install drip-tiny[flash]`) and, when asked and installed, Nordic's nrfjprog. Boards
without a flash method (host: runs on this machine; mps2-an386: runs under QEMU) are
refused with the command that runs them instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drip_tiny import child_processes
from drip_tiny.boards import Board, FlashMethod
from drip_tiny.errors import FlashError
from drip_tiny.export import makefile

PYOCD = "pyocd"
NRFJPROG = "nrfjprog"
TOOLS = (PYOCD, NRFJPROG)
_NRF_FAMILIES = (("nrf51", "NRF51"), ("nrf52", "NRF52"), ("nrf53", "NRF53"), ("nrf91", "NRF91"))


@dataclass(frozen=True)
class FlashResult:
    board: str
    tool: str
    image: Path
    probe: str | None  # the probe's unique id, when known


def resolve_image(board: Board, image: str | Path) -> Path:
    """The HEX file to write: `image` is a .hex file, or an exported project folder
    (its build/firmware.hex, after checking export.json names the same board)."""
    path = Path(image)
    if path.is_dir():
        manifest = path / "export.json"
        if manifest.is_file():
            exported = json.loads(manifest.read_text()).get("board")
            if exported and exported != board.name:
                raise FlashError(f"{path} was exported for {exported}, not {board.name}; "
                                 f"export it with --board {board.name}")
        hex_file = path / makefile.HEX
        if not hex_file.is_file():
            raise FlashError(f"{path} has no {makefile.HEX}: build the project first "
                             f"(`make -C {path}`, or `drip-tiny export RUN --board "
                             f"{board.name} --out {path}` with the toolchain installed)")
        return hex_file
    if not path.is_file():
        raise FlashError(f"image {path} does not exist; pass an exported project folder or "
                         "its build/firmware.hex")
    if path.suffix.lower() != ".hex":
        raise FlashError(f"{path} is not an Intel HEX file (.hex); flash writes the HEX "
                         "that `drip-tiny export` builds")
    return path


def require_flash_method(board: Board) -> FlashMethod:
    if board.flash_method is None:
        how = ("it runs on this machine: `drip-tiny emulate --board host`"
               if board.toolchain == "host" else
               f"it runs under an emulator: `drip-tiny emulate --board {board.name}`"
               if board.qemu is not None else "board.json has no flash_method")
        raise FlashError(f"board {board.name} cannot be flashed: {how}")
    return board.flash_method


def choose_tool(method: FlashMethod, tool: str | None) -> str:
    offered = (method.tool, *method.alternatives)
    if tool is None:
        return method.tool
    if tool not in offered:
        raise FlashError(f"--tool {tool} is not a flash method of this board; its board.json "
                         f"offers {', '.join(offered)}")
    return tool


# ---- pyOCD ----

# pyOCD has no type information: its classes and objects are Any here.
def _import_pyocd() -> tuple[Any, Any]:
    try:
        from pyocd.core.helpers import ConnectHelper
        from pyocd.flash.file_programmer import FileProgrammer
    except ImportError:
        raise FlashError("pyOCD is not installed; install it with "
                         "`pip install drip-tiny[flash]` (or `pip install pyocd`)") from None
    return ConnectHelper, FileProgrammer


def flash_pyocd(image: Path, target: str, probe: str | None) -> str:
    """Program image with pyOCD's Python API, then reset the target; returns the probe id.
    Several probes without --probe is an error (pyOCD would ask on the console)."""
    ConnectHelper, FileProgrammer = _import_pyocd()
    try:
        probes = ConnectHelper.get_all_connected_probes(blocking=False, unique_id=probe)
    except Exception as e:  # pyOCD raises its own types (USB access, ...): keep the message
        raise FlashError(f"pyOCD could not list the debug probes: {e}") from e
    if not probes:
        which = f" with unique id {probe!r}" if probe else ""
        raise FlashError(f"no debug probe found{which}: connect the board's USB debug port "
                         "(its J-Link OB or CMSIS-DAP interface) and check `pyocd list`")
    if len(probes) > 1:
        ids = ", ".join(p.unique_id for p in probes)
        raise FlashError(f"{len(probes)} debug probes are connected ({ids}); choose one with "
                         "--probe UID")
    uid: str = probes[0].unique_id
    try:
        session = ConnectHelper.session_with_chosen_probe(
            blocking=False, return_first=True, unique_id=uid, target_override=target)
        if session is None:
            raise FlashError(f"debug probe {uid} went away before pyOCD could open it")
        with session:
            FileProgrammer(session).program(str(image), file_format="hex")
            session.target.reset()
    except FlashError:
        raise
    except Exception as e:
        raise FlashError(f"pyOCD failed to program {image} through probe {uid}: {e}") from e
    return uid


# ---- nrfjprog ----

def nrfjprog_commands(image: Path, target: str, probe: str | None,
                      executable: str = NRFJPROG) -> list[list[str]]:
    """The nrfjprog command lines: program (erasing the sectors it writes) and verify,
    then reset."""
    family = next((f for prefix, f in _NRF_FAMILIES if target.lower().startswith(prefix)), None)
    if family is None:
        raise FlashError(f"nrfjprog programs Nordic nRF chips; target {target!r} is not one")
    serial = ["--snr", probe] if probe else []
    return [[executable, "-f", family, *serial, "--program", str(image), "--sectorerase",
             "--verify"],
            [executable, "-f", family, *serial, "--reset"]]


def flash_nrfjprog(image: Path, target: str, probe: str | None) -> None:
    executable = shutil.which(NRFJPROG)
    if executable is None:
        raise FlashError("nrfjprog is not on PATH; install Nordic's nRF Command Line Tools, "
                         "or use the default tool (pyOCD: `pip install drip-tiny[flash]`)")
    for command in nrfjprog_commands(image, target, probe, executable):
        try:
            result = child_processes.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise FlashError(f"running {command[0]} failed: {e}") from e
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()[-2000:]
            hint = (" (no debug probe found: connect the board's USB debug port)"
                    if "no debuggers" in output.lower() or result.returncode == 41 else "")
            raise FlashError(f"{' '.join(command[:3])} ... failed (exit "
                             f"{result.returncode}){hint}:\n{output}")


def flash_image(board: Board, image: str | Path, *, probe: str | None = None,
                tool: str | None = None) -> FlashResult:
    """Write `image` (a .hex, or an exported project folder) to the board."""
    method = require_flash_method(board)
    chosen = choose_tool(method, tool)
    hex_file = resolve_image(board, image)
    used_probe: str | None
    if chosen == PYOCD:
        used_probe = flash_pyocd(hex_file, method.target, probe)
    elif chosen == NRFJPROG:
        flash_nrfjprog(hex_file, method.target, probe)
        used_probe = probe
    else:
        raise FlashError(f"board {board.name}: flash tool {chosen!r} is not supported "
                         f"(supported: {', '.join(TOOLS)})")
    return FlashResult(board=board.name, tool=chosen, image=hex_file, probe=used_probe)
