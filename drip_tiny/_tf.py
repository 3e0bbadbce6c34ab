"""The one place that imports TensorFlow, Keras 2 (tf_keras) and tfmot.

TensorFlow costs seconds to import, so only the commands that train import this module.
tfmot works only with Keras 2, and with Keras 3 the converter writes a two-output model's
outputs in reverse order: set TF_USE_LEGACY_KERAS before TensorFlow is first imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

tf.get_logger().setLevel("ERROR")


def tfmot():
    """tensorflow_model_optimization, imported on first use (it is slow to import)."""
    import tensorflow_model_optimization as module

    return module


__all__ = ["keras", "tf", "tfmot"]
