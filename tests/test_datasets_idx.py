import gzip

import numpy as np
import pytest
from formats import write_idx, write_mnist_dir

from drip_tiny.datasets import LoadOptions, load_dataset
from drip_tiny.datasets.idx import DEBIAN_FASHION_MNIST_DIR, read_idx
from drip_tiny.errors import DatasetError


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    train_x, train_y = write_mnist_dir(tmp_path, n_train=30, n_test=10, gz=gz)
    ds = load_dataset("mnist", tmp_path)
    assert ds.x_pool.shape == (30, 28, 28, 1) and ds.x_pool.dtype == np.float32
    assert ds.x_test.shape == (10, 28, 28, 1)
    np.testing.assert_array_equal(ds.y_pool, train_y)
    # Pixel (3, 5) of image 7 keeps its value, scaled to [0, 1].
    assert ds.x_pool[7, 3, 5, 0] == pytest.approx(train_x[7, 3, 5] / 255.0)
    assert ds.class_names == tuple("0123456789")
    assert ds.has_test_split


def test_dotted_file_names_are_accepted(tmp_path):
    write_mnist_dir(tmp_path)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert len(load_dataset("mnist", tmp_path).y_pool) == 40


def test_fashion_mnist_uses_fashion_class_names(tmp_path):
    write_mnist_dir(tmp_path, gz=True)
    ds = load_dataset("fashion-mnist", tmp_path)
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_defaults_to_debian_copy():
    ds = load_dataset("fashion-mnist", None, LoadOptions(max_per_class=5))
    assert ds.source == str(DEBIAN_FASHION_MNIST_DIR)
    assert ds.x_pool.shape == (50, 28, 28, 1) and ds.x_test.shape == (50, 28, 28, 1)
    assert sorted(np.bincount(ds.y_pool)) == [5] * 10


def test_max_per_class_limits_each_split(tmp_path):
    write_mnist_dir(tmp_path, n_train=40, n_test=20)
    ds = load_dataset("mnist", tmp_path, LoadOptions(max_per_class=2))
    assert np.bincount(ds.y_pool).tolist() == [2] * 10
    assert np.bincount(ds.y_test).tolist() == [2] * 10


def test_read_idx_shape_and_dtype(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", array)), array)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("mnist", tmp_path / "nowhere")


def test_mnist_without_data_dir_says_how_to_fix():
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset("mnist", None)


def test_missing_file_names_the_expected_files(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        load_dataset("mnist", tmp_path)


def test_corrupt_idx_header_is_rejected(tmp_path):
    write_mnist_dir(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[0:4] = b"<htm"  # what a failed download often leaves
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="not an IDX file"):
        load_dataset("mnist", tmp_path)


def test_truncated_idx_data_is_rejected(tmp_path):
    write_mnist_dir(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        load_dataset("mnist", tmp_path)


def test_corrupt_gzip_is_rejected(tmp_path):
    write_mnist_dir(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"x" * 100)[:20])
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset("mnist", tmp_path)


def test_label_count_mismatch_is_rejected(tmp_path):
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    with pytest.raises(DatasetError, match="40 images but"):
        load_dataset("mnist", tmp_path)
