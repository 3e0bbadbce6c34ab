"""A run's int8 model as the DRIP method reads it: the bytes, and which outputs are the
Grad-CAM target and the logits. Never imports TensorFlow (hil and export use it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from drip_tiny.drip.int8_gradcam import Int8GradCam
from drip_tiny.run import directory as rundir


def model_sha256(run: Path) -> str:
    return hashlib.sha256((Path(run) / rundir.MODEL_TFLITE).read_bytes()).hexdigest()


def run_model(run: Path) -> tuple[bytes, int, int]:
    """(model.tflite bytes, target tensor index, logits tensor index) of a run, as its
    metadata names the two outputs."""
    from drip_tiny.tflite.flatbuffer import read_model

    meta = rundir.load_json(rundir.check_run(run), rundir.METADATA)["int8"]
    data = (Path(run) / rundir.MODEL_TFLITE).read_bytes()
    outputs = read_model(data).outputs
    return data, outputs[meta["target_output"]].index, outputs[meta["logits_output"]].index


def int8_gradcam_for_run(run: Path) -> Int8GradCam:
    """Int8GradCam on the run's model, with the target and logits its metadata names."""
    data, target, logits = run_model(run)
    return Int8GradCam(data, target=target, logits=logits)
