"""dt_softmax_s8 against TFLM's int8 SOFTMAX, output for output.

The reference is TFLM's interpreter (tflite-micro), run on single-op models written with
the flatbuffer schema, so any input scale, zero point, beta and row length can be tried,
and on models from the real converter. The kernel runs as a shared library via ctypes with
the parameters drip_tiny.codegen.ops.softmax.prepare() derives.
"""

import ctypes
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_harness import (
    INT8_P,
    all_int8_values,
    build_shared,
    compile_for_cortex_m4,
    converted_model,
    int8_pointer,
    run_sanitized,
    single_op_model,
    tflm_run,
)

from drip_tiny.codegen.ops import softmax
from drip_tiny.codegen.ops._tflm_scaling import quantize_multiplier
from drip_tiny.errors import DripTinyError, QuantizationError
from drip_tiny.tflite.flatbuffer import read_model

INPUT_SCALES = [1e-4, 0.003, 0.0625, 0.1, 0.37, 1.0, 3.0, 40.0]  # 40: multiplier capped
BETAS = [1.0, 0.3, 2.0, 10.0]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    lib = build_shared("dt_softmax_s8.c", tmp_path_factory.mktemp("softmax"))
    lib.dt_softmax_s8.argtypes = [INT8_P, *[ctypes.c_int32] * 5, INT8_P]
    lib.dt_softmax_s8.restype = None

    def run(x: np.ndarray, params: dict, out: np.ndarray | None = None) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int8)
        y = np.empty_like(x) if out is None else out
        lib.dt_softmax_s8(int8_pointer(x), int(np.prod(x.shape[:-1])), x.shape[-1],
                          params["input_multiplier"], params["input_left_shift"],
                          params["diff_min"], int8_pointer(y))
        return y

    return run


def rows_for(depth: int, rng) -> np.ndarray:
    """Random rows plus the edges: all -128 but one 127, all equal, all near the top, and
    every int8 value when the row is long enough."""
    rows = rng.integers(-128, 128, size=(24, depth)).astype(np.int8)
    rows[0] = -128
    rows[0, depth // 2] = 127
    rows[1] = 0
    rows[2] = rng.integers(118, 128, size=depth)
    rows[3] = 127
    rows[4] = -128
    if depth >= 256:
        rows[5, :256] = all_int8_values()
        rows[6, -256:] = all_int8_values()[::-1]
    return rows


def tflm_can_run(x: np.ndarray, scale: float, beta: float) -> bool:
    """TFLM aborts the whole process (TFLITE_CHECK) on a row whose sum of exponentials
    reaches 512; keep test data well below that."""
    diff = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
    return bool(np.all(np.exp(diff * scale * beta).sum(axis=-1) < 480))


@pytest.mark.parametrize("depth", [1, 2, 10, 100, 256, 300])
def test_matches_tflm_across_scales_and_betas(kernel, depth):
    rng = np.random.default_rng(depth)
    compared = 0
    for scale in INPUT_SCALES:
        for beta in BETAS:
            zero_point = int(rng.integers(-128, 128))
            x = rows_for(depth, rng)
            if not tflm_can_run(x, scale, beta):
                x = x[:, :2]  # short rows cannot reach a sum of 512
            params = softmax.prepare(scale, zero_point, 1 / 256, -128, beta=beta)
            model = single_op_model("SOFTMAX", (1, *x.shape), scale, zero_point, beta=beta)
            expected = tflm_run(model, x)
            np.testing.assert_array_equal(kernel(x, params), expected,
                                          err_msg=f"scale={scale} beta={beta} {params}")
            compared += x.size
    assert compared >= 24 * min(depth, 2) * len(INPUT_SCALES) * len(BETAS)


def test_matches_tflm_for_random_float32_scales_and_betas(kernel):
    """Scales and betas with arbitrary mantissas exercise the multiplier's rounding."""
    rng = np.random.default_rng(11)
    for _ in range(120):
        scale = float(np.float32(np.exp(rng.uniform(np.log(1e-4), np.log(50)))))
        beta = float(np.float32(np.exp(rng.uniform(np.log(0.05), np.log(20)))))
        depth = int(rng.integers(1, 200))
        x = rng.integers(-128, 128, size=(6, depth)).astype(np.int8)
        x[0] = rng.integers(120, 128, size=depth)
        if not tflm_can_run(x, scale, beta):
            continue
        params = softmax.prepare(scale, 0, 1 / 256, -128, beta=beta)
        expected = tflm_run(single_op_model("SOFTMAX", (1, *x.shape), scale, 0, beta=beta), x)
        np.testing.assert_array_equal(kernel(x, params), expected,
                                      err_msg=f"scale={scale!r} beta={beta!r} {params}")


def test_long_rows_match_tflm(kernel):
    """Rows up to the 4095 limit, spread widely enough that TFLM can run them."""
    rng = np.random.default_rng(5)
    for depth in (1000, 4095):
        x = rng.integers(-128, 128, size=(3, depth)).astype(np.int8)
        assert tflm_can_run(x, 0.1, 1.0)
        params = softmax.prepare(0.1, -7, 1 / 256, -128)
        expected = tflm_run(single_op_model("SOFTMAX", (1, *x.shape), 0.1, -7, beta=1.0), x)
        np.testing.assert_array_equal(kernel(x, params), expected)


def test_in_place(kernel):
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, size=(5, 33)).astype(np.int8)
    params = softmax.prepare(0.05, 0, 1 / 256, -128)
    expected = kernel(x, params)
    buffer = x.copy()
    kernel(buffer, params, out=buffer)
    np.testing.assert_array_equal(buffer, expected)


def test_sum_of_512_ones_rounds_every_output_to_zero(kernel):
    """Where TFLM aborts (sum of exponentials >= 512), the kernel writes -128: every
    probability is at most 1/512, half an output step, and rounds to 0."""
    params = softmax.prepare(0.1, 0, 1 / 256, -128)
    for depth in (512, 600, 4095):
        assert np.all(kernel(np.zeros((2, depth), np.int8), params) == -128)
    # 511 equal values still have a representable answer, 1/511 -> one step: -127.
    assert np.all(kernel(np.zeros((1, 511), np.int8), params) == -127)


def test_tflm_aborts_on_a_sum_of_512():
    """Documents the TFLM behaviour the kernel departs from: 511 equal values run, 512 abort
    (checked in child processes, since the abort would take pytest down)."""
    tests = Path(__file__).resolve().parent

    def run_tflm(depth: int) -> int:
        code = ("import numpy as np; from kernel_harness import single_op_model, tflm_run; "
                f"tflm_run(single_op_model('SOFTMAX', (1, {depth}), 0.1, 0, beta=1.0), "
                f"np.zeros((1, {depth}), np.int8))")
        return subprocess.run([sys.executable, "-c", code], cwd=tests.parent, timeout=60,
                              capture_output=True,
                              env={"PYTHONPATH": f"{tests}:{tests.parent}"}).returncode

    assert run_tflm(511) == 0
    assert run_tflm(512) == -signal.SIGABRT


@pytest.mark.parametrize("name, shape", [("softmax", (10,)), ("softmax_3d", (4, 10))])
def test_converted_models_match_tflm_on_every_int8_value(kernel, name, shape):
    model = converted_model(name)
    info = read_model(model)
    assert info.op_names == ("SOFTMAX",)
    op = info.operators[0]
    inp, out = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
    assert (inp.dtype, out.dtype) == ("INT8", "INT8")
    params = softmax.prepare(inp.scale, inp.zero_point, out.scale, out.zero_point,
                             beta=op.options["beta"])
    rng = np.random.default_rng(2)
    values = np.resize(all_int8_values(), (26, 10))  # every int8 value at least once
    for sample in range(26):
        x = rng.integers(-128, 128, size=shape).astype(np.int8)
        x.reshape(-1)[:10] = values[sample]
        np.testing.assert_array_equal(kernel(x, params), tflm_run(model, x))


def test_dense_softmax_parameters_come_from_the_softmax_input(kernel):
    """In Dense -> Softmax the softmax input is the dense output: its own scale is the one to
    use, and TFLM on those parameters agrees with the kernel."""
    info = read_model(converted_model("dense_softmax"))
    assert info.op_names == ("FULLY_CONNECTED", "SOFTMAX")
    op = info.operators[1]
    inp, out = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
    assert inp.scale != info.inputs[0].scale
    params = softmax.prepare(inp.scale, inp.zero_point, out.scale, out.zero_point,
                             beta=op.options["beta"])
    x = rows_for(7, np.random.default_rng(4))
    model = single_op_model("SOFTMAX", (1, *x.shape), inp.scale, inp.zero_point, beta=1.0)
    np.testing.assert_array_equal(kernel(x, params), tflm_run(model, x))


def test_prepare_values():
    # float32(0.1) * 2^26 = 0.8 * 2^23: multiplier round(0.8 * 2^31), radius 31 * 2^3.
    assert softmax.prepare(0.1, 3, 1 / 256, -128) == {
        "input_multiplier": 1717986944, "input_left_shift": 23, "diff_min": -248}
    # beta * scale * 2^26 above 2^31 - 1 is capped: only the row maximum survives.
    assert softmax.prepare(100.0, 0, 1 / 256, -128) == {
        "input_multiplier": 2**31 - 1, "input_left_shift": 31, "diff_min": 0}
    assert softmax.prepare(0.1, 0, 1 / 256, -128, beta=2.0)["input_left_shift"] == 24


def test_multiplier_rounds_ties_away_from_zero():
    # q * 2^31 = 2^30 + 0.5 exactly: std::round gives 2^30 + 1 (Python's round(), 2^30).
    assert quantize_multiplier(2.0**30 + 0.5) == (2**30 + 1, 31)
    # A mantissa that rounds up to 2^31 becomes 2^30 with one more shift.
    assert quantize_multiplier(2.0**31 - 2.0**-30) == (2**30, 32)


@pytest.mark.parametrize("kwargs, words", [
    ({"output_scale": 1 / 255}, "scale 1/256"),
    ({"output_zero_point": 0}, "zero point -128"),
    ({"beta": 0.0}, "beta"),
    ({"beta": -1.0}, "beta"),
    ({"input_scale": 1e-9}, "too small"),
    ({"input_scale": 0.0}, "positive"),
    ({"input_scale": float("nan")}, "positive"),
    ({"input_zero_point": 200}, "int8"),
])
def test_prepare_refuses_what_tflm_refuses(kwargs, words):
    args = {"input_scale": 0.1, "input_zero_point": 0, "output_scale": 1 / 256,
            "output_zero_point": -128, **kwargs}
    beta = args.pop("beta", 1.0)
    with pytest.raises(QuantizationError, match="SOFTMAX") as info:
        softmax.prepare(**args, beta=beta)
    assert words in str(info.value)
    assert isinstance(info.value, DripTinyError)


def test_shape_and_cost():
    assert softmax.check_shape((1, 3, 10)) == (3, 10)
    assert softmax.check_shape((4095,)) == (1, 4095)
    with pytest.raises(QuantizationError, match="at most 4095"):
        softmax.check_shape((1, 4096))
    assert softmax.macs((1, 10)) > 10 and softmax.C_FUNCTION == "dt_softmax_s8"


SANITIZE_DRIVER = r"""
#include <stdio.h>
#include "dt_softmax_s8.h"
int main(void)
{
    long multiplier, shift, diff_min, count = 0;
    static int8_t in[4095], out[4095];
    static const int depths[] = {1, 2, 10, 256, 600, 4095};
    unsigned seed = 1;
    while (scanf("%ld %ld %ld", &multiplier, &shift, &diff_min) == 3) {
        for (int k = 0; k < 6; ++k) {
            const int depth = depths[k];
            for (int fill = 0; fill < 3; ++fill) {
                for (int i = 0; i < depth; ++i) {
                    seed = seed * 1103515245u + 12345u;
                    in[i] = fill == 0 ? (int8_t)(seed >> 16) : fill == 1 ? -128 : 127;
                }
                if (fill == 0 && depth >= 256) {
                    for (int i = 0; i < 256; ++i) in[i] = (int8_t)(i - 128);
                }
                dt_softmax_s8(in, 1, depth, (int32_t)multiplier, (int32_t)shift,
                              (int32_t)diff_min, out);
                count += depth;
            }
        }
    }
    printf("%ld\n", count);
    return 0;
}
"""


def test_no_undefined_behaviour_at_parameter_extremes(tmp_path):
    """Every shift and multiplier prepare() can produce, rows up to 4095 (including the
    sum >= 512 case TFLM aborts on), under UBSan and ASan."""
    rng = np.random.default_rng(9)
    scales = [2e-8, 2.0**-20, 1e-6, 100.0, 1e4,
              *np.exp(rng.uniform(np.log(1e-6), np.log(100), 100))]
    lines = []
    for scale in scales:
        for beta in (0.2, 1.0, 7.0):
            if scale * beta * 2**26 <= 1:  # refused by prepare, as by TFLM
                continue
            p = softmax.prepare(float(scale), 0, 1 / 256, -128, beta=beta)
            lines.append(f"{p['input_multiplier']} {p['input_left_shift']} {p['diff_min']}")
    shifts = {int(line.split()[1]) for line in lines}
    assert min(shifts) == 1 and max(shifts) == 31
    count = run_sanitized(SANITIZE_DRIVER, ["dt_softmax_s8.c"], "\n".join(lines), tmp_path)
    assert int(count) == len(lines) * 3 * (1 + 2 + 10 + 256 + 600 + 4095)


def test_prepare_does_not_import_tensorflow():
    """Export runs prepare() and must not pay TensorFlow's start-up."""
    code = ("import sys; import drip_tiny.codegen.ops.softmax; "
            "assert not {'tensorflow', 'tf_keras', 'keras'} & set(sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compiles_for_cortex_m4(tmp_path):
    compile_for_cortex_m4("dt_softmax_s8.c", tmp_path)
