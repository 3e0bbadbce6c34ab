"""int8 Grad-CAM: the integer head gradient equals the float gradient of the dequantized head.

Each test model is built here, converted to full int8 by the TFLite converter, and its head
rebuilt in float64 TensorFlow from the .tflite's own dequantized weights. Where the float and
int8 heads take the same ReLU branches, dy_c/dA must agree to float precision.
"""

import numpy as np
import pytest

from drip_tiny.drip import Int8GradCam
from drip_tiny.drip.variants import drips_from_float_map
from drip_tiny.errors import ModelError
from drip_tiny.tflite.flatbuffer import ACTIVATIONS, PADDINGS


def _build(kind):
    from drip_tiny.tf_seam import keras

    L = keras.layers
    keras.utils.set_random_seed(11)
    bias = keras.initializers.RandomNormal(stddev=0.3, seed=4)
    if kind == "conv1d":
        inp = keras.Input((64, 2))
        target = L.Conv1D(8, 5, activation="relu", name="target")(inp)
        x = L.MaxPooling1D(2)(target)
        x = L.GlobalAveragePooling1D()(x)
        x = L.Dense(6, activation="relu", bias_initializer=bias)(x)
        logits = L.Dense(3)(x)
    else:
        size = 7 if kind == "avgpool_same" else 8
        inp = keras.Input((size, size, 2))
        target = L.Conv2D(6, 3, padding="same", activation="relu", name="target")(inp)
        if kind == "gap_dense":
            x = L.GlobalAveragePooling2D()(target)
        elif kind == "gap_mlp":
            x = L.GlobalAveragePooling2D()(target)
            x = L.Dense(7, activation="relu", bias_initializer=bias)(x)
        elif kind == "maxpool_flatten":
            x = L.Flatten()(L.MaxPooling2D(2)(target))
        elif kind == "avgpool_same":
            x = L.Flatten()(L.AveragePooling2D(2, padding="same")(target))
            x = L.Dense(6, activation="relu6", bias_initializer=bias)(x)
            x = L.Dropout(0.3)(x)
        elif kind == "global_max":
            x = L.GlobalMaxPooling2D()(target)
        elif kind == "avg_then_max":  # pools deeper in the head, overlapping max windows
            x = L.AveragePooling2D(2)(target)
            x = L.MaxPooling2D(2, strides=1, padding="same")(x)
            x = L.Dense(6, activation="relu", bias_initializer=bias)(L.Flatten()(x))
        elif kind == "max_then_gmp":
            x = L.GlobalMaxPooling2D()(L.MaxPooling2D(2)(target))
        elif kind == "max_then_mean":
            x = L.GlobalAveragePooling2D()(L.MaxPooling2D(2)(target))
        elif kind == "tanh_head":
            x = L.Dense(6, activation="tanh")(L.GlobalAveragePooling2D()(target))
        elif kind == "conv_in_head":
            x = L.GlobalAveragePooling2D()(L.Conv2D(4, 3, activation="relu")(target))
        logits = L.Dense(5, bias_initializer=bias)(x)
    return keras.Model(inp, [logits, target])


_CACHE = {}


def _converted(kind):
    if kind not in _CACHE:
        from drip_tiny.train.quantize import convert_int8

        model = _build(kind)
        rng = np.random.default_rng(5)
        calib = rng.normal(size=(64, *model.inputs[0].shape[1:])).astype(np.float32)
        _CACHE[kind] = convert_int8(model, calib)
    return _CACHE[kind]


def _float_head(cam, q_target, cls):
    """dy_c/dA of the dequantized head in float64 TF, and the ReLU masks it took."""
    from drip_tiny.tf_seam import tf

    t = cam.target
    a = tf.constant((q_target.astype(np.float64) - t.zero_point) * t.scale)
    masks = []
    with tf.GradientTape() as tape:
        tape.watch(a)
        x = a
        for step in cam.head.steps:
            op, out = step.op, step.data_out
            opts = op.options
            if op.name in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE", "QUANTIZE"):
                x = tf.reshape(x, out.shape)
            elif op.name == "MEAN":
                x = tf.reshape(tf.reduce_mean(x, axis=list(range(1, len(x.shape) - 1))), out.shape)
            elif op.name == "REDUCE_MAX":
                # reduce_max's gradient splits ties evenly; a window-sized max pool routes each
                # to one position, as the int8 path does. Grad-CAM's alpha (the per-channel
                # sum) is the same either way.
                x = tf.reshape(tf.nn.max_pool2d(x, x.shape[1:3], 1, "VALID"), out.shape)
            elif op.name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
                pool = tf.nn.max_pool2d if op.name == "MAX_POOL_2D" else tf.nn.avg_pool2d
                x = pool(x, (opts["filterHeight"], opts["filterWidth"]),
                         (opts["strideH"], opts["strideW"]), PADDINGS[opts["padding"]])
            elif op.name == "FULLY_CONNECTED":
                w = step.weights.astype(np.float64) * np.asarray(step.weight_scales)[:, None]
                b = 0.0  # the converter drops an all-zero bias (input index -1)
                if len(op.inputs) > 2 and op.inputs[2] >= 0:
                    b = (cam.info.tensors[op.inputs[2]].data.astype(np.float64)
                         * step.data_in.scale * np.asarray(step.weight_scales))
                x = tf.matmul(tf.reshape(x, (1, -1)), w.T) + b
                act = ACTIVATIONS[opts["fusedActivationFunction"]]
                if act == "RELU":
                    masks.append((x.numpy() > 0, step))
                    x = tf.nn.relu(x)
                elif act == "RELU6":
                    masks.append(((x.numpy() > 0) & (x.numpy() < 6), step))
                    x = tf.nn.relu6(x)
            else:
                raise AssertionError(op.name)
        y = x[0, cls]
    return tape.gradient(y, a).numpy(), masks


def _int8_mask(cam, step):
    from drip_tiny.drip.int8_head import _active

    return _active(step, {step.data_out.index: cam.tensor(step.data_out.index)}).astype(bool)


def _samples(cam, n=40):
    """Inputs from the calibration distribution, plus the all -128 and all 127 extremes."""
    from drip_tiny.tflite.tflm_reference import quantize

    rng = np.random.default_rng(9)
    shape = cam.input.shape[1:]
    x = quantize(rng.normal(size=(n, *shape)), cam.input.scale, cam.input.zero_point)
    x[0], x[1] = -128, 127
    return x


HEAD_KINDS = ["gap_dense", "gap_mlp", "maxpool_flatten", "avgpool_same", "global_max", "conv1d",
              "avg_then_max", "max_then_gmp", "max_then_mean"]


@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_int8_gradient_equals_float_gradient_of_dequantized_head(kind):
    cam = Int8GradCam(_converted(kind))
    deep_max = any(s.op.name in ("MAX_POOL_2D", "REDUCE_MAX") and s is not cam.head.first_op
                   for s in cam.head.steps)
    compared = 0
    for x in _samples(cam):
        predicted, _, grad, q_target = cam.gradient(x)
        expected, masks = _float_head(cam, q_target, predicted)
        if any(not np.array_equal(m, _int8_mask(cam, step)) for m, step in masks):
            continue  # a hidden unit rounds across zero: the heads branch differently
        compared += 1
        got = grad.real()
        spatial = tuple(range(1, got.ndim - 1))
        np.testing.assert_allclose(got.sum(axis=spatial), expected.sum(axis=spatial), rtol=1e-6,
                                   atol=1e-7 * float(np.abs(expected).max() or 1.0))
        if not deep_max:
            # A max pool deeper in the head picks its maximum among int8 values (rounded by
            # the pool before it) and the float head among exact ones: the routes, hence the
            # per-position gradients, may differ; alpha (checked above) does not.
            np.testing.assert_allclose(got, expected, rtol=1e-6,
                                       atol=1e-7 * float(np.abs(expected).max() or 1.0))
        # And the integer map recipe gives the float Grad-CAM of the same activations.
        relu_map, constant, exponent = cam.map_from_tensors(q_target, grad)
        raw_scale = np.ldexp(constant, exponent)
        a = (q_target.astype(np.float64) - cam.target.zero_point) * cam.target.scale
        spatial = tuple(range(1, a.ndim - 1))
        alpha = expected.mean(axis=spatial, keepdims=True)
        float_map = np.maximum((alpha * a).sum(axis=-1), 0)[0]
        np.testing.assert_allclose(relu_map * raw_scale, float_map, rtol=1e-5,
                                   atol=1e-6 * float(float_map.max() or 1.0))
        for variant in ("raw", "max", "minmax"):
            from drip_tiny.drip.variants import drips_from_int_map

            assert drips_from_int_map(relu_map, variant, cam.resize_weights, constant,
                                      exponent) == \
                pytest.approx(drips_from_float_map(float_map[None], variant,
                                                   cam.resize_weights)[0], rel=1e-5, abs=1e-9)
    assert compared >= 30, f"only {compared} of 40 samples took the same ReLU branches"


def test_head_ops_are_read_from_the_tflite():
    assert Int8GradCam(_converted("conv1d")).head.op_names == [
        "EXPAND_DIMS", "MAX_POOL_2D", "RESHAPE", "MEAN", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    assert Int8GradCam(_converted("avgpool_same")).head.op_names == [
        "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    # A 7x7 map pooled 2x2 SAME has windows of 4, 2 and 1 values: L = lcm = 4.
    assert Int8GradCam(_converted("avgpool_same")).head.steps[0].lcm == 4


@pytest.mark.parametrize("kind, op", [("tanh_head", "TANH"), ("conv_in_head", "CONV_2D")])
def test_unsupported_head_is_refused_naming_the_op(kind, op):
    with pytest.raises(ModelError, match=f"cannot differentiate {op}"):
        Int8GradCam(_converted(kind))


def test_scores_are_deterministic_and_within_range():
    cam = Int8GradCam(_converted("gap_mlp"))
    x = _samples(cam, 12)
    first = cam.score(x, "minmax")
    again = cam.score(x, "minmax")
    np.testing.assert_array_equal(first.drips, again.drips)  # bit for bit
    assert np.all((first.drips >= 0) & (first.drips <= 1))
    assert np.all(cam.score(x, "max").drips <= 1)
