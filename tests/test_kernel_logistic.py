"""dt_logistic_s8 against TFLM's int8 LOGISTIC, output for output, on every int8 input.

The reference is TFLM's interpreter (tflite-micro), run on single-op models written with
the flatbuffer schema (any input scale and zero point) and on models from the real
converter. The kernel runs as a shared library via ctypes with the parameters
drip_tiny.codegen.ops.logistic.prepare() derives.
"""

import ctypes
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

from drip_tiny.codegen.ops import logistic
from drip_tiny.errors import DripTinyError, QuantizationError
from drip_tiny.tflite.flatbuffer import read_model

ZERO_POINTS = [-128, -50, 0, 17, 127]
# From the smallest scale prepare() accepts to scales whose radius is 1 (4.0 .. 8.0) and 0
# (8 and up: every input saturates, the zero point itself to -128, as in TFLM).
EDGE_SCALES = [2.0**-27, 1e-7, 1e-3, 1 / 256, 0.02, 0.05, 0.1, 0.5, 1.0, 4.0, 7.9, 8.0, 10.0,
               100.0]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    lib = build_shared("dt_logistic_s8.c", tmp_path_factory.mktemp("logistic"))
    lib.dt_logistic_s8.argtypes = [INT8_P, *[ctypes.c_int32] * 5, INT8_P]
    lib.dt_logistic_s8.restype = None

    def run(x: np.ndarray, params: dict, out: np.ndarray | None = None) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int8)
        y = np.empty_like(x) if out is None else out
        lib.dt_logistic_s8(int8_pointer(x), x.size, params["input_zero_point"],
                           params["input_range_radius"], params["input_multiplier"],
                           params["input_left_shift"], int8_pointer(y))
        return y

    return run


def check_against_tflm(kernel, scale: float, zero_point: int, shape=(256,)) -> int:
    """Every int8 value (repeated to fill shape) through TFLM and the kernel; returns the
    number of outputs compared."""
    x = np.resize(all_int8_values(), shape)
    params = logistic.prepare(scale, zero_point, 1 / 256, -128)
    expected = tflm_run(single_op_model("LOGISTIC", (1, *shape), scale, zero_point), x)
    np.testing.assert_array_equal(kernel(x, params), expected,
                                  err_msg=f"scale={scale!r} zero_point={zero_point} {params}")
    return x.size


@pytest.mark.parametrize("zero_point", ZERO_POINTS)
def test_every_int8_input_matches_tflm_at_edge_scales(kernel, zero_point):
    for scale in EDGE_SCALES:
        check_against_tflm(kernel, scale, zero_point)


def test_every_int8_input_matches_tflm_at_random_float32_scales(kernel):
    rng = np.random.default_rng(17)
    compared = 0
    for _ in range(300):
        scale = float(np.float32(np.exp(rng.uniform(np.log(1e-4), np.log(20)))))
        compared += check_against_tflm(kernel, scale, int(rng.integers(-128, 128)))
    assert compared == 300 * 256


def test_any_shape_is_element_wise(kernel):
    check_against_tflm(kernel, 0.06, 3, shape=(3, 5, 100))
    check_against_tflm(kernel, 0.06, 3, shape=(1,))


def test_in_place(kernel):
    x = all_int8_values()
    params = logistic.prepare(0.03, -10, 1 / 256, -128)
    expected = kernel(x, params)
    buffer = x.copy()
    kernel(buffer, params, out=buffer)
    np.testing.assert_array_equal(buffer, expected)


def test_saturation_and_symmetry(kernel):
    """Large inputs saturate; sigmoid(0) is exactly 1/2 (0 in the output's int8)."""
    params = logistic.prepare(0.1, 0, 1 / 256, -128)
    y = kernel(np.array([-128, 0, 127], np.int8), params)
    assert y.tolist() == [-128, 0, 127]


@pytest.mark.parametrize("name, ops", [("sigmoid", ("LOGISTIC",)),
                                       ("dense_sigmoid", ("FULLY_CONNECTED", "LOGISTIC"))])
def test_converted_models(kernel, name, ops):
    model = converted_model(name)
    info = read_model(model)
    assert info.op_names == ops
    op = info.operators[-1]
    inp, out = info.tensors[op.inputs[0]], info.tensors[op.outputs[0]]
    assert (inp.dtype, out.dtype, out.zero_point) == ("INT8", "INT8", -128)
    params = logistic.prepare(inp.scale, inp.zero_point, out.scale, out.zero_point)
    if ops == ("LOGISTIC",):  # the model input is the logistic input: run it as converted
        x = np.resize(all_int8_values(), (26, 10))
        for sample in x:
            np.testing.assert_array_equal(kernel(sample, params), tflm_run(model, sample))
    else:  # the logistic input is the dense output: TFLM on its quantization
        check_against_tflm(kernel, inp.scale, inp.zero_point)


def test_prepare_values():
    # float32(0.05) * 2^27 = 0.8 * 2^23 (frexp), radius floor(15 * 2^27 / 2^23) = 240.
    assert logistic.prepare(0.05, -3, 1 / 256, -128) == {
        "input_zero_point": -3, "input_range_radius": 240, "input_multiplier": 1717986944,
        "input_left_shift": 23}
    assert logistic.prepare(1 / 256, 0, 1 / 256, -128)["input_multiplier"] == 2**30
    assert logistic.prepare(10.0, 0, 1 / 256, -128)["input_range_radius"] == 0


@pytest.mark.parametrize("kwargs, words", [
    ({"output_scale": 1 / 128}, "scale 1/256"),
    ({"output_zero_point": 0}, "zero point -128"),
    ({"input_scale": 2.0**-28}, "at least 2^-27"),
    ({"input_scale": float("inf")}, "finite"),
    ({"input_scale": "x"}, "not a number"),
    ({"input_zero_point": -129}, "int8"),
])
def test_prepare_refuses(kwargs, words):
    args = {"input_scale": 0.1, "input_zero_point": 0, "output_scale": 1 / 256,
            "output_zero_point": -128, **kwargs}
    with pytest.raises(QuantizationError, match="LOGISTIC") as info:
        logistic.prepare(**args)
    assert words in str(info.value)
    assert isinstance(info.value, DripTinyError)


def test_cost_and_name():
    assert logistic.macs((2, 10)) == 19 * 20 and logistic.C_FUNCTION == "dt_logistic_s8"


SANITIZE_DRIVER = r"""
#include <stdio.h>
#include "dt_logistic_s8.h"
int main(void)
{
    long zero_point, radius, multiplier, shift, count = 0;
    int8_t in[256], out[256];
    for (int i = 0; i < 256; ++i) in[i] = (int8_t)(i - 128);
    while (scanf("%ld %ld %ld %ld", &zero_point, &radius, &multiplier, &shift) == 4) {
        dt_logistic_s8(in, 256, (int32_t)zero_point, (int32_t)radius, (int32_t)multiplier,
                       (int32_t)shift, out);
        count += 256;
    }
    printf("%ld\n", count);
    return 0;
}
"""


def test_no_undefined_behaviour_at_parameter_extremes(tmp_path):
    """Every int8 input at the smallest and largest scales prepare() accepts (shift 1 to
    well over 31) and every zero point extreme, under UBSan and ASan."""
    rng = np.random.default_rng(9)
    scales = [2.0**-27, 2.0**-26, 7.99, 8.0, 16.0, 1e6,
              *np.exp(rng.uniform(np.log(2.0**-27), np.log(1000), 100))]
    lines = []
    for scale in scales:
        for zero_point in (-128, 0, 127):
            p = logistic.prepare(float(scale), zero_point, 1 / 256, -128)
            lines.append(f"{zero_point} {p['input_range_radius']} {p['input_multiplier']} "
                         f"{p['input_left_shift']}")
    shifts = {int(line.split()[3]) for line in lines}
    assert min(shifts) == 1 and max(shifts) > 31
    count = run_sanitized(SANITIZE_DRIVER, ["dt_logistic_s8.c"], "\n".join(lines), tmp_path)
    assert int(count) == len(lines) * 256


def test_prepare_does_not_import_tensorflow():
    """Export runs prepare() and must not pay TensorFlow's start-up."""
    code = ("import sys; import drip_tiny.codegen.ops.logistic; "
            "assert not {'tensorflow', 'tf_keras', 'keras'} & set(sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compiles_for_cortex_m4(tmp_path):
    compile_for_cortex_m4("dt_logistic_s8.c", tmp_path)
