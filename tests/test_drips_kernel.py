"""The generated C DRIP kernel against the Python int8 reference.

Every head kind int8 Grad-CAM supports, every score variant, and the production splits of
the digits run and of the 1D audio run: the same predicted class, the same DRIPS bit for bit
(both compute the final score with the same float32 operations), the same keep/drop
decision for every sample.
"""

import shutil
import subprocess

import numpy as np
import pytest
from test_int8_gradcam import HEAD_KINDS, _converted, _samples

from drip_tiny.codegen.c_text import c_float
from drip_tiny.drip import Int8GradCam
from drip_tiny.drip.kernel_codegen import generate_drips_kernel, write_drips_kernel
from drip_tiny.drip.kernel_host import HostDripsKernel
from drip_tiny.drip.thresholds import Thresholds, fit_thresholds
from drip_tiny.run.directory import load_split
from drip_tiny.tflite.tflm_reference import quantize

ARM_FLAGS = ["-std=c99", "-O2", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
             "-mthumb", "-Wall", "-Wextra", "-Werror", "-c"]


def _compare(data, thresholds, x_int8):
    """Run both; return (worst relative DRIPS difference, decisions that differ, near-threshold)."""
    cam = Int8GradCam(data)
    kernel = generate_drips_kernel(data, thresholds)
    host = HostDripsKernel(kernel)
    ref = cam.score(x_int8, thresholds.variant)
    keep_ref = thresholds.decide(ref.predicted, ref.drips)
    lower, upper = thresholds.arrays()
    worst, differ, near = 0.0, 0, 0
    for i, x in enumerate(x_int8):
        cam.map(x)
        pred, drips, keep = host.decide(cam.tensor(kernel.target.index),
                                        cam.tensor(kernel.logits.index),
                                        [cam.tensor(t.index) for t in kernel.head_tensors])
        assert pred == ref.predicted[i]
        scale = max(abs(ref.drips[i]), 1e-30)
        worst = max(worst, abs(drips - ref.drips[i]) / scale)
        c = ref.predicted[i]
        close = min(abs(ref.drips[i] - lower[c]), abs(ref.drips[i] - upper[c])) <= 1e-5 * scale
        if keep != keep_ref[i]:
            differ += 1
            near += close
    return worst, differ, near


def _thresholds(data, x, variant):
    scores = Int8GradCam(data).score(x, variant)
    n = Int8GradCam(data).num_classes
    return fit_thresholds(scores.drips, scores.predicted, [str(c) for c in range(n)], 40,
                          variant=variant, path="int8", group_by="predicted")


@pytest.mark.parametrize("variant", ["raw", "max", "minmax"])
@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_c_kernel_matches_the_int8_reference_on_every_head(kind, variant):
    data = _converted(kind)
    x = _samples(Int8GradCam(data), 40)
    thresholds = _thresholds(data, x, variant)
    worst, differ, _near = _compare(data, thresholds, x)
    assert worst == 0.0 and differ == 0  # bit for bit


def _run_thresholds(run, variant):
    from drip_tiny.drip.fit_run import fit_run

    fit_run(run, dpw=25, variant=variant)
    return Thresholds.load(run / "thresholds.json")


@pytest.mark.parametrize("fixture", ["digits_ptq_run", "speech_run"])
def test_full_production_split_of_a_run(fixture, request, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(request.getfixturevalue(fixture), run)
    data = (run / "model.tflite").read_bytes()
    cam = Int8GradCam(data)
    x, _ = load_split(run, "production")
    q = quantize(x, cam.input.scale, cam.input.zero_point)
    for variant in ("minmax", "raw"):
        worst, differ, near = _compare(data, _run_thresholds(run, variant), q)
        print(f"{fixture} {variant}: {len(q)} samples, worst relative DRIPS difference "
              f"{worst:.2e}, {differ} decisions differ ({near} at a threshold)")
        assert worst == 0.0 and differ == 0


def test_generated_files_and_thresholds_header(tmp_path):
    data = _converted("gap_mlp")
    x = _samples(Int8GradCam(data), 40)
    t = _thresholds(data, x, "minmax")
    kernel = generate_drips_kernel(data, t)
    written = write_drips_kernel(kernel, tmp_path)
    assert sorted(p.name for p in written) == ["drip_thresholds.h", "drips_kernel.c", "drips_kernel.h"]
    header = (tmp_path / "drip_thresholds.h").read_text()
    assert "DRIP_DPW 40f" in header and "DRIP_THRESHOLDS_HASH 0x" in header
    for c in t.classes:
        if c.lower is not None:
            assert c_float(c.lower) in header
    assert "#define DRIP_HEAD_TENSOR_COUNT 1" in kernel.files["drips_kernel.h"]  # the ReLU layer


def test_kernel_compiles_warning_free_for_cortex_m4(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for kind in ("conv1d", "avg_then_max", "avgpool_same"):
        data = _converted(kind)
        for variant in ("raw", "max", "minmax"):
            t = _thresholds(data, _samples(Int8GradCam(data), 20), variant)
            out = tmp_path / f"{kind}_{variant}"
            write_drips_kernel(generate_drips_kernel(data, t), out)
            result = subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, str(out / "drips_kernel.c"),
                                     "-o", str(out / "k.o")], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr


def test_host_drip_model_runs_the_whole_device_decision(digits_ptq_run, tmp_path):
    """Generated model + generated DRIP kernel, no TFLM: the device's decisions."""
    from drip_tiny.drip.kernel_host import HostDripModel
    from drip_tiny.drip.run_scores import score_split

    run = tmp_path / "run"
    shutil.copytree(digits_ptq_run, run)
    thresholds = _run_thresholds(run, "minmax")
    model = HostDripModel(run)
    x, _ = load_split(run, "production")
    inp = model.model.info.inputs[0]
    predicted, drips, keep = model.decide_batch(quantize(x, inp.scale, inp.zero_point))
    ref = score_split(run, "production")
    np.testing.assert_array_equal(predicted, ref.predicted)
    np.testing.assert_array_equal(drips, ref.drips.astype(np.float32))
    np.testing.assert_array_equal(keep, thresholds.decide(ref.predicted, ref.drips))


def test_float_path_thresholds_are_refused_for_the_device(digits_ptq_run, tmp_path):
    from drip_tiny.drip.fit_run import fit_run
    from drip_tiny.drip.kernel_codegen import generate_for_run
    from drip_tiny.errors import ModelError

    run = tmp_path / "run"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, path="float")
    with pytest.raises(ModelError, match="float path"):
        generate_for_run(run)
