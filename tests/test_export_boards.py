"""`drip-tiny export` with the real firmware application and each real board, built.

Skipped until firmware/app and the board's folder exist in this checkout (they are written
on other branches and merged together); then every board must build warning-free with the
digits model and fit.
"""

import json
import shutil

import pytest

from drip_tiny.boards import board_names, load_board
from drip_tiny.cli import main
from drip_tiny.export import memory, uf2
from drip_tiny.resources import shipped_dir

HAVE_APP = (shipped_dir("firmware") / "app").is_dir()
pytestmark = pytest.mark.skipif(not HAVE_APP, reason="firmware/app is not in this checkout yet")


def _tools(board) -> bool:
    names = ["make", "cc"] if board.toolchain == "host" else ["make", "arm-none-eabi-gcc"]
    return all(shutil.which(n) for n in names)


@pytest.fixture(scope="module")
def fitted_run(digits_ptq_run, tmp_path_factory):
    from drip_tiny.fit_run import fit_run

    run = tmp_path_factory.mktemp("boards") / "digits"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, dpw=25, variant="minmax")
    return run


@pytest.mark.parametrize("name", ["nrf52840", "mps2-an386", "host"])
def test_real_firmware_builds_and_fits(name, fitted_run, tmp_path, capsys):
    if name not in board_names():
        pytest.skip(f"boards/{name} is not in this checkout yet")
    board = load_board(name)
    if not _tools(board):
        pytest.skip(f"the {board.toolchain} toolchain is not installed")
    out = tmp_path / name
    assert main(["export", str(fitted_run), "--board", name, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"Memory report for {name}" in printed and "fits" in printed
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["build"]["built"] is True
    for kind, rel in manifest["build"]["images"].items():
        assert (out / rel).is_file(), kind
    report = json.loads((out / "memory-report.json").read_text())
    assert report["fits"] is True
    for kind in ("flash", "ram"):
        assert sum(p["bytes"] for p in report[kind]["parts"]) == report[kind]["used"]
    parts = {p["name"]: p["bytes"] for p in report["ram"]["parts"]}
    assert parts[memory.ARENA] >= manifest["codegen"]["arena_bytes"]
    assert parts[memory.DRIP_WORK] == manifest["codegen"]["drip_work_bytes"]
    assert parts[memory.APP_RAM] > 0  # the application's state and frame buffers
    # dt_flash_sim.c is in the image exactly when the board simulates its flash
    uses_sim = "dt_flash_sim.c" in (out / "Makefile").read_text()
    assert uses_sim == manifest["flash_simulated"] == (name != "nrf52840")
    if board.toolchain != "host":
        flash = board.region(True)
        image = uf2.parse_hex((out / "build/firmware.hex").read_text())
        assert image and min(image) >= flash.start
        end = board.store.start if board.store and flash.start <= board.store.start < \
            flash.start + flash.bytes else flash.start + flash.bytes
        assert max(image) < end  # the image stays below the store
    if "uf2" in manifest["build"]["images"]:
        blocks, families = uf2.read_uf2((out / "build/firmware.uf2").read_bytes())
        assert families == {board.uf2_family} and blocks


def test_nrf52840_report_subtracts_store_and_settings(fitted_run, tmp_path):
    if "nrf52840" not in board_names():
        pytest.skip("boards/nrf52840 is not in this checkout yet")
    board = load_board("nrf52840")
    if not _tools(board):
        pytest.skip("arm-none-eabi-gcc is not installed")
    from drip_tiny.export import export_project

    result = export_project(fitted_run, board, tmp_path / "nrf")
    flash = result.report.flash
    assert flash.capacity == board.region(True).bytes - board.store.bytes - board.settings.bytes
    assert {p.name for p in flash.reserved} == {"store", "settings"}
    assert result.report.ram.part(memory.STACK) == board.stack_bytes
