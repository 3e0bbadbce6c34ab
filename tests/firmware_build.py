"""A minimal build of the host firmware for the tests: the run's generated model sources
(write_model_sources) plus every firmware source, compiled by the machine's cc in one
command. `drip-tiny export --board host` is the official build; this one only needs to
be small and strict (-Wall -Wextra -Werror, optionally the sanitizers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
HOST_BOARD = ROOT / "boards" / "host"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer"]
APP_INCLUDES = [FIRMWARE / d for d in ("app", "protocol", "store", "board")]


def cc() -> str:
    return os.environ.get("CC") or shutil.which("cc") or "gcc"


def app_sources() -> list[Path]:
    """What every board compiles besides its drivers and the generated files."""
    return sorted([*(FIRMWARE / "app").glob("*.c"), *(FIRMWARE / "protocol").glob("*.c"),
                   FIRMWARE / "store" / "dt_store.c"])


def exported(run, board: str, tmp_path_factory) -> Path:
    """`drip-tiny export RUN --board BOARD` into a fresh temporary folder; a QEMU board is
    skipped without the Arm toolchain and QEMU."""
    from drip_tiny.export import export_project

    if board != "host":
        from boards_common import require_tools

        require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    out = tmp_path_factory.mktemp("export") / board
    export_project(run, board, out)
    return out


_FITTED: dict[tuple[str, str], Path] = {}  # (run, variant) -> a private fitted copy


def fitted_copy(run, dest, variant: str = "minmax") -> Path:
    """A copy of a trained run with thresholds fitted (DPW 25%), as `drip-tiny fit` does.
    Fitting is deterministic, so it runs once per run and variant in a test session;
    every caller still gets its own copy to modify."""
    import atexit
    import tempfile

    from drip_tiny.drip.fit_run import fit_run

    key = (str(Path(run).resolve()), variant)
    if key not in _FITTED:
        holder = tempfile.mkdtemp(prefix="drip-tiny-fitted-")
        atexit.register(shutil.rmtree, holder, True)
        fitted = Path(holder) / "run"
        shutil.copytree(run, fitted)
        fit_run(fitted, dpw=25, variant=variant)
        _FITTED[key] = fitted
    dest = Path(dest)
    shutil.copytree(_FITTED[key], dest)
    return dest


def model_sources(run, dest) -> Path:
    """The run's generated C (write_model_sources) in dest; returns dest."""
    from drip_tiny.export.app_model import write_model_sources

    write_model_sources(run, dest)
    return Path(dest)


def build_host_firmware(run, out_dir, defines=(), sanitize=False, optimize="-O1") -> Path:
    """Generate the run's model sources into out_dir/generated and link out_dir/firmware."""
    out = Path(out_dir)
    gen = model_sources(run, out / "generated")
    board = json.loads((HOST_BOARD / "board.json").read_text())
    sources = [*app_sources(), FIRMWARE / "store" / "dt_flash_sim.c",
               *(HOST_BOARD / d for d in board["drivers"]), *sorted(gen.glob("*.c"))]
    includes = [*APP_INCLUDES, HOST_BOARD, gen]
    exe = out / "firmware"
    command = [cc(), "-std=c99", optimize, "-g", *WARNINGS, *(SANITIZE if sanitize else []),
               *(f"-D{d}" for d in [*board["defines"], *defines]),
               *(f"-I{p}" for p in includes), *map(str, sources), "-o", str(exe), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host firmware build failed:\n{result.stderr[-4000:]}")
    return exe
