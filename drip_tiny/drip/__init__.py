"""The DRIP method: Grad-CAM, DRIP scores, per-class thresholds and the keep/drop decision.

- int8_head.py, int8_gradcam.py: the device's arithmetic in NumPy (the bit-exact reference);
- float_gradcam.py, target_layer.py: the float path on the Keras model (imports TensorFlow);
- variants.py, thresholds.py: the score variants and the per-class windows;
- run_model.py, run_scores.py: a run's model and the scores of one of its splits;
- fit_run.py, simulate_run.py: the `fit` and `simulate` commands' jobs;
- kernel_codegen.py, kernel_host.py: the on-device DRIP kernel generated from a fitted run
  (it uses codegen/, never the reverse), and its host build for tests.

Public API (docs/python-api.md has examples):

    Int8GradCam(model_bytes, target=None, logits=None).score(x_int8, variant) -> ScoreResult
    FloatGradCam(keras_model, target_layer).score(x_float, variant)           (imports TF)
    score_arrays(run, x_float, path="int8", variant="minmax")                  a run's model
    fit_thresholds(drips, classes, class_names, dpw, variant=, path=, group_by=) -> Thresholds
    Thresholds.decide(predicted, drips) -> keep (bool array);  Thresholds.load(path)

May import codegen, tflite, run and datasets, and TensorFlow (drip_tiny.tf_seam) only on
the float path. Never imports link, hil, emulator or the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drip_tiny.drip.int8_gradcam import (
    Int8GradCam,
    Int8Map,
    ScoreResult,
    default_tensors,
)
from drip_tiny.drip.int8_head import Gradient, Int8Head
from drip_tiny.drip.run_scores import SplitScores, score_arrays, score_split
from drip_tiny.drip.thresholds import (
    ClassThreshold,
    Thresholds,
    Window,
    check_dpw,
    fit_thresholds,
    fit_window,
    window_size,
)
from drip_tiny.drip.variants import DEFAULT_VARIANT, VARIANTS, resize_mean_weights

__all__ = [
    "DEFAULT_VARIANT",
    "VARIANTS",
    "ClassThreshold",
    "FloatGradCam",
    "Gradient",
    "Int8GradCam",
    "Int8Head",
    "Int8Map",
    "ScoreResult",
    "SplitScores",
    "Thresholds",
    "Window",
    "check_dpw",
    "default_tensors",
    "fit_thresholds",
    "fit_window",
    "resize_mean_weights",
    "score_arrays",
    "score_split",
    "window_size",
]


if TYPE_CHECKING:
    from drip_tiny.drip.float_gradcam import FloatGradCam


# FloatGradCam imports TensorFlow: only when asked for.
def __getattr__(name: str) -> type[FloatGradCam]:
    if name == "FloatGradCam":
        from drip_tiny.drip.float_gradcam import FloatGradCam

        return FloatGradCam
    raise AttributeError(name)
