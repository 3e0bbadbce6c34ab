"""The exported firmware on the emulated boards, end to end through the protocol: the real
app, model and DRIP kernel built by `drip-tiny export`, run under QEMU (mps2-an386) and as
the host build, driven by drip_tiny.link and by the `emulate` and `hil` commands."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from firmware_build import exported, fitted_copy

from drip_tiny.cli import main
from drip_tiny.emulator.launch import QemuBoard, start_emulated
from drip_tiny.hil.stream import run_reference, stream_split
from drip_tiny.link import protocol as p


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("emulated") / "run")


@pytest.fixture(scope="module")
def mps2_export(run, tmp_path_factory):
    return exported(run, "mps2-an386", tmp_path_factory)


@pytest.fixture(scope="module")
def host_export(run, tmp_path_factory):
    return exported(run, "host", tmp_path_factory)


def test_qemu_firmware_answers_bit_exact_counts_cycles_and_keeps_samples(run, mps2_export):
    reference = run_reference(run)
    with QemuBoard(mps2_export / "build" / "firmware.elf") as board, board.connect() as device:
        result = stream_split(device, run, "production", limit=40)
        assert result.samples == 40 and result.mismatches == []
        ident = device.identity
        assert ident.board == "mps2-an386" and ident.clock_hz == 0
        assert (ident.model_hash, ident.thresholds_hash) == (reference.model_hash,
                                                             reference.thresholds_hash)
        # Instruction counts from the plugin: the same model costs nearly the same on
        # every sample (only data-dependent branches differ), and inference dwarfs the
        # DRIP step.
        infer = [c.cycles_inference for c in result.device]
        assert min(infer) > 100_000 and max(infer) - min(infer) < 0.01 * min(infer)
        drip = [c.cycles_drip for c in result.device]
        assert all(0 < d < min(infer) / 10 for d in drip)
        stored = [c for c in result.device if c.store_result is p.StoreResult.STORED]
        assert all(c.cycles_store > 0 for c in stored)
        assert all(c.cycles_store == 0 for c in result.device if not c.keep)
        assert sum(c.keep for c in result.device) == len(stored) > 0

        entries = device.store_list()
        assert [e.index for e in entries] == [c.store_index for c in stored]
        x, _ = _production(run, ident, 40)
        kept_rows = [i for i, c in enumerate(result.device) if c.keep]
        sample = device.store_read(entries[-1].index)
        assert sample.data == x[kept_rows[-1]].tobytes()
        assert sample.predicted == stored[-1].predicted
        assert sample.drips == stored[-1].drips

        # A reset keeps the store (the RAM standing in for flash survives SYSRESETREQ) and
        # the cycle accounting follows the new boot.
        ident = device.reset()
        assert ident.stored == len(stored)
        again = device.classify(x[0])
        assert again.cycles_inference == infer[0]
        assert again.predicted == result.device[0].predicted


def _production(run, ident, limit):
    from drip_tiny.run import directory as rundir
    from drip_tiny.tflite.tflm_reference import quantize

    x, y = rundir.load_split(run, "production")
    q = quantize(np.asarray(x[:limit], dtype=np.float32), ident.input_scale,
                 ident.input_zero_point)
    return q.reshape(limit, -1), y[:limit]


def test_hil_command_on_qemu_agrees_and_writes_json(run, mps2_export, tmp_path, capsys):
    out = tmp_path / "device.json"
    code = main(["hil", str(run), "--board", "mps2-an386", "--image", str(mps2_export),
                 "--limit", "25", "--erase", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "agree with the reference: 25/25" in printed
    summary = json.loads(out.read_text())
    assert summary["samples"] == 25 and summary["mismatches"] == []
    assert summary["stored"] == summary["kept"]
    assert summary["identity"]["board"] == "mps2-an386"
    assert summary["cycles_inference"] > summary["cycles_drip"] > 0


def test_hil_refuses_a_device_with_other_thresholds(run, host_export, tmp_path, capsys):
    import shutil

    from drip_tiny.drip.fit_run import fit_run

    other = tmp_path / "refit"
    shutil.copytree(run, other)
    fit_run(other, dpw=40)
    code = main(["hil", str(other), "--board", "host", "--image", str(host_export),
                 "--limit", "3"])
    err = capsys.readouterr().err
    assert code == 1
    assert "thresholds" in err and "re-export" in err
    assert "drip-tiny send-thresholds" in err  # the way without reflashing


def test_host_board_streams_the_whole_production_split(run, host_export):
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=host_export / "flash.bin") as board:
        with board.connect() as device:
            result = stream_split(device, run, "production")
            assert result.mismatches == []
            assert result.samples == len(result.expected_predicted) > 100
            assert device.identity.clock_hz == 1_000_000_000
            stats = device.statistics()
            assert stats.classified == result.samples
            assert stats.kept == sum(c.keep for c in result.device)
            assert stats.crc_errors == stats.length_errors == 0


@pytest.mark.parametrize("board", ["host", "mps2-an386"])
def test_emulate_command_serves_the_board_until_stopped(board, run, request):
    export = request.getfixturevalue("host_export" if board == "host" else "mps2_export")
    with subprocess.Popen([sys.executable, "-m", "drip_tiny", "emulate", "--board", board,
                           "--image", str(export)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _serve_and_stop(proc, board)


def _serve_and_stop(proc: subprocess.Popen, board: str) -> None:
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("serial "), (line, proc.stderr.read() if proc.poll() else "")
        from drip_tiny.link import Device, open_port

        with Device(open_port(line.split(" ", 1)[1])) as device:
            assert device.identify().board == board
            assert device.classify(bytes(device.identity.input_bytes)).logits.size == 10
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, proc.stderr.read()


def test_emulate_refuses_a_real_board_and_a_missing_image(tmp_path, capsys):
    assert main(["emulate", "--board", "nrf52840", "--image", str(tmp_path)]) == 1
    assert "has no built image" in capsys.readouterr().err
    assert main(["emulate", "--board", "host", "--image", str(tmp_path / "none")]) == 1
    assert "export a run first" in capsys.readouterr().err
    os.makedirs(tmp_path / "real" / "build")
    (tmp_path / "real" / "build" / "firmware.elf").write_bytes(b"\x7fELF")
    assert main(["emulate", "--board", "nrf52840", "--image", str(tmp_path / "real")]) == 1
    assert "real board" in capsys.readouterr().err
