import numpy as np
import pytest
from formats import write_speech_dir, write_wav

from drip_tiny.datasets import AUDIO, LoadOptions, load_dataset
from drip_tiny.errors import DatasetError


def test_layout_splits_on_testing_list_and_pads(tmp_path):
    write_speech_dir(tmp_path, words=("no", "yes"), per_word=6, test_per_word=2)
    ds = load_dataset("speech-commands", tmp_path)
    assert ds.kind == AUDIO and ds.class_names == ("no", "yes")
    assert ds.x_pool.shape == (8, 16000, 1) and ds.x_test.shape == (4, 16000, 1)
    # The validation-list clip stays in the pool: 6 clips - 2 test = 4 per word.
    assert np.bincount(ds.y_pool).tolist() == [4, 4]
    # Clip 0 of each word is half a second long: zero-padded at the end.
    first_test = ds.x_test[0, :, 0]
    assert np.abs(first_test[:8000]).max() > 0.2
    assert np.all(first_test[8000:] == 0)
    assert np.abs(ds.x_pool).max() <= 1.0


def test_word_selection_and_unknown_word(tmp_path):
    write_speech_dir(tmp_path, words=("go", "no", "yes"))
    ds = load_dataset("speech-commands", tmp_path, LoadOptions(words=("yes", "go")))
    assert ds.class_names == ("yes", "go")
    with pytest.raises(DatasetError, match="maybe"):
        load_dataset("speech-commands", tmp_path, LoadOptions(words=("maybe",)))


def test_missing_testing_list(tmp_path):
    write_speech_dir(tmp_path)
    (tmp_path / "testing_list.txt").unlink()
    with pytest.raises(DatasetError, match=r"testing_list\.txt"):
        load_dataset("speech-commands", tmp_path)


def test_wrong_sample_rate_names_file_and_fix(tmp_path):
    write_speech_dir(tmp_path)
    bad = write_wav(tmp_path / "yes" / "zz_nohash_0.wav", np.zeros(8000, np.int16), rate=8000)
    with pytest.raises(DatasetError, match=f"{bad.name}.*sox"):
        load_dataset("speech-commands", tmp_path)


def test_corrupt_wav_is_rejected(tmp_path):
    write_speech_dir(tmp_path)
    (tmp_path / "no" / "00000001_nohash_0.wav").write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(DatasetError, match="not a readable WAV"):
        load_dataset("speech-commands", tmp_path)
