"""Persisted thresholds (firmware/app/dt_settings.c) under power cuts, through a C driver
on the NOR flash simulator: a cut at every flash operation of every write (clean, and
leaving a half-programmed word or a half-erased page) boots with the old or the new
thresholds, the new ones whenever the write was acknowledged."""

import subprocess

import pytest
from firmware_build import (
    APP_INCLUDES,
    FIRMWARE,
    SANITIZE,
    WARNINGS,
    cc,
    fitted_copy,
    model_sources,
)

DRIVER = FIRMWARE.parent / "tests" / "firmware" / "settings_driver.c"


@pytest.fixture(scope="module")
def driver(digits_ptq_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("settings")
    gen = model_sources(fitted_copy(digits_ptq_run, root / "run"), root / "generated")
    exe = root / "settings_driver"
    sources = [DRIVER, FIRMWARE / "app" / "dt_settings.c", FIRMWARE / "store" / "dt_store.c",
               FIRMWARE / "store" / "dt_flash_sim.c"]
    command = [cc(), "-std=c99", "-O1", "-g", *WARNINGS, *SANITIZE,
               *(f"-I{p}" for p in [*APP_INCLUDES, gen]), *map(str, sources),
               "-o", str(exe), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return exe


@pytest.mark.parametrize("page_bytes,pages", [(256, 2), (128, 3), (4096, 2)])
def test_power_cut_at_every_flash_operation(driver, page_bytes, pages):
    result = subprocess.run([str(driver), str(page_bytes), str(pages)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    cases = int(result.stdout.split()[1])
    # Per write: one erase and one word per record word (10 classes: 24 + 92 bytes).
    assert cases > 7 * 3 * 20


def test_a_record_too_big_for_the_page_is_refused(driver):
    # 10 classes need 24 + 92 = 116 bytes: a 64-byte page cannot hold them.
    result = subprocess.run([str(driver), "64", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "FAIL write" in result.stdout
