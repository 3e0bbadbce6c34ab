import numpy as np
import pytest

from drip_tiny.datasets import DATASET_NAMES, IMAGE, load_dataset
from drip_tiny.errors import DatasetError


def test_digits_is_the_bundled_8x8_set():
    ds = load_dataset("digits")
    assert ds.kind == IMAGE and ds.sample_shape == (8, 8, 1)
    assert len(ds.y_pool) == 1797 and not ds.has_test_split
    assert ds.x_pool.min() == 0.0 and ds.x_pool.max() == 1.0
    assert np.bincount(ds.y_pool).min() >= 170


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(DatasetError, match="'fashion-mnist'"):
        load_dataset("fashion_mnist")


def test_every_documented_dataset_is_registered():
    assert set(DATASET_NAMES) == {"digits", "mnist", "fashion-mnist", "cifar10",
                                  "speech-commands", "image-folder"}


def test_digits_honours_max_per_class():
    from drip_tiny.datasets import LoadOptions

    ds = load_dataset("digits", options=LoadOptions(max_per_class=7))
    assert np.bincount(ds.y_pool).tolist() == [7] * 10
