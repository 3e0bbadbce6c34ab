"""The built-in architectures: a small image CNN and the paper's 1D CNN for raw audio.

Both end in global average pooling and dense layers, so the int8 Grad-CAM of the DRIP core
(exact for pooling + dense heads) applies, and both fit an nRF52840 (1 MB flash, 256 KB RAM)
with room left for the firmware and a sample store; `drip-tiny train` reports the int8 model
and TFLM arena sizes of every run.
"""

from __future__ import annotations

import math

from drip_tiny.tf_seam import keras

IMAGE_CNN = "cnn"
AUDIO_CNN1D = "cnn1d"
BUILTIN_MODELS = (IMAGE_CNN, AUDIO_CNN1D)
MAX_ACTIVATION_BYTES = 64 * 1024  # the largest int8 feature map the built-in CNN may produce


def image_cnn(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """3x3 ReLU convolutions, halving the resolution until the map is about 7 pixels wide.

    8x8 (digits): conv16, conv32, GAP, dense. 28x28: conv16, pool, conv32, pool, conv64,
    conv64, GAP, dense. The last convolution is the Grad-CAM target. Inputs larger than
    64x64 get a strided first convolution, so no activation exceeds 64 KB in int8 (the
    nRF52840 has 256 KB of RAM).
    """
    height, width = input_shape[0], input_shape[1]
    stride = 1
    while (height // stride) * (width // stride) * 16 > MAX_ACTIVATION_BYTES and min(height, width) // stride > 7:
        stride *= 2
    pools = max(0, math.floor(math.log2(min(height, width) / stride / 7.0)))
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.Conv2D(16, 3, strides=stride, padding="same", activation="relu", name="conv1")(inputs)
    channels = 16
    for i in range(pools):
        channels = min(channels * 2, 64)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
        x = layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"conv{i + 2}")(x)
    x = layers.Conv2D(max(32, channels), 3, padding="same", activation="relu",
                      name="conv_last")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="drip_image_cnn")


def audio_cnn1d(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """The paper's 1D CNN on raw waveform: four Conv1D+BatchNorm+ReLU+MaxPool blocks, then a
    head of global average pooling, dropout and two dense layers.

    The first convolution has an 80-sample kernel with stride 4 (5 ms at 16 kHz), as in
    raw-waveform CNNs of this size; 16 channels there keep the largest int8 activation at
    64 KB for a one-second clip.
    """
    layers = keras.layers
    inputs = keras.Input(shape=input_shape, name="input")
    x = inputs
    for i, (channels, kernel, stride) in enumerate(((16, 80, 4), (32, 3, 1), (32, 3, 1), (64, 3, 1))):
        x = layers.Conv1D(channels, kernel, strides=stride, padding="same", use_bias=False,
                          name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.ReLU(name=f"relu{i + 1}")(x)
        x = layers.MaxPooling1D(4, name=f"pool{i + 1}")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="drip_audio_cnn1d")


def build_builtin(name: str, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    if name == IMAGE_CNN:
        return image_cnn(input_shape, num_classes)
    if name == AUDIO_CNN1D:
        return audio_cnn1d(input_shape, num_classes)
    raise ValueError(f"unknown built-in model {name!r}")
