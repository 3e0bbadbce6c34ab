"""kept.npz (drip-tiny pull) as extra training data: dequantized with the device's input
quantization, labelled by y when present, else by the device's predicted class."""

import json

import numpy as np
import pytest

from drip_tiny.cli import main
from drip_tiny.datasets.kept_samples import load_extra
from drip_tiny.errors import ConfigError


def _kept(path, n=6, with_y=False):
    rng = np.random.default_rng(0)
    arrays = {"x": rng.integers(-128, 128, (n, 8, 8, 1)).astype(np.int8),
              "predicted": np.arange(n) % 10, "drips": np.full(n, 0.2, np.float32),
              "id": np.arange(n), "index": np.arange(n),
              "input_scale": np.float32(0.0625), "input_zero_point": np.int32(-128)}
    if with_y:
        arrays["y"] = (np.arange(n) + 1) % 10
    np.savez(path, **arrays)
    return arrays


def test_load_extra_dequantizes_and_labels(tmp_path):
    arrays = _kept(tmp_path / "k.npz")
    x, y, source = load_extra(tmp_path / "k.npz", (8, 8, 1), 10)
    assert source == "predicted" and y.tolist() == arrays["predicted"].tolist()
    assert x.shape == (6, 8, 8, 1) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == (int(arrays["x"][0, 0, 0, 0]) + 128) * 0.0625
    arrays = _kept(tmp_path / "y.npz", with_y=True)
    _, y, source = load_extra(tmp_path / "y.npz", (8, 8, 1), 10)
    assert source == "y" and y.tolist() == arrays["y"].tolist()


def test_load_extra_refuses_wrong_files(tmp_path):
    _kept(tmp_path / "k.npz")
    with pytest.raises(ConfigError, match="dataset's samples have 784"):
        load_extra(tmp_path / "k.npz", (28, 28, 1), 10)
    with pytest.raises(ConfigError, match=r"labels outside 0\.\.4"):
        load_extra(tmp_path / "k.npz", (8, 8, 1), 5)
    np.savez(tmp_path / "bare.npz", x=np.zeros((2, 64), np.int8))
    with pytest.raises(ConfigError, match="drip-tiny pull"):
        load_extra(tmp_path / "bare.npz", (8, 8, 1), 10)


def test_train_with_extra_adds_the_samples(tmp_path, capsys):
    _kept(tmp_path / "k.npz", n=7)
    out = tmp_path / "run"
    code = main(["train", "--dataset", "digits", "--epochs", "1", "--extra",
                 str(tmp_path / "k.npz"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "metadata.json").read_text())
    extra = meta["split"]["extra_train"]
    assert extra["samples"] == 7 and extra["labels"] == "predicted"
    assert "7 samples" in capsys.readouterr().err
