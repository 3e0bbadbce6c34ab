"""HostModel (generated C, compiled for the host) against TFLM's interpreter, bit for bit,
on random models: random shapes, strides, paddings, dilations, depth multipliers,
activations, residual adds, broadcasts, paddings, means and requantizations, with random
inputs that include -128 and 127."""

import warnings

import codegen_models as cm
import numpy as np
import pytest

from drip_tiny.codegen import HostModel
from drip_tiny.tflite.tflm_reference import TflmModel

KERAS_SEEDS = range(4)
DILATED_SEEDS = range(6)
FLATBUFFER_SEEDS = range(12)


@pytest.fixture(scope="session")
def codegen_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("codegen-cache")


@pytest.fixture(scope="session")
def keras_models():
    """Converted once per session: {(kind, seed): (tflite bytes, input shape)}."""
    from drip_tiny.tf_seam import keras

    models = {}
    for kind, builder in cm.BUILDERS.items():
        for seed in KERAS_SEEDS:
            rng = np.random.default_rng([seed, len(kind)])
            keras.utils.set_random_seed(seed)  # the initial weights, for reproducible runs
            model, shape = builder(rng, keras)
            models[kind, seed] = cm.convert(model, shape, rng), shape
    for seed in DILATED_SEEDS:
        rng = np.random.default_rng([seed, 99])
        keras.utils.set_random_seed(seed)
        model, shape = cm.single_conv(rng, keras, depthwise=bool(seed % 2))
        data = cm.convert(model, shape, rng)
        dilations = [(int(rng.integers(1, 4)), int(rng.integers(1, 4))) for _ in range(5)]
        for dh, dw in dilations + [(1, 1)]:
            try:
                models["dilated", seed] = cm.dilate(data, dh, dw), shape
                break
            except ValueError:  # the dilated filter does not fit a VALID input
                continue
    return models


def assert_same_as_tflm(data: bytes, shape, rng, cache) -> HostModel:
    host = HostModel(data, cache_dir=cache)
    ref = TflmModel(data)
    for x in cm.test_inputs(tuple(shape), rng):
        ours, theirs = host.invoke(x), ref.invoke(x)
        assert len(ours) == len(theirs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b), (
                f"output {k} differs in {int((a != b).sum())} of {a.size} values; "
                f"ops {host.info.op_names}")
    return host


@pytest.mark.parametrize("kind", sorted(cm.BUILDERS) + ["dilated"])
def test_keras_models_match_tflm(kind, keras_models, codegen_cache):
    cases = {k: v for k, v in keras_models.items() if k[0] == kind}
    assert cases
    for (_, seed), (data, shape) in sorted(cases.items()):
        assert_same_as_tflm(data, shape, np.random.default_rng(seed), codegen_cache)


def test_random_models_cover_the_ops_and_options(keras_models):
    from drip_tiny.tflite.flatbuffer import read_model

    ops, dilated, multipliers = set(), False, set()
    for data, _ in keras_models.values():
        info = read_model(data)
        ops.update(info.op_names)
        for op in info.operators:
            dilated |= op.options.get("dilationHFactor", 1) > 1 or op.options.get(
                "dilationWFactor", 1) > 1
            if op.name == "DEPTHWISE_CONV_2D":
                multipliers.add(op.options["depthMultiplier"])
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D",
            "AVERAGE_POOL_2D", "MEAN", "ADD", "PAD", "RESHAPE", "EXPAND_DIMS"} <= ops
    assert dilated and len(multipliers) > 1


@pytest.mark.parametrize("seed", FLATBUFFER_SEEDS)
def test_broadcast_add_matches_tflm(seed, codegen_cache):
    rng = np.random.default_rng(seed)
    data, shape = cm.broadcast_add(rng)
    assert_same_as_tflm(data, shape[1:], rng, codegen_cache)


@pytest.mark.parametrize("seed", FLATBUFFER_SEEDS)
def test_pad_mean_requantize_match_tflm(seed, codegen_cache):
    rng = np.random.default_rng(seed)
    data, shape = cm.pad_mean_requantize(rng)
    assert_same_as_tflm(data, shape[1:], rng, codegen_cache)


@pytest.mark.parametrize("seed", range(4))
def test_a_kept_intermediate_tensor_is_readable_after_invoke(seed, codegen_cache):
    """`keep` pins an inner activation (here PAD's output, which MEAN consumes) to the end."""
    from drip_tiny.tflite.flatbuffer import read_model

    rng = np.random.default_rng(seed)
    data, shape = cm.pad_mean_requantize(rng)
    pad = read_model(data).operators[0]
    info = read_model(data)
    paddings = info.tensors[pad.inputs[1]].data
    value = (int(info.tensors[pad.inputs[2]].data) if len(pad.inputs) > 2
             else info.tensors[pad.outputs[0]].zero_point)
    host = HostModel(data, keep=[pad.outputs[0]], cache_dir=codegen_cache)
    x = cm.test_inputs(shape[1:], rng)[2].reshape(shape)
    host.invoke(x)
    assert np.array_equal(host.kept(0), np.pad(x, paddings, constant_values=value))


@pytest.mark.parametrize("seed", FLATBUFFER_SEEDS)
def test_fully_connected_and_per_tensor_conv_match_tflm(seed, codegen_cache):
    rng = np.random.default_rng(seed)
    for maker in (cm.fully_connected, cm.per_tensor_conv):
        data, shape = maker(rng)
        host = assert_batched_same_as_tflm(data, shape, rng, codegen_cache)
        assert host.info.op_names in (("FULLY_CONNECTED",), ("CONV_2D",))


def assert_batched_same_as_tflm(data: bytes, shape, rng, cache) -> HostModel:
    """For models whose batch is not 1: compare the whole output tensors."""
    from tflite_micro.python.tflite_micro import runtime

    host = HostModel(data, cache_dir=cache)
    ref = runtime.Interpreter.from_bytes(data)
    for x in cm.test_inputs(tuple(shape), rng):
        ref.set_input(x, 0)
        ref.invoke()
        assert np.array_equal(host.run(x)[0], ref.get_output(0))
    return host


@pytest.mark.parametrize("seed", FLATBUFFER_SEEDS)
def test_standalone_relu_and_relu6_match_tflm(seed, codegen_cache):
    rng = np.random.default_rng(seed)
    data, shape = cm.standalone_activation(rng)
    assert_same_as_tflm(data, shape[1:], rng, codegen_cache)


def test_float_edges_quantize_and_dequantize_like_tflm(codegen_cache):
    """A model with float32 input and output: QUANTIZE and DEQUANTIZE at the edges."""
    from tflite_micro.python.tflite_micro import runtime

    from drip_tiny.tf_seam import keras, tf

    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(7)
    inputs = keras.Input((6, 5, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    calibration = rng.standard_normal((32, 6, 5, 2)).astype(np.float32)
    converter.representative_dataset = lambda: ([s[None]] for s in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # float input: no input statistics
        data = converter.convert()
    host = HostModel(data, cache_dir=codegen_cache)
    assert host.info.op_names[0] == "QUANTIZE" and host.info.op_names[-1] == "DEQUANTIZE"
    ref = runtime.Interpreter.from_bytes(data)
    samples = rng.standard_normal((8, 1, 6, 5, 2)).astype(np.float32) * 3
    samples[0] = 1e4  # saturates at 127
    samples[1] = -1e4  # and at -128
    for x in samples:
        ref.set_input(x, 0)
        ref.invoke()
        expected = ref.get_output(0)[0]
        got = host.invoke(x)[0]
        assert got.dtype == np.float32
        assert np.array_equal(got.view(np.int32), expected.view(np.int32))


def test_in_place_and_alias_reuse_memory(keras_models, codegen_cache):
    """RESHAPE-like ops and dying ADD inputs share buffers, and outputs overlap the inputs
    they consume, so the arena is never larger than TFLM's activation plan for the same
    model, and usually smaller than any plan at tensor granularity (the models above were
    checked bit for bit with these plans)."""
    below = 0
    for (kind, seed), (data, _shape) in sorted(keras_models.items()):
        host = HostModel(data, cache_dir=codegen_cache)
        assert host.arena_bytes <= TflmModel(data).arena_usage().head, (kind, seed)
        below += host.arena_bytes < host.program.tensor_bound
    assert below >= len(keras_models) // 2


def test_keeping_the_input_preserves_the_sample(keras_models, codegen_cache):
    """The device stores kept samples after inference: keep=[input] pins the input buffer,
    which is otherwise reused (as TFLM reuses it)."""
    data, shape = keras_models["conv1d", 0]
    plain = HostModel(data, cache_dir=codegen_cache)
    kept = HostModel(data, keep=[plain.info.inputs[0].name], cache_dir=codegen_cache)
    x = cm.test_inputs(tuple(shape), np.random.default_rng(0))[3]
    assert np.array_equal(kept.invoke(x)[0], plain.invoke(x)[0])
    assert np.array_equal(kept.kept(0)[0], x)
    assert kept.arena_bytes >= plain.arena_bytes
