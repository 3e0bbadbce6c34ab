"""DRIP score variants on hand-computed maps, and the precomputed mean of a bilinear resize."""

import numpy as np
import pytest

from drip_tiny.drip.variants import (
    check_variant,
    drips_from_float_map,
    drips_from_int_map,
    resize_mean_weights,
)
from drip_tiny.errors import ConfigError

UNIFORM_2x2 = resize_mean_weights((2, 2), (2, 2))


@pytest.mark.parametrize("cam, raw, mx, minmax", [
    ([[0, 2], [4, 2]], 2.0, 0.5, 0.5),
    ([[1, 3], [5, 3]], 3.0, 0.6, 0.5),      # min 1: minmax maps to (0, .5, 1, .5)
    ([[2, 2], [2, 2]], 2.0, 1.0, 0.0),      # constant map: minmax is 0 by definition
    ([[0, 0], [0, 0]], 0.0, 0.0, 0.0),      # all-zero map: max and minmax are 0
    ([[0, 0], [0, 8]], 2.0, 0.25, 0.25),
])
def test_variants_on_hand_computed_maps(cam, raw, mx, minmax):
    cam = np.array([cam], dtype=np.float64)
    assert drips_from_float_map(cam, "raw", UNIFORM_2x2)[0] == pytest.approx(raw)
    assert drips_from_float_map(cam, "max", UNIFORM_2x2)[0] == pytest.approx(mx)
    assert drips_from_float_map(cam, "minmax", UNIFORM_2x2)[0] == pytest.approx(minmax)
    ints = cam[0].astype(np.int64)
    assert drips_from_int_map(ints, "raw", UNIFORM_2x2, 1.0) == pytest.approx(raw)
    assert drips_from_int_map(ints, "max", UNIFORM_2x2, 1.0) == pytest.approx(mx)
    assert drips_from_int_map(ints, "minmax", UNIFORM_2x2, 1.0) == pytest.approx(minmax)


def test_hand_computed_axis_weights():
    # 2 -> 4 (half-pixel centres): outputs sample x = -0.25, 0.25, 0.75, 1.25; the outer two
    # clamp to the edge cells. Cell 0 gets 1 + 0.75 + 0.25 = 2 of 4 outputs.
    np.testing.assert_allclose(resize_mean_weights((2,), (4,)), [0.5, 0.5])
    # 3 -> 2: outputs sample x = 0.25 and 1.75: cell 0 gets .75, cell 1 .25 + .25, cell 2 .75
    np.testing.assert_allclose(resize_mean_weights((3,), (2,)), [0.375, 0.25, 0.375])
    # 3 -> 5: x = -0.2, 0.4, 1.0, 1.6, 2.2: cells get 1.6, 1.8, 1.6 of 5 outputs.
    np.testing.assert_allclose(resize_mean_weights((3,), (5,)), [0.32, 0.36, 0.32])
    # 2D weights are the outer product of the axes' weights.
    np.testing.assert_allclose(resize_mean_weights((3, 2), (5, 4)),
                               np.outer([0.32, 0.36, 0.32], [0.5, 0.5]))


@pytest.mark.parametrize("coarse, fine", [((8, 8), (8, 8)), ((7, 7), (28, 28)),
                                           ((3, 5), (13, 11)), ((2, 2), (5, 5)),
                                           ((4, 6), (3, 4)), ((31,), (16000,))])
def test_weights_equal_the_mean_of_an_actual_bilinear_resize(coarse, fine):
    from drip_tiny.tf_seam import tf

    rng = np.random.default_rng(0)
    maps = rng.uniform(0, 1, size=(4, *coarse))
    w = resize_mean_weights(coarse, fine)
    for m in maps:
        image = m.reshape(*coarse, 1) if len(coarse) == 2 else m.reshape(coarse[0], 1, 1)
        size = fine if len(fine) == 2 else (fine[0], 1)
        resized = tf.image.resize(image[None].astype(np.float64), size, method="bilinear",
                                  antialias=False).numpy()
        assert float(np.sum(w * m)) == pytest.approx(float(resized.mean()), abs=1e-6)  # TF float32


def test_int_recipe_matches_the_float_formula_on_scaled_maps():
    rng = np.random.default_rng(1)
    weights = resize_mean_weights((7, 7), (28, 28))
    for _ in range(20):
        ints = np.maximum(rng.integers(-2**20, 2**30, size=(7, 7)), 0)
        scale = float(rng.uniform(1e-9, 1e-3))
        for variant in ("raw", "max", "minmax"):
            expected = drips_from_float_map((ints * scale)[None], variant, weights)[0]
            # float32 on the integer path (the device's precision), float64 on the float path
            assert drips_from_int_map(ints, variant, weights, scale) == pytest.approx(expected,
                                                                                     rel=2e-6)


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ConfigError, match="raw, max, minmax"):
        check_variant("mean")
