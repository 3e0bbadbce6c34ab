"""firmware/app and firmware/protocol (with a run's generated model sources) compile
warning-free for the Cortex-M4F, as every Arm board builds them."""

import os
import shutil
import subprocess

import pytest

from firmware_build import APP_INCLUDES, FIRMWARE

ARM_FLAGS = ["-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
             "-Os", "-Wall", "-Wextra", "-Werror", "-c"]


def test_app_and_protocol_compile_for_cortex_m4(digits_ptq_run, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        if os.environ.get("CI"):
            pytest.fail("arm-none-eabi-gcc is missing in CI (scripts/debian-packages.txt)")
        pytest.skip("arm-none-eabi-gcc not installed")
    from drip_tiny.export.app_model import write_model_sources
    from drip_tiny.fit_run import fit_run

    run = tmp_path / "run"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, dpw=25, variant="minmax")
    gen = tmp_path / "generated"
    write_model_sources(run, gen)
    sources = [*sorted((FIRMWARE / "app").glob("*.c")), *sorted((FIRMWARE / "protocol").glob("*.c")),
               *sorted(gen.glob("*.c"))]
    assert {p.name for p in sources} >= {"dt_app.c", "dt_app_commands.c", "dt_settings.c",
                                         "dt_main.c", "dt_cobs.c", "dt_packet.c", "dt_frame_rx.c"}
    for policy in ("DT_STORE_FULL_STOP", "DT_STORE_FULL_OVERWRITE_OLDEST"):
        for source in sources:
            obj = tmp_path / (source.stem + ".o")
            result = subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, f"-DDT_APP_STORE_POLICY={policy}",
                                     *(f"-I{p}" for p in [*APP_INCLUDES, gen]), str(source),
                                     "-o", str(obj)], capture_output=True, text=True)
            assert result.returncode == 0, f"{source.name}:\n{result.stderr}"
            assert obj.stat().st_size > 0


def test_app_protocol_and_host_board_pass_stricter_host_warnings(digits_ptq_run, tmp_path):
    """Beyond -Wall -Wextra: shadowing, prototypes, casts dropping const."""
    from drip_tiny.export.app_model import write_model_sources
    from drip_tiny.fit_run import fit_run

    from firmware_build import HOST_BOARD, cc

    run = tmp_path / "run"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, dpw=25, variant="raw")
    gen = tmp_path / "generated"
    write_model_sources(run, gen)
    strict = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
              "-Wmissing-prototypes", "-Wcast-qual", "-Wpointer-arith", "-DDT_BOARD_MAIN_ARGS", "-c"]
    sources = [*sorted((FIRMWARE / "app").glob("*.c")), *sorted((FIRMWARE / "protocol").glob("*.c")),
               HOST_BOARD / "dt_board_host.c"]
    for source in sources:
        result = subprocess.run([cc(), *strict, *(f"-I{p}" for p in [*APP_INCLUDES, HOST_BOARD, gen]),
                                 str(source), "-o", str(tmp_path / (source.stem + ".o"))],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{source.name}:\n{result.stderr}"
