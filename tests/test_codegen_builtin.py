"""The built-in models, as `drip-tiny train` writes them: generated C agrees with TFLM on
every output, the Grad-CAM target stays readable after invoke, and the memory report shows
our arena against the arena TFLM's interpreter needs."""

import json

import codegen_models as cm
import numpy as np
import pytest

from drip_tiny.codegen import HostModel, memory_report
from drip_tiny.codegen.report import arm_toolchain
from drip_tiny.run.directory import load_split
from drip_tiny.tflite.tflm_reference import TflmModel, quantize


def _check_run(run, cache, samples=40):
    data = (run / "model.tflite").read_bytes()
    int8 = json.loads((run / "metadata.json").read_text())["int8"]
    target = int8["target"]["name"]
    host = HostModel(data, keep=[target], cache_dir=cache)
    ref = TflmModel(data)
    inp = host.info.inputs[0]
    x_val, _ = load_split(run, "validation")
    real = quantize(x_val[:samples], inp.scale, inp.zero_point)
    rng = np.random.default_rng(0)
    for x in [*real, *cm.test_inputs(inp.shape[1:], rng)]:
        ours, theirs = host.invoke(x), ref.invoke(x)
        for a, b in zip(ours, theirs):
            assert np.array_equal(a, b)
        # The target activation, read through dt_model_keep after invoke, is the very
        # tensor TFLM outputs (and the head consumed).
        assert np.array_equal(host.kept(0)[0], theirs[int8["target_output"]])
    return host, ref


def test_builtin_image_model_matches_tflm(digits_ptq_run, tmp_path):
    host, _ref = _check_run(digits_ptq_run, tmp_path)
    # The target is consumed by the head and is a graph output: its buffer lives to the end.
    target_root = host.program.root[host.program.keep[0]]
    assert host.program.lifetimes[target_root][1] == len(host.program.steps) - 1


def test_builtin_audio_model_matches_tflm(speech_run, tmp_path):
    host, ref = _check_run(speech_run, tmp_path, samples=10)
    assert "EXPAND_DIMS" in host.info.op_names  # Conv1D, lowered through views
    assert host.arena_bytes < ref.arena_usage().head  # TFLM copies every RESHAPE


def test_memory_report_of_the_builtin_image_model(digits_ptq_run):
    data = (digits_ptq_run / "model.tflite").read_bytes()
    report = memory_report(data, code_size=arm_toolchain() is not None)
    tflm = TflmModel(data).arena_usage()
    assert (report.tflm_head_bytes, report.tflm_total_bytes) == (tflm.head, tflm.total)
    # Our whole RAM need is the arena; TFLM needs its activation plan plus bookkeeping.
    # Convolutions writing over their dying input take us below TFLM's activation plan,
    # which can never go below the tensor-level bound.
    assert report.arena_bytes < report.tensor_bound_bytes <= tflm.head < tflm.total
    assert report.weight_bytes > 0
    assert report.macs == sum(layer.macs for layer in report.layers) > 0
    assert [layer.op for layer in report.layers] == list(TflmModel(data).info.op_names)
    if report.code_bytes is not None:
        assert 0 < report.code_bytes < 16 * 1024
    text = report.format()
    assert f"arena (RAM)      {report.arena_bytes:,} bytes" in text
    assert f"TFLM arena       {tflm.head:,} bytes of activations" in text
    print("\n" + text)


def test_keep_names_an_unknown_tensor(digits_ptq_run):
    from drip_tiny.errors import CodegenError

    with pytest.raises(CodegenError, match="not in the model"):
        HostModel((digits_ptq_run / "model.tflite").read_bytes(), keep=["no such tensor"])
