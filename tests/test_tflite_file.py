"""The TF-free .tflite reader: constants and operator options, checked against the Keras model."""

import numpy as np

from drip_tiny.tflite.flatbuffer import ACTIVATIONS, PADDINGS, read_model


def test_constants_and_options_of_the_digits_model(digits_ptq_run):
    info = read_model((digits_ptq_run / "model.tflite").read_bytes())
    conv = [op for op in info.operators if op.name == "CONV_2D"]
    assert conv and conv[0].options_type == "Conv2DOptions"
    assert ACTIVATIONS[conv[0].options["fusedActivationFunction"]] == "RELU"
    assert PADDINGS[conv[0].options["padding"]] == "SAME"
    weights = info.tensors[conv[0].inputs[1]]
    bias = info.tensors[conv[0].inputs[2]]
    assert weights.is_constant and weights.data.dtype == np.int8
    assert weights.data.shape == weights.shape and weights.shape[0] == len(weights.scales)
    assert weights.quantized_dimension == 0
    assert bias.data.dtype == np.int32 and bias.data.shape == (weights.shape[0],)
    # Per-channel int8 weights use the full range: each channel's largest |w| is 127.
    assert np.all(np.abs(weights.data.reshape(weights.shape[0], -1)).max(axis=1) == 127)
    # Activations carry no data.
    assert not info.inputs[0].is_constant and all(not t.is_constant for t in info.outputs)


def test_fully_connected_weights_dequantize_to_the_keras_kernel(digits_ptq_run):
    from drip_tiny.tf_seam import keras

    info = read_model((digits_ptq_run / "model.tflite").read_bytes())
    fc = next(op for op in info.operators if op.name == "FULLY_CONNECTED")
    w = info.tensors[fc.inputs[1]]
    model = keras.models.load_model(digits_ptq_run / "float_model.keras", compile=False)
    kernel = model.layers[-1].get_weights()[0] if model.layers[-1].get_weights() else \
        next(layer for layer in reversed(model.layers) if layer.get_weights()).get_weights()[0]
    dequant = w.data.astype(np.float64) * np.asarray(w.scales)[:, None]
    assert dequant.shape == kernel.T.shape
    np.testing.assert_allclose(dequant, kernel.T, atol=max(w.scales) * 0.51)
