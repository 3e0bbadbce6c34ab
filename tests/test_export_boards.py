"""`drip-tiny export` with the real firmware application and each real board, built:
every board must build warning-free with the digits model and fit, and the nRF52840 image
must also fit with the built-in Fashion-MNIST model (the issue's promise)."""

import json
import shutil

import pytest
from boards_common import require_tools

from drip_tiny.boards import load_board
from drip_tiny.cli import main
from drip_tiny.export import memory, uf2


def _require_toolchain(board) -> None:
    require_tools(*(["make", "cc"] if board.toolchain == "host" else
                    ["make", "arm-none-eabi-gcc"]))


@pytest.fixture(scope="module")
def fitted_run(digits_ptq_run, tmp_path_factory):
    from drip_tiny.drip.fit_run import fit_run

    run = tmp_path_factory.mktemp("boards") / "digits"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, dpw=25, variant="minmax")
    return run


@pytest.mark.parametrize("name", ["nrf52840", "mps2-an386", "host"])
def test_real_firmware_builds_and_fits(name, fitted_run, tmp_path, capsys):
    board = load_board(name)
    _require_toolchain(board)
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
    board = load_board("nrf52840")
    _require_toolchain(board)
    from drip_tiny.export import export_project

    result = export_project(fitted_run, board, tmp_path / "nrf")
    flash = result.report.flash
    assert flash.capacity == board.region(True).bytes - board.store.bytes - board.settings.bytes
    assert {p.name for p in flash.reserved} == {"store", "settings"}
    assert result.report.ram.part(memory.STACK) == board.stack_bytes


def test_nrf52840_fits_the_fashion_mnist_model(tmp_path):
    """The built-in Fashion-MNIST CNN (63 KB of weights, a 12.5 KB arena) on the nRF52840.
    Memory depends on the architecture only, so a brief training run is enough."""
    from drip_tiny.drip.fit_run import fit_run
    from drip_tiny.export import export_project

    board = load_board("nrf52840")
    _require_toolchain(board)
    from drip_tiny.datasets.idx import DEBIAN_FASHION_MNIST_DIR

    if not any(DEBIAN_FASHION_MNIST_DIR.glob("train-images-idx3-ubyte*")):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    run = tmp_path / "fashion"
    assert main(["train", "--dataset", "fashion-mnist", "--max-per-class", "30", "--epochs",
                 "1", "--out", str(run), "--quiet"]) == 0
    fit_run(run, dpw=25)
    result = export_project(run, board, tmp_path / "nrf")
    report = result.report
    assert report.fits
    assert report.flash.part(memory.WEIGHTS) > 60_000
    assert report.ram.part(memory.ARENA) >= result.manifest["codegen"]["arena_bytes"] > 10_000
    assert report.flash.used < report.flash.capacity and report.ram.used < report.ram.capacity
