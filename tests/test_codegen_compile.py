"""The kernels and the generated code compile warning-free (-Wall -Wextra -Werror) for the
host and for Cortex-M4F with arm-none-eabi-gcc. CI installs the ARM toolchain
(scripts/debian-packages.txt): there the skip for a missing toolchain fails (conftest.py)."""

import shutil
import subprocess

import codegen_models as cm
import numpy as np
import pytest

from drip_tiny.codegen import build, emit, generate, memory_report
from drip_tiny.codegen.report import CORTEX_M4F_FLAGS, arm_toolchain

KERNELS = sorted(emit.kernels_dir().glob("*.c"))


def _require_arm():
    if arm_toolchain() is None:
        pytest.skip("arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi); CI runs this test")


def _compile(cc, flags, sources, include, out_dir):
    for src in sources:
        result = subprocess.run([cc, *flags, f"-I{include}", f"-I{emit.kernels_dir()}", "-c",
                                 str(src), "-o", str(out_dir / (src.stem + ".o"))],
                                capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, (src.name, result.stderr)


def _models():
    rng = np.random.default_rng(3)
    return [cm.broadcast_add(rng)[0], cm.pad_mean_requantize(rng)[0]]


def test_every_kernel_compiles_on_the_host_without_warnings(tmp_path):
    cc = shutil.which("cc") or pytest.fail("no C compiler")
    _compile(cc, ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wpedantic"], KERNELS,
             tmp_path, tmp_path)


def test_every_kernel_compiles_for_cortex_m4f_without_warnings(tmp_path):
    _require_arm()
    gcc = arm_toolchain()[0]
    for opt in ("-O2", "-Os"):
        _compile(gcc, [*CORTEX_M4F_FLAGS, opt, "-Wpedantic"], KERNELS, tmp_path, tmp_path)


def test_generated_code_compiles_for_cortex_m4f_without_warnings(tmp_path, digits_ptq_run):
    _require_arm()
    gcc = arm_toolchain()[0]
    models = [*_models(), (digits_ptq_run / "model.tflite").read_bytes()]
    for i, data in enumerate(models):
        out = tmp_path / f"m{i}"
        generate(data, out)
        _compile(gcc, [*CORTEX_M4F_FLAGS, "-O2"], [out / "dt_model.c", out / "dt_model_data.c"],
                 out, out)


def test_a_generated_folder_with_its_kernels_builds_on_its_own(tmp_path):
    _require_arm()
    gcc = arm_toolchain()[0]
    generate(_models()[1], tmp_path, with_kernels=True)
    sources = sorted(tmp_path.glob("*.c"))
    assert {p.name for p in sources} >= {"dt_model.c", "dt_model_data.c", "dt_pad_s8.c",
                                         "dt_mean_s8.c", "dt_quantize_s8.c"}
    result = subprocess.run([gcc, *CORTEX_M4F_FLAGS, "-O2", "-c", *map(str, sources)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and not result.stderr, result.stderr


def test_code_size_is_reported_for_cortex_m4f(digits_ptq_run):
    _require_arm()
    report = memory_report(digits_ptq_run / "model.tflite")
    assert report.code_bytes and report.params_bytes is not None and report.params_bytes > 0


def test_generated_files_name_their_template_and_model(tmp_path):
    data = _models()[0]
    program = generate(data, tmp_path)
    for name in emit.GENERATED_FILES:
        text = (tmp_path / name).read_text()
        assert f"templates/{name}.j2" in text and program.sha256 in text
    assert f"#define DT_MODEL_ARENA_BYTES {program.arena_bytes}" in (
        tmp_path / "dt_model.h").read_text()
    assert build(data).arena_bytes == program.arena_bytes


def test_float_literals_read_back_as_the_same_float32(tmp_path):
    """Scales reach the C code as decimal literals: each must compile to the very float32."""
    from drip_tiny.codegen.c_text import c_float

    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.standard_normal(500) * 10.0 ** rng.integers(-12, 6, 500),
        [1.0, 0.0, -2.0, 3e-38, 1e-45, 65504.0, 1 / 256]]).astype(np.float32)
    source = tmp_path / "floats.c"
    source.write_text(
        "#include <stdio.h>\n#include <stdint.h>\n#include <string.h>\n"
        f"static const float v[] = {{{', '.join(c_float(x) for x in values)}}};\n"
        "int main(void) { for (unsigned i = 0; i < sizeof v / sizeof v[0]; ++i) {\n"
        "uint32_t u; memcpy(&u, &v[i], 4); printf(\"%u\\n\", (unsigned)u); } return 0; }\n")
    exe = tmp_path / "floats"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(source), "-o", str(exe)],
                   check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert np.array_equal(np.asarray(out, dtype=np.uint32), values.view(np.uint32))
