"""Bad input at the command line (issue 9): a missing or corrupt run directory, a damaged
.tflite, a .tflite with an op drip-tiny cannot run, a model too large for the board, a
dataset path not in the format, a serial port that does not exist and a device that never
answers. Each: exit status 1, one `drip-tiny CMD: error:` line naming the problem and the
fix, no traceback, and nothing written (no output folder, run directory unchanged)."""

import dataclasses
import hashlib
import json
import os
import shutil
import time

import flatbuffers
import pytest
from firmware_build import fitted_copy
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from drip_tiny.boards import MemoryRegion, load_board
from drip_tiny.cli import main


@pytest.fixture(scope="module")
def fitted(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("cli") / "run")


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def fails(capsys, *argv, says=()):
    """Runs the CLI in-process; checks exit 1 and one error line containing `says`."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith(f"drip-tiny {argv[0]}: error: "), err
    assert "Traceback" not in err
    for text in says:
        assert text in lines[0], lines[0]
    return lines[0]


def copy_run(fitted, dest):
    shutil.copytree(fitted, dest)
    return dest


def rehash_thresholds(run):
    """thresholds.json as if fitted for the model now in the run (so export gets past its
    stale-thresholds check to the model itself)."""
    path = run / "thresholds.json"
    data = json.loads(path.read_text())
    data["model_sha256"] = hashlib.sha256((run / "model.tflite").read_bytes()).hexdigest()
    path.write_text(json.dumps(data))


def test_missing_run_directory(capsys, tmp_path):
    for cmd in (["fit"], ["export", "--board", "host", "--out", tmp_path / "out"]):
        fails(capsys, cmd[0], tmp_path / "nowhere", *cmd[1:],
              says=("does not exist", "drip-tiny train"))
    assert list(tmp_path.iterdir()) == []


def test_corrupt_run_directory(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metadata.json").write_text("{not json")
    before = snapshot(run)
    for cmd in (["fit"], ["export", "--board", "host", "--out", tmp_path / "out"]):
        fails(capsys, cmd[0], run, *cmd[1:], says=("not a complete drip-tiny run", "re-run"))
    assert snapshot(run) == before and not (tmp_path / "out").exists()


def test_truncated_tflite(capsys, fitted, tmp_path):
    run = copy_run(fitted, tmp_path / "run")
    (run / "model.tflite").write_bytes((run / "model.tflite").read_bytes()[:1000])
    rehash_thresholds(run)
    before = snapshot(run)
    for cmd in (["fit"], ["export", "--board", "host", "--out", tmp_path / "out"]):
        fails(capsys, cmd[0], run, *cmd[1:],
              says=("corrupt TFLite flatbuffer", "`drip-tiny train`"))
    assert snapshot(run) == before and not (tmp_path / "out").exists()


def test_tflite_with_an_unsupported_op(capsys, fitted, tmp_path):
    run = copy_run(fitted, tmp_path / "run")
    path = run / "model.tflite"
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(path.read_bytes()), 0))
    for code in model.operatorCodes:  # MEAN -> REDUCE_MAX: same options, not supported
        if code.builtinCode == schema.BuiltinOperator.MEAN:
            code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.REDUCE_MAX
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    rehash_thresholds(run)
    before = snapshot(run)
    fails(capsys, "fit", run, says=("REDUCE_MAX", "not supported", "drip-tiny train"))
    fails(capsys, "export", run, "--board", "host", "--out", tmp_path / "out",
          says=("REDUCE_MAX", "not supported"))
    assert snapshot(run) == before and not (tmp_path / "out").exists()


def test_model_too_large_for_the_board(capsys, fitted, tmp_path, monkeypatch):
    import drip_tiny.export.export as export_module

    # The nRF52840 with 4 KB of flash: the digits model's weights alone are larger.
    small = dataclasses.replace(load_board("nrf52840"),
                                memory=(MemoryRegion("FLASH", 0, 4096, "rx"),
                                        MemoryRegion("RAM", 0x20000000, 256 << 10, "rwx")),
                                store=None, settings=None)
    monkeypatch.setattr(export_module, "load_board", lambda name: small)
    line = fails(capsys, "export", fitted, "--board", "nrf52840", "--out", tmp_path / "out",
                 says=("exceed the 4,096 bytes", "flash"))
    assert "does not fit" in line or "exceed" in line
    assert not (tmp_path / "out").exists()


def test_dataset_path_not_in_the_format(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a dataset")
    fails(capsys, "train", "--dataset", "mnist", "--data-dir", empty, "--epochs", "1",
          "--out", tmp_path / "r1", says=("train-images-idx3-ubyte", "MNIST-style"))
    fails(capsys, "train", "--dataset", "image-folder", "--data-dir", empty, "--epochs", "1",
          "--out", tmp_path / "r2", says=("0 class folder", "--data-dir DIR"))
    fails(capsys, "train", "--dataset", "image-folder", "--data-dir", tmp_path / "missing",
          "--epochs", "1", "--out", tmp_path / "r3", says=("does not exist", "--data-dir"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_serial_port_that_does_not_exist(capsys, fitted, tmp_path):
    fails(capsys, "hil", fitted, "--port", tmp_path / "ttyNOPE", "--timeout", "1",
          "--json", tmp_path / "out.json", says=("cannot open the serial port", "Check"))
    assert not (tmp_path / "out.json").exists()


def test_device_that_never_answers(capsys, fitted, tmp_path):
    master, slave = os.openpty()  # we hold the other end and stay silent
    try:
        start = time.monotonic()
        fails(capsys, "hil", fitted, "--port", os.ttyname(slave), "--timeout", "0.5",
              "--json", tmp_path / "out.json", says=("no answer", "port"))
        assert time.monotonic() - start < 20  # bounded retries, no hang
    finally:
        os.close(master)
        os.close(slave)
    assert not (tmp_path / "out.json").exists()
