import numpy as np
import pytest

from drip_tiny.errors import ModelError
from drip_tiny.tf_seam import keras
from drip_tiny.train.models import (
    build_builtin,
    check_model_fits_data,
    find_target_layer,
    load_user_model,
    logits_model,
    with_target_output,
)


def test_image_cnn_for_digits_and_fashion_sizes():
    digits = build_builtin("cnn", (8, 8, 1), 10)
    assert digits.count_params() == 5130  # the anchor digits_cnn shape
    assert find_target_layer(digits) == ("conv_last", "conv_last")
    fashion = build_builtin("cnn", (28, 28, 1), 10)
    assert fashion.get_layer("conv_last").output_shape == (None, 7, 7, 64)


@pytest.mark.parametrize("size", [(32, 32, 3), (96, 96, 3), (224, 224, 3), (49, 10, 1)])
def test_image_cnn_activations_fit_an_nrf52840(size):
    model = build_builtin("cnn", size, 10)
    largest = max(int(np.prod(layer.output_shape[1:])) for layer in model.layers[1:])
    assert largest <= 64 * 1024  # int8 bytes
    assert min(model.get_layer("conv_last").output_shape[1:3]) <= 14


def test_audio_cnn_target_is_the_fused_conv_unit():
    model = build_builtin("cnn1d", (16000, 1), 12)
    target, conv = find_target_layer(model)
    assert (target, conv) == ("relu4", "conv4")
    assert [type(layer).__name__ for layer in model.layers].count("Conv1D") == 4
    assert model.count_params() < 40_000


def test_named_target_and_bad_names():
    model = build_builtin("cnn1d", (16000, 1), 3)
    assert find_target_layer(model, "conv2") == ("relu2", "conv2")
    with pytest.raises(ModelError, match=r"no layer named 'conv9'.*conv1"):
        find_target_layer(model, "conv9")
    with pytest.raises(ModelError, match="feature map"):
        find_target_layer(model, "dense")


def test_model_without_convolution_is_refused():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    with pytest.raises(ModelError, match="no convolution"):
        find_target_layer(model)


def test_softmax_head_becomes_logits_with_same_weights():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    logits = logits_model(model)
    x = np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float32)
    probs = model.predict(x, verbose=0)
    z = logits.predict(x, verbose=0)
    np.testing.assert_allclose(np.exp(z) / np.exp(z).sum(-1, keepdims=True), probs, rtol=1e-5)


def test_separate_softmax_layer_is_dropped():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Softmax()(keras.layers.Dense(3)(x))
    logits = logits_model(keras.Model(inputs, out))
    assert type(logits.layers[-1]).__name__ == "Dense"


def test_two_output_model_order():
    model = build_builtin("cnn", (8, 8, 1), 10)
    two = with_target_output(model, "conv_last")
    assert [tuple(o.shape) for o in two.outputs] == [(None, 10), (None, 8, 8, 32)]


def test_shape_mismatch_names_both_shapes():
    model = build_builtin("cnn", (8, 8, 1), 10)
    with pytest.raises(ModelError, match=r"\(8, 8, 1\).*\(28, 28, 1\)"):
        check_model_fits_data(model, (28, 28, 1), 10)
    with pytest.raises(ModelError, match="Dense\\(5\\)"):
        check_model_fits_data(model, (8, 8, 1), 5)


def test_user_model_file_errors(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_user_model(tmp_path / "missing.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot load"):
        load_user_model(bad)
