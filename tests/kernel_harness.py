"""Shared by the int8 activation kernel tests: build a C kernel into a shared library and
call it through ctypes, and write single-operator int8 .tflite models directly with the
flatbuffer schema, so TFLM can be driven with any scale, zero point, beta and shape, without
the converter (which picks its own scales).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from drip_tiny.tflite.tflm_reference import TflmModel

KERNELS = Path(__file__).resolve().parent.parent / "firmware" / "kernels"
HOST_FLAGS = ["-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror"]
CORTEX_M4_FLAGS = ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb",
                   "-Wall", "-Wextra", "-Werror", "-O2", "-c"]

INT8_P = ctypes.POINTER(ctypes.c_int8)


def build_shared(source: str, out_dir: Path) -> ctypes.CDLL:
    """Compile firmware/kernels/<source> with the system cc, warnings as errors."""
    lib = out_dir / (Path(source).stem + ".so")
    subprocess.run(["cc", *HOST_FLAGS, "-o", str(lib), str(KERNELS / source)], check=True,
                   capture_output=True, text=True)
    return ctypes.CDLL(str(lib))


def compile_for_cortex_m4(source: str, out_dir: Path) -> None:
    """Compile with arm-none-eabi-gcc for the Cortex-M4F boards; skip when the toolchain is
    missing (a failure in CI: tests/conftest.py)."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi)")
    result = subprocess.run([gcc, *CORTEX_M4_FLAGS, "-o", str(out_dir / (Path(source).stem + ".o")),
                             str(KERNELS / source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def int8_pointer(array: np.ndarray):
    assert array.dtype == np.int8 and array.flags.c_contiguous
    return array.ctypes.data_as(INT8_P)


def single_op_model(op: str, shape: tuple[int, ...], input_scale: float, input_zero_point: int,
                    output_scale: float = 1 / 256, output_zero_point: int = -128,
                    beta: float | None = None) -> bytes:
    """A .tflite holding one int8 operator (SOFTMAX or LOGISTIC) from input to output."""
    model = schema.ModelT()
    model.version = 3
    model.description = f"drip-tiny test: single {op}"
    model.buffers = [schema.BufferT()]  # buffer 0: the empty sentinel every model starts with
    code = schema.OperatorCodeT()
    code.builtinCode = getattr(schema.BuiltinOperator, op)
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    code.version = 1
    model.operatorCodes = [code]

    def tensor(name: str, scale: float, zero_point: int):
        t = schema.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), schema.TensorType.INT8, 0
        t.quantization = schema.QuantizationParametersT()
        t.quantization.scale, t.quantization.zeroPoint = [scale], [zero_point]
        return t

    graph = schema.SubGraphT()
    graph.tensors = [tensor("input", input_scale, input_zero_point),
                     tensor("output", output_scale, output_zero_point)]
    graph.inputs, graph.outputs = [0], [1]
    operator = schema.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = 0, [0], [1]
    if beta is not None:
        operator.builtinOptionsType = schema.BuiltinOptions.SoftmaxOptions
        operator.builtinOptions = schema.SoftmaxOptionsT()
        operator.builtinOptions.beta = beta
    graph.operators = [operator]
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def tflm_run(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """TFLM's output for one int8 input laid out as the model's input (with its batch axis)."""
    model = TflmModel(model_bytes, arena_size=64 * 1024 + 4 * x.size)
    return model.invoke(x.reshape(model.info.inputs[0].shape))[0].reshape(x.shape)


def all_int8_values() -> np.ndarray:
    return np.arange(-128, 128, dtype=np.int16).astype(np.int8)


# --- models made by the real converter, cached for the session ------------------------------

_CONVERTED: dict[str, bytes] = {}


def converted_model(name: str) -> bytes:
    """A small full-integer int8 model from tf_keras and the TFLite converter, as the project
    converts (drip_tiny.train.quantize.convert_int8). Names: softmax, softmax_3d, dense_softmax,
    sigmoid, dense_sigmoid. Converted once per session (TensorFlow costs seconds to import)."""
    if name not in _CONVERTED:
        from drip_tiny.tf_seam import keras
        from drip_tiny.train.quantize import convert_int8

        rng = np.random.default_rng(7)
        shape = (4, 10) if name == "softmax_3d" else (10,)
        calibration = (rng.normal(size=(100, *shape)) * 3).astype(np.float32)
        x = keras.Input(shape)
        dense = keras.layers.Dense(7, kernel_initializer=keras.initializers.RandomNormal(seed=3))
        y = {"softmax": lambda: keras.layers.Softmax()(x),
             "softmax_3d": lambda: keras.layers.Softmax()(x),
             "dense_softmax": lambda: keras.layers.Softmax()(dense(x)),
             "sigmoid": lambda: keras.layers.Activation("sigmoid")(x),
             "dense_sigmoid": lambda: keras.layers.Activation("sigmoid")(dense(x))}[name]()
        _CONVERTED[name] = convert_int8(keras.Model(x, y, name=name), calibration)
    return _CONVERTED[name]


# --- undefined-behaviour check ----------------------------------------------------------------

SANITIZE_FLAGS = ["-std=c99", "-Wpedantic", "-Wall", "-Wextra", "-Wconversion", "-Wshadow",
                  "-Werror", "-O1", "-g", "-fsanitize=undefined,address",
                  "-fno-sanitize-recover=all"]


def run_sanitized(driver_c: str, sources: list[str], stdin: str, out_dir: Path) -> str:
    """Build driver_c with the kernel sources under UBSan and ASan (strict C99, extra
    warnings as errors), run it with stdin, return its stdout. Any undefined behaviour,
    such as a signed overflow or an over-wide shift, aborts the run."""
    driver = out_dir / "driver.c"
    driver.write_text(driver_c)
    exe = out_dir / "driver"
    build = subprocess.run(["cc", *SANITIZE_FLAGS, f"-I{KERNELS}", "-o", str(exe), str(driver),
                            *(str(KERNELS / s) for s in sources)], capture_output=True, text=True)
    if build.returncode != 0 and "cannot find" in build.stderr and "san" in build.stderr:
        pytest.skip(f"the sanitizer runtime is not installed: {build.stderr.strip()[:200]}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout
