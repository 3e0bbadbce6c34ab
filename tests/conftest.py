import os
import sys
from pathlib import Path

# Lets the tests import formats.py, the writers of real dataset file formats.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402


def train_cli(*args: str) -> int:
    from drip_tiny.cli import main

    return main(["train", "--quiet", *args])


@pytest.fixture(scope="session")
def digits_ptq_run(tmp_path_factory):
    """A digits run trained briefly (PTQ, about 80% accurate): enough for every class to be
    predicted, so DRIP thresholds can be fitted; not a measure of accuracy."""
    out = tmp_path_factory.mktemp("runs") / "digits_ptq"
    assert train_cli("--dataset", "digits", "--epochs", "40", "--out", str(out)) == 0
    return out


@pytest.fixture(scope="session")
def digits_qat_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits_qat"
    assert train_cli("--dataset", "digits", "--epochs", "3", "--qat-epochs", "1",
                     "--quantize", "qat", "--out", str(out)) == 0
    return out


@pytest.fixture(scope="session")
def speech_run(tmp_path_factory):
    """The paper's 1D CNN on a small Speech Commands folder written in the real layout."""
    from formats import write_speech_dir

    data = tmp_path_factory.mktemp("speech")
    write_speech_dir(data, words=("no", "yes", "go"), per_word=30, test_per_word=3)
    out = tmp_path_factory.mktemp("runs") / "speech"
    assert train_cli("--dataset", "speech-commands", "--data-dir", str(data), "--epochs", "2",
                     "--out", str(out)) == 0
    return out
