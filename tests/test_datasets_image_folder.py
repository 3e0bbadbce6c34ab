import pytest
from formats import write_image_folder

from drip_tiny.datasets import LoadOptions, load_dataset
from drip_tiny.errors import DatasetError


def test_class_folders_are_resized(tmp_path):
    write_image_folder(tmp_path, classes=("blight", "healthy"), per_class=3, size=(20, 30))
    ds = load_dataset("image-folder", tmp_path, LoadOptions(image_size=(16, 12)))
    assert ds.x_pool.shape == (6, 16, 12, 3) and not ds.has_test_split
    assert ds.class_names == ("blight", "healthy")
    # Class 0 images have a saturated red channel, class 1 a saturated green one.
    assert ds.x_pool[ds.y_pool == 0][..., 0].min() == pytest.approx(1.0)
    assert ds.x_pool[ds.y_pool == 1][..., 1].min() == pytest.approx(1.0)


def test_grayscale_and_jpeg(tmp_path):
    write_image_folder(tmp_path, per_class=2, fmt="JPEG")
    ds = load_dataset("image-folder", tmp_path, LoadOptions(image_size=(8, 8), color="grayscale"))
    assert ds.x_pool.shape == (4, 8, 8, 1)
    assert ds.x_pool.min() >= 0.0 and ds.x_pool.max() <= 1.0


def test_train_and_valid_folders_give_a_test_split(tmp_path):
    write_image_folder(tmp_path / "train", per_class=3)
    write_image_folder(tmp_path / "valid", per_class=1)
    ds = load_dataset("image-folder", tmp_path, LoadOptions(image_size=(8, 8)))
    assert len(ds.y_pool) == 6 and len(ds.y_test) == 2


def test_unreadable_image_is_named(tmp_path):
    write_image_folder(tmp_path, per_class=2)
    (tmp_path / "healthy" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"broken\.png"):
        load_dataset("image-folder", tmp_path)


def test_single_class_is_rejected(tmp_path):
    write_image_folder(tmp_path, classes=("only",))
    with pytest.raises(DatasetError, match="at least two"):
        load_dataset("image-folder", tmp_path)


def test_empty_class_folder_is_rejected(tmp_path):
    write_image_folder(tmp_path, per_class=2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        load_dataset("image-folder", tmp_path)
