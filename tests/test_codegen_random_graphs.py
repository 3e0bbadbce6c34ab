"""The seeded random-model generator (codegen_random_graphs.py): what its seeds cover, a few
of its models compiled and compared with TFLM's interpreter bit for bit in every run, and
that benchmarks/codegen_random.json (all 300, `python benchmarks/codegen_random.py`) is what
this generator makes."""

import json
from collections import Counter
from pathlib import Path

import codegen_models as cm
import codegen_random_graphs as graphs
import numpy as np
import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "codegen_random.json"
CI_SEEDS = range(10)
COVERAGE_SEEDS = range(300)


@pytest.fixture(scope="module")
def codegen_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("codegen-random-cache")


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_a_random_model_equals_tflm_bit_for_bit(seed, codegen_cache):
    result = graphs.compare_with_tflm(graphs.random_model(seed), cache_dir=codegen_cache)
    assert result["values"] > 0
    assert result["differing"] == 0, result


def _features(seeds) -> Counter:
    total = Counter()
    for seed in seeds:
        total.update(graphs.random_model(seed).features)
    return total


def test_the_seeds_cover_every_supported_op_and_option():
    from drip_tiny.codegen.ops import supported_ops

    features = _features(COVERAGE_SEEDS)
    ops = {f for f in features if " " not in f}
    assert ops == set(supported_ops())
    assert sorted(graphs.REQUIRED_FEATURES - graphs.covered(features)) == []


def test_a_seed_always_gives_the_same_model():
    first, again = graphs.random_model(17), graphs.random_model(17)
    assert first.data == again.data and first.features == again.features
    assert graphs.random_model(18).data != first.data


def test_the_committed_benchmark_is_what_this_generator_makes():
    """Change the generator and benchmarks/codegen_random.json must be made again."""
    result = json.loads(BENCHMARK.read_text())
    features = _features(range(result["models"]))
    assert result["options"] == {f: n for f, n in sorted(features.items()) if " " in f}
    assert {op: c["operators"] for op, c in result["ops"].items()} == {
        f: n for f, n in features.items() if " " not in f and not f.startswith("model")}


def test_an_omitted_depthwise_bias_is_no_bias(codegen_cache):
    """The generator leaves out DEPTHWISE_CONV_2D with a -1 bias input because TFLM's
    interpreter crashes on it; the generated C must treat it as no bias."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from drip_tiny.codegen import HostModel

    rng = np.random.default_rng(5)
    opts = schema.DepthwiseConv2DOptionsT()
    opts.padding, opts.strideH, opts.strideW, opts.depthMultiplier = 0, 1, 2, 2
    tensors = [{"shape": [1, 5, 6, 3], "dtype": "INT8", "scale": 0.05, "zero_point": 3},
               {"shape": [1, 3, 2, 6], "dtype": "INT8", "scale": rng.uniform(0.01, 0.03, 6),
                "zero_point": np.zeros(6, np.int64), "quantized_dimension": 3,
                "data": rng.integers(-127, 128, (1, 3, 2, 6)).astype(np.int8)},
               {"shape": [1, 5, 3, 6], "dtype": "INT8", "scale": 0.1, "zero_point": -5}]
    two = HostModel(cm.flatbuffer(tensors, [("DEPTHWISE_CONV_2D", [0, 1], [2], opts)], [0], [2]),
                    cache_dir=codegen_cache)
    omitted = HostModel(cm.flatbuffer(tensors, [("DEPTHWISE_CONV_2D", [0, 1, -1], [2], opts)],
                                      [0], [2]), cache_dir=codegen_cache)
    for x in cm.test_inputs((1, 5, 6, 3), rng):
        expected = two.run(x)[0]
        assert len(np.unique(expected)) > 1
        assert np.array_equal(omitted.run(x)[0], expected)


def _benchmark_module(monkeypatch):
    import importlib.util
    import sys

    script = BENCHMARK.with_suffix(".py")
    spec = importlib.util.spec_from_file_location("bench_codegen_random", script)
    module = importlib.util.module_from_spec(spec)
    # The worker process finds the module's functions by name (forked, it shares sys.modules).
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_script_writes_its_table(monkeypatch, tmp_path):
    module = _benchmark_module(monkeypatch)
    assert module.main(["--models", "2", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "codegen_random.json").read_text())
    assert result["models"] == result["bit_exact"] == 2 and result["failures"] == []
    assert result["max_abs_diff"] == 0 and result["values_compared"] > 0
    assert "**2 of 2 models bit-exact**" in (tmp_path / "codegen_random.md").read_text()


def _crash_on_seed_one(seed, cache):
    import faulthandler
    import os
    import signal

    if seed == 1:
        faulthandler.disable()  # pytest's handler would print this process's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    return _real_compare(seed, cache)


_real_compare = None


def test_a_model_that_crashes_is_reported_with_its_seed(monkeypatch, tmp_path):
    global _real_compare
    module = _benchmark_module(monkeypatch)
    _real_compare = module._compare
    monkeypatch.setattr(module, "_compare", _crash_on_seed_one)
    assert module.main(["--models", "3", "--out", str(tmp_path)]) == 1
    result = json.loads((tmp_path / "codegen_random.json").read_text())
    assert [f["seed"] for f in result["failures"]] == [1]
    assert "crashed" in result["failures"][0]["error"]
    assert result["bit_exact"] == 2  # the models after the crash still ran
    assert "seed 1 (" in (tmp_path / "codegen_random.md").read_text()
