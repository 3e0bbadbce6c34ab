"""Float Grad-CAM (GradientTape) against the closed form for a GAP + Dense head.

For A -> global average pooling -> Dense(W, b): dy_c/dA[p, k] = W[k, c] / n, so
alpha_k = W[k, c] / n and map[p] = ReLU(sum_k W[k, c] / n * A[p, k]).
"""

import numpy as np
import pytest

from drip_tiny.drip import FloatGradCam
from drip_tiny.drip.variants import drips_from_float_map


def _model(rank):
    from drip_tiny.tf_seam import keras

    L = keras.layers
    keras.utils.set_random_seed(2)
    if rank == 2:
        inp = keras.Input((9, 7, 1))
        a = L.Conv2D(5, 3, padding="same", activation="relu", name="target")(inp)
        pooled = L.GlobalAveragePooling2D()(a)
    else:
        inp = keras.Input((40, 2))
        a = L.Conv1D(5, 3, activation="relu", name="target")(inp)
        pooled = L.GlobalAveragePooling1D()(a)
    out = L.Dense(4, activation="softmax", name="head")(pooled)  # softmax: Grad-CAM strips it
    return keras.Model(inp, out)


@pytest.mark.parametrize("rank", [1, 2])
def test_float_gradcam_matches_the_closed_form(rank):
    from drip_tiny.tf_seam import keras

    model = _model(rank)
    x = np.random.default_rng(0).normal(size=(6, *model.inputs[0].shape[1:])).astype(np.float32)
    cam = FloatGradCam(model, "target")
    logits, predicted, maps, grads = cam.maps(x)
    a = keras.Model(model.inputs, model.get_layer("target").output)(x).numpy()
    w, b = model.get_layer("head").get_weights()
    n = np.prod(a.shape[1:-1])
    expected_logits = a.reshape(len(a), -1, a.shape[-1]).mean(axis=1) @ w + b
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-5, atol=1e-6)  # pre-softmax
    np.testing.assert_array_equal(predicted, expected_logits.argmax(axis=1))
    for i, c in enumerate(predicted):
        np.testing.assert_allclose(grads[i], np.broadcast_to(w[:, c] / n, a[i].shape), rtol=1e-5)
        expected_map = np.maximum((a[i] * (w[:, c] / n)).sum(axis=-1), 0)
        np.testing.assert_allclose(maps[i], expected_map, rtol=1e-4, atol=1e-7)
    scores = cam.score(x, "minmax")
    np.testing.assert_allclose(scores.drips, drips_from_float_map(maps, "minmax", cam.resize_weights))
    assert cam.map_shape == a.shape[1:-1]
