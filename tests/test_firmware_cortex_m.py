"""firmware/app and firmware/protocol (with a run's generated model sources) compile
warning-free for the Cortex-M4F, as every Arm board builds them, and pass stricter
warnings on the host together with the host board."""

import shutil
import subprocess

import pytest
from firmware_build import (
    APP_INCLUDES,
    FIRMWARE,
    HOST_BOARD,
    cc,
    fitted_copy,
    model_sources,
)

ARM_FLAGS = ["-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
             "-Os", "-Wall", "-Wextra", "-Werror", "-c"]
STRICT_HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow",
                     "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wcast-qual",
                     "-Wpointer-arith", "-DDT_BOARD_MAIN_ARGS", "-c"]


def app_and_protocol():
    return [*sorted((FIRMWARE / "app").glob("*.c")),
            *sorted((FIRMWARE / "protocol").glob("*.c"))]


def compile_each(command, sources, includes, out_dir):
    for source in sources:
        obj = out_dir / (source.stem + ".o")
        result = subprocess.run([*command, *(f"-I{p}" for p in includes), str(source),
                                 "-o", str(obj)], capture_output=True, text=True)
        assert result.returncode == 0, f"{source.name}:\n{result.stderr}"
        assert obj.stat().st_size > 0


def test_app_and_protocol_compile_for_cortex_m4(digits_ptq_run, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    gen = model_sources(fitted_copy(digits_ptq_run, tmp_path / "run"), tmp_path / "gen")
    sources = [*app_and_protocol(), *sorted(gen.glob("*.c"))]
    assert {p.name for p in sources} >= {"dt_app.c", "dt_app_commands.c", "dt_settings.c",
                                         "dt_main.c", "dt_cobs.c", "dt_packet.c", "dt_frame_rx.c"}
    for policy in ("DT_STORE_FULL_STOP", "DT_STORE_FULL_OVERWRITE_OLDEST"):
        compile_each(["arm-none-eabi-gcc", *ARM_FLAGS, f"-DDT_APP_STORE_POLICY={policy}"],
                     sources, [*APP_INCLUDES, gen], tmp_path)


def test_app_protocol_and_host_board_pass_stricter_host_warnings(digits_ptq_run, tmp_path):
    """Beyond -Wall -Wextra: shadowing, prototypes, casts dropping const (raw variant)."""
    run = fitted_copy(digits_ptq_run, tmp_path / "run", variant="raw")
    gen = model_sources(run, tmp_path / "gen")
    compile_each([cc(), *STRICT_HOST_FLAGS], [*app_and_protocol(), HOST_BOARD / "dt_board_host.c"],
                 [*APP_INCLUDES, HOST_BOARD, gen], tmp_path)
