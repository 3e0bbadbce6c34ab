"""The Cortex-M4F build of the convolution kernels (their __ARM_FEATURE_DSP paths, which the
host build never compiles) gives TFLM's outputs bit for bit, under QEMU mps2-an386.

The shapes aim at the DSP paths' edges: input channels not a multiple of 4 (the plain-C
tails), odd output channel counts (the leftover channels), stride 2, SAME and VALID padding
(windows cut by the image border), dilation, depth multipliers above 1, 1x1 filters (their
own loop) with stride 1 and 2.
Needs qemu-system-arm and arm-none-eabi-gcc: skipped without them (a failure in CI)."""

import codegen_models as cm
import numpy as np
import pytest
from boards_common import require_tools

from drip_tiny.emulator import bench_input, bench_model
from drip_tiny.tflite.tflm_reference import TflmModel


@pytest.fixture(scope="module", autouse=True)
def _require_tools():
    require_tools("qemu-system-arm", "arm-none-eabi-gcc")


def _chain(keras):
    """11x9x5 -> conv 7 ch stride 2 SAME -> depthwise x2 VALID -> conv (2,3) stride (1,2)
    VALID -> depthwise 2x2 stride 2 SAME -> dense."""
    inputs = keras.Input((11, 9, 5))
    x = keras.layers.Conv2D(7, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid")(x)
    x = keras.layers.Conv2D(5, (2, 3), strides=(1, 2), padding="valid", activation="relu6")(x)
    x = keras.layers.DepthwiseConv2D(2, strides=2, padding="same")(x)
    outputs = keras.layers.Dense(6)(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs), (11, 9, 5)


def _wide(keras):
    """Long runs: 12, 9 and 16 channels, 3x3 and 1x1 filters, depthwise over 9 and 16."""
    inputs = keras.Input((6, 7, 12))
    x = keras.layers.Conv2D(9, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.Conv2D(16, 1, activation="relu")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(13, 3, strides=2, padding="valid")(x)
    return keras.Model(inputs, x), (6, 7, 12)


def _single(keras, depthwise, shape, padding, **kwargs):
    inputs = keras.Input(shape)
    layer = keras.layers.DepthwiseConv2D if depthwise else keras.layers.Conv2D
    return keras.Model(inputs, layer(padding=padding, **kwargs)(inputs)), shape


def _models():
    from drip_tiny.tf_seam import keras

    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    built = {
        "chain": _chain(keras),
        "wide": _wide(keras),
        "conv_dilated": _single(keras, False, (9, 10, 6), "valid", filters=7, kernel_size=(3, 2)),
        "depthwise_dilated": _single(keras, True, (8, 9, 3), "same", kernel_size=3,
                                     depth_multiplier=3),
        "conv_dilated_same": _single(keras, False, (7, 8, 4), "same", filters=5, kernel_size=3),
        "pointwise_stride2": _single(keras, False, (7, 9, 10), "valid", filters=7, kernel_size=1,
                                     strides=2),
    }
    dilations = {"conv_dilated": (2, 2), "depthwise_dilated": (1, 2), "conv_dilated_same": (2, 1)}
    models = []
    for name, (model, shape) in built.items():
        data = cm.convert(model, shape, rng)
        if name in dilations:
            data = cm.dilate(data, *dilations[name])
        models.append(pytest.param(data, shape, id=name))
    return models


@pytest.fixture(scope="module")
def models():
    return {p.id: p.values for p in _models()}


@pytest.mark.parametrize("name", ["chain", "wide", "conv_dilated", "depthwise_dilated",
                                  "conv_dilated_same", "pointwise_stride2"])
def test_the_cortex_m4f_kernels_give_tflm_outputs_bit_for_bit(models, name):
    data, shape = models[name]
    result = bench_model(data)
    want = TflmModel(data).invoke(bench_input(int(np.prod(shape))).reshape(shape))
    assert len(result.outputs) == len(want)
    for got, ref in zip(result.outputs, want):
        np.testing.assert_array_equal(got, ref)
