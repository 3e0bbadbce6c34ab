"""SOFTMAX and LOGISTIC through the whole code generator (registry, emitter, HostModel),
bit for bit against TFLM, on converter-made models. The kernels alone are tested in
test_kernel_softmax.py and test_kernel_logistic.py."""

import numpy as np
import pytest

from drip_tiny.codegen import HostModel
from drip_tiny.tflite.flatbuffer import read_model
from drip_tiny.tflite.tflm_reference import TflmModel


@pytest.mark.parametrize("activation, op", [("softmax", "SOFTMAX"), ("sigmoid", "LOGISTIC")])
def test_generated_model_with_a_final_activation_equals_tflm(activation, op, tmp_path):
    from drip_tiny.tf_seam import keras
    from drip_tiny.train.quantize import convert_int8

    L = keras.layers
    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 2))
    x = L.Conv2D(4, 3, activation="relu")(inp)
    x = L.Dense(9)(L.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, L.Activation(activation)(x))
    rng = np.random.default_rng(0)
    data = convert_int8(model, rng.normal(size=(64, 6, 6, 2)).astype(np.float32))
    assert op in read_model(data).op_names
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    host, tflm = HostModel(path), TflmModel(data)
    inputs = rng.integers(-128, 128, size=(60, 6, 6, 2)).astype(np.int8)
    inputs[0], inputs[1] = -128, 127
    for x in inputs:
        for ours, theirs in zip(host.invoke(x), tflm.invoke(x)):
            np.testing.assert_array_equal(np.asarray(ours).reshape(-1), theirs.reshape(-1))
