import tarfile

import numpy as np
import pytest
from formats import write_cifar_dir

from drip_tiny.datasets import load_dataset
from drip_tiny.errors import DatasetError


def test_batches_decode_channel_planar_to_nhwc(tmp_path):
    batches = write_cifar_dir(tmp_path, per_batch=6)
    ds = load_dataset("cifar10", tmp_path)
    assert ds.x_pool.shape == (30, 32, 32, 3) and ds.x_test.shape == (6, 32, 32, 3)
    data = batches["data_batch_2"][b"data"]
    # Image 1 of batch 2 is pool sample 7; its green plane starts at byte 1024.
    row, col = 4, 9
    assert ds.x_pool[7, row, col, 1] == pytest.approx(data[1, 1024 + row * 32 + col] / 255.0)
    assert ds.x_pool[7, row, col, 2] == pytest.approx(data[1, 2048 + row * 32 + col] / 255.0)
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][b"labels"])
    assert ds.class_names[0] == "airplane" and ds.class_names[9] == "truck"


def test_parent_folder_and_archive_are_accepted(tmp_path):
    write_cifar_dir(tmp_path / "cifar-10-batches-py", per_batch=4)
    assert len(load_dataset("cifar10", tmp_path).y_pool) == 20
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    with tarfile.open(archive_dir / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = load_dataset("cifar10", archive_dir)
    assert len(ds.y_pool) == 20 and len(ds.y_test) == 4


def test_missing_batch_is_named(tmp_path):
    write_cifar_dir(tmp_path, per_batch=2)
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(DatasetError, match="data_batch_4"):
        load_dataset("cifar10", tmp_path)


def test_corrupt_batch_is_rejected(tmp_path):
    write_cifar_dir(tmp_path, per_batch=2)
    (tmp_path / "test_batch").write_bytes(b"\x80\x02garbage")
    with pytest.raises(DatasetError, match="not a CIFAR-10 python batch"):
        load_dataset("cifar10", tmp_path)


def test_folder_without_cifar_files(tmp_path):
    with pytest.raises(DatasetError, match="neither the CIFAR-10 batch files"):
        load_dataset("cifar10", tmp_path)
