"""The int8 models `drip-tiny train` writes: types, the two outputs, TFLM agreement."""

import json

import numpy as np
import pytest

from drip_tiny.datasets import load_dataset
from drip_tiny.run.splits import Splits, split_arrays
from drip_tiny.tflite.flatbuffer import read_model
from drip_tiny.tflite.tflm_reference import TflmModel, predict_logits, quantize


def _meta(run):
    return json.loads((run / "metadata.json").read_text())


@pytest.mark.parametrize("fixture", ["digits_ptq_run", "digits_qat_run"])
def test_int8_in_and_out_with_target_as_second_output(fixture, request):
    run = request.getfixturevalue(fixture)
    info = read_model((run / "model.tflite").read_bytes())
    assert [t.dtype for t in info.inputs] == ["INT8"]
    assert [t.dtype for t in info.outputs] == ["INT8", "INT8"]
    int8 = _meta(run)["int8"]
    assert info.outputs[int8["logits_output"]].shape == (1, 10)
    assert info.outputs[int8["target_output"]].shape == (1, 8, 8, 32)
    assert set(info.op_names) == {"CONV_2D", "MEAN", "FULLY_CONNECTED"}
    # The exposed target is the very tensor the head reads (not a copy).
    target = info.outputs[int8["target_output"]]
    assert [op.name for op in info.consumers(target.index)] == ["MEAN"]
    assert int8["head_ops"] == ["MEAN", "FULLY_CONNECTED"]


def test_qat_run_records_its_mode(digits_qat_run):
    meta = _meta(digits_qat_run)
    assert meta["model"]["quantize"] == "qat" and meta["model"]["qat_epochs"] == 1


def test_recorded_int8_accuracy_is_what_tflm_gives(digits_ptq_run):
    run = digits_ptq_run
    meta = _meta(run)
    metrics = json.loads((run / "metrics.json").read_text())
    ds = load_dataset("digits")
    x_test, y_test = split_arrays(ds, Splits.load(run / "splits.npz"), "test")
    model = TflmModel((run / "model.tflite").read_bytes())
    logits = predict_logits(model, x_test, meta["int8"]["logits_output"])
    accuracy = float(np.mean(np.argmax(logits.astype(int), -1) == y_test))
    assert accuracy == pytest.approx(metrics["int8_test_accuracy"], abs=1e-12)
    assert metrics["test_samples"] == len(y_test) == meta["split"]["sizes"]["test"]


def test_quantized_input_matches_recorded_parameters(digits_ptq_run):
    inp = _meta(digits_ptq_run)["int8"]["input"]
    assert inp["dtype"] == "int8" and inp["shape"] == [1, 8, 8, 1]
    # Digits pixels lie in [0, 1]: 0 must map to the bottom of the int8 range, 1 to the top.
    q = quantize(np.array([0.0, 1.0]), inp["scale"], inp["zero_point"])
    assert q[0] <= -127 and q[1] >= 126


def test_quantize_rounds_half_away_from_zero():
    np.testing.assert_array_equal(quantize(np.array([0.5, 1.5, -0.5, -1.5, 2.4999]), 1.0, 0),
                                  [1, 2, -1, -2, 2])
    np.testing.assert_array_equal(quantize(np.array([1000.0, -1000.0]), 1.0, 0), [127, -128])


def test_audio_model_is_the_paper_cnn_with_int8_target(speech_run):
    meta = _meta(speech_run)
    info = read_model((speech_run / "model.tflite").read_bytes())
    assert meta["model"]["architecture"] == "cnn1d" and meta["model"]["target_layer"] == "relu4"
    assert meta["dataset"]["class_names"] == ["go", "no", "yes"]  # sorted folder names
    assert info.inputs[0].shape == (1, 16000, 1)
    target = info.outputs[meta["int8"]["target_output"]]
    assert len(target.shape) == 3 and target.shape[-1] == 64  # (1, steps, channels)
    assert info.op_names.count("CONV_2D") == 4 and "EXPAND_DIMS" in info.op_names
    assert meta["int8"]["head_ops"][-2:] == ["FULLY_CONNECTED", "FULLY_CONNECTED"]
    arena = json.loads((speech_run / "metrics.json").read_text())["tflm_arena_bytes"]
    # Fits the nRF52840's 256 KB RAM with room for firmware and the sample store.
    assert arena["head"] <= 128 * 1024


def test_tflm_arena_is_read_from_its_report(digits_ptq_run):
    model = TflmModel((digits_ptq_run / "model.tflite").read_bytes())
    model.invoke(np.zeros((8, 8, 1), np.int8))
    usage = model.arena_usage()
    # Activations of the digits CNN: the 8x8x16 and 8x8x32 maps can't share memory.
    assert usage.head >= 8 * 8 * (16 + 32) and usage.total == usage.head + usage.tail
