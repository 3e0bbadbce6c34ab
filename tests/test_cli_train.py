"""`drip-tiny train` from the command line: the run directory, options, and bad input."""

import json
import subprocess
import sys

import pytest
from conftest import train_cli
from formats import write_mnist_dir

from drip_tiny.cli import build_parser, main
from drip_tiny.commands import SUBCOMMANDS
from drip_tiny.run.directory import REQUIRED_FILES, check_run


def test_run_directory_holds_every_file(digits_ptq_run):
    check_run(digits_ptq_run)
    names = {p.name for p in digits_ptq_run.iterdir()}
    assert set(REQUIRED_FILES) | {"float_model.keras", "history.json"} <= names
    meta = json.loads((digits_ptq_run / "metadata.json").read_text())
    assert meta["dataset"]["name"] == "digits" and meta["split"]["seed"] == 0
    assert meta["model"]["target_layer"] == "conv_last"
    assert len(meta["dataset"]["class_names"]) == 10
    assert meta["versions"]["tensorflow"].startswith("2.21")
    # No staging folder is left beside the run.
    assert not [p for p in digits_ptq_run.parent.iterdir() if ".staging-" in p.name]


def test_float_model_file_reloads_with_its_accuracy(digits_ptq_run):
    import numpy as np

    from drip_tiny.datasets import load_dataset
    from drip_tiny.run.splits import Splits, split_arrays
    from drip_tiny.train.models import load_user_model

    model = load_user_model(digits_ptq_run / "float_model.keras")
    x, y = split_arrays(load_dataset("digits"), Splits.load(digits_ptq_run / "splits.npz"), "test")
    accuracy = float(np.mean(np.argmax(model.predict(x, verbose=0), -1) == y))
    metrics = json.loads((digits_ptq_run / "metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["float_test_accuracy"])


def test_help_for_every_command(capsys):
    for module in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([module.NAME, "--help"])
        assert exit_info.value.code == 0
        assert "--" in capsys.readouterr().out
    assert {m.NAME for m in SUBCOMMANDS} <= set(build_parser().format_help().split())


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "drip_tiny", "--version"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("drip-tiny ")


@pytest.mark.parametrize("args, message", [
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--dataset", "mnist"], "no --data-dir given"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent/mnist"], "does not exist"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--max-per-class", "0"], "--max-per-class must be at least 1"),
    (["--max-per-class", "3"], "too small to split"),
    (["--model", "/nonexistent/model.keras", "--epochs", "1"], "does not exist"),
    (["--target-layer", "nope", "--epochs", "1"], "no layer named 'nope'"),
])
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert train_cli(*args, "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_corrupt_dataset_file_writes_nothing(tmp_path, capsys):
    data = tmp_path / "mnist"
    write_mnist_dir(data)
    (data / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08")
    out = tmp_path / "run"
    assert train_cli("--dataset", "mnist", "--data-dir", str(data), "--out", str(out)) == 1
    assert "not an IDX file" in capsys.readouterr().err
    assert not out.exists()


def test_existing_run_needs_force(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert train_cli("--out", str(out), "--epochs", "1") == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_model_without_convolution_is_refused(tmp_path, capsys):
    from drip_tiny.tf_seam import keras

    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")]).save(path)
    assert train_cli("--model", str(path), "--out", str(tmp_path / "run")) == 1
    assert "has no convolution" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_user_model_with_batchnorm_and_softmax(tmp_path):
    """A user's own .keras file: softmax is stripped, Conv+BN+ReLU is one fused target."""
    from drip_tiny.tf_seam import keras

    path = tmp_path / "user.keras"
    keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, padding="same", name="c1"),
        keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="act"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax"),
    ]).save(path)
    out = tmp_path / "run"
    assert train_cli("--model", str(path), "--epochs", "2", "--out", str(out)) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["model"]["target_layer"] == "act" and meta["model"]["target_conv"] == "c1"
    assert meta["int8"]["target"]["shape"] == [1, 8, 8, 8]
    assert meta["int8"]["ops"].count("CONV_2D") == 1  # BN and ReLU folded into the conv


@pytest.mark.parametrize("dataset, writer, ops", [
    ("mnist", "mnist", {"CONV_2D", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED"}),
    ("cifar10", "cifar", {"CONV_2D", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED"}),
    ("image-folder", "images", {"CONV_2D", "MEAN", "FULLY_CONNECTED"}),
])
def test_every_image_format_trains_end_to_end(tmp_path, dataset, writer, ops):
    from formats import write_cifar_dir, write_image_folder

    data = tmp_path / "data"
    if writer == "mnist":
        write_mnist_dir(data, n_train=60, n_test=20)
    elif writer == "cifar":
        write_cifar_dir(data, per_batch=12)
    else:
        write_image_folder(data, classes=("a", "b", "c"), per_class=6)
    out = tmp_path / "run"
    assert train_cli("--dataset", dataset, "--data-dir", str(data), "--epochs", "1",
                     "--image-size", "12x12", "--out", str(out)) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert set(meta["int8"]["ops"]) == ops
    assert meta["dataset"]["name"] == dataset
    sizes = meta["split"]["sizes"]
    assert sizes["test"] == json.loads((out / "metrics.json").read_text())["test_samples"] > 0


def test_same_seed_gives_the_same_int8_model(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert train_cli("--epochs", "2", "--seed", "3", "--out", str(out)) == 0
    assert (a / "model.tflite").read_bytes() == (b / "model.tflite").read_bytes()
    assert (a / "splits.npz").read_bytes() == (b / "splits.npz").read_bytes()


def test_run_reloads_its_splits_and_notices_changed_data(tmp_path):
    import numpy as np

    from drip_tiny.errors import RunDirError
    from drip_tiny.run.directory import load_split

    data = tmp_path / "mnist"
    write_mnist_dir(data, n_train=60, n_test=20)
    out = tmp_path / "run"
    assert train_cli("--dataset", "mnist", "--data-dir", str(data), "--epochs", "1",
                     "--out", str(out)) == 0
    x_val, y_val = load_split(out, "validation")
    # 6 samples per class cut at round(2.4), round(3.6): 2 train, 2 validation, 2 production.
    assert x_val.shape == (20, 28, 28, 1) and np.bincount(y_val).tolist() == [2] * 10
    assert len(load_split(out, "test")[1]) == 20
    # The same folder with other files behind it: the saved indices no longer apply.
    write_mnist_dir(data, n_train=70, n_test=20)
    with pytest.raises(RunDirError, match="not what run"):
        load_split(out, "train")


def test_qat_of_conv1d_model_is_refused_with_the_fix(tmp_path, capsys):
    # tfmot 0.8.1 has no quantize config for Conv1D: say so, and name PTQ as the way out.
    from formats import write_speech_dir

    write_speech_dir(tmp_path / "sc", words=("no", "yes"), per_word=8, test_per_word=2)
    out = tmp_path / "run"
    assert train_cli("--dataset", "speech-commands", "--data-dir", str(tmp_path / "sc"),
                     "--quantize", "qat", "--epochs", "1", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert "Conv1D" in err and "--quantize ptq" in err
    assert not out.exists()


def test_unwritable_out_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert train_cli("--epochs", "1", "--out", str(blocker / "run")) == 1
    assert "cannot create the run directory" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [blocker]


def test_relative_data_dir_is_recorded_absolute(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "mnist", n_train=60, n_test=20)
    monkeypatch.chdir(tmp_path)
    assert train_cli("--dataset", "mnist", "--data-dir", "mnist", "--epochs", "1",
                     "--out", "run") == 0
    meta = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert meta["dataset"]["data_dir"] == str(tmp_path / "mnist")
    monkeypatch.chdir("/")
    from drip_tiny.run.directory import load_split

    assert len(load_split(tmp_path / "run", "test")[1]) == 20
