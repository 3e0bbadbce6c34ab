"""The one place that imports TensorFlow, Keras 2 (tf_keras) and tfmot.

TensorFlow costs seconds to import, so only the commands that train import this module.
tfmot works only with Keras 2, and with Keras 3 the converter writes a two-output model's
outputs in reverse order: set TF_USE_LEGACY_KERAS before TensorFlow is first imported.
"""

from __future__ import annotations

import os
from typing import Any

from drip_tiny.native_stderr import capture_fd2

# Level 3 hides the CUDA probe's "failed call to cuInit" on these CPU-only machines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"


# TensorFlow, tf_keras and tfmot have no type information: they are Any here, and so are
# the Keras models and tensors the rest of drip_tiny gets from them.
def _import_tf() -> tuple[Any, Any]:
    import tensorflow
    import tf_keras

    return tensorflow, tf_keras


# TensorFlow's native libraries log before absl is set up, ignoring TF_CPP_MIN_LOG_LEVEL
# ("Could not find cuda drivers"): keep that chatter off the user's terminal.
(tf, keras), _ = capture_fd2(_import_tf)

tf.get_logger().setLevel("ERROR")


def tfmot() -> Any:
    """tensorflow_model_optimization, imported on first use (it is slow to import)."""
    import tensorflow_model_optimization as module

    return module


__all__ = ["keras", "tf", "tfmot"]
