"""Full-integer int8 TFLite conversion: post-training (PTQ) or quantization-aware (QAT).

The model handed in has two outputs, [logits, target activation]; the .tflite keeps both
(int8, with their own scale and zero point), so the device can compute Grad-CAM from the
int8 target activation without any extra op. tf_keras keeps Keras's output order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

from drip_tiny.errors import QuantizationError
from drip_tiny.native_stderr import capture_fd2
from drip_tiny.tf_seam import keras, tf, tfmot

# Re-exported (the "as" says so to mypy): the modes are defined without TensorFlow.
from drip_tiny.train.quantize_modes import PTQ as PTQ
from drip_tiny.train.quantize_modes import QAT as QAT
from drip_tiny.train.quantize_modes import QUANTIZE_MODES as QUANTIZE_MODES

REPRESENTATIVE_SAMPLES = 300


def representative_samples(x: np.ndarray, seed: int, count: int = REPRESENTATIVE_SAMPLES) -> np.ndarray:
    """A seeded random subset of the training inputs for calibrating activation ranges."""
    rng = np.random.default_rng(seed)
    take = rng.permutation(len(x))[: min(count, len(x))]
    return x[np.sort(take)]


def convert_int8(model: keras.Model, calibration: np.ndarray) -> bytes:
    """Convert a float or QAT Keras model to a full-integer model with int8 input and outputs."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative() -> Iterator[list[np.ndarray]]:
        for sample in calibration:
            yield [sample[np.newaxis].astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        with warnings.catch_warnings():
            # "Statistics for quantized inputs were expected": the int8 input's scale comes
            # from the representative set, which is what we want.
            warnings.simplefilter("ignore", UserWarning)
            data, _ = capture_fd2(converter.convert)  # the converter's C++ chatter
        return bytes(data)
    except Exception as exc:  # the converter raises ConverterError, ValueError, RuntimeError
        native = getattr(exc, "captured_stderr", "").strip()
        raise QuantizationError(
            f"full-integer int8 conversion of {model.name!r} failed: {exc}"
            + (f"\n{native[-2000:]}" if native else "")
            + "\nEvery layer must have an int8 TFLite builtin kernel (Conv, DepthwiseConv, Dense, "
              "pooling, ReLU, Add, ...)") from exc


def quantize_aware(model: keras.Model) -> keras.Model:
    """Wrap a two-output model for quantization-aware training (tfmot's default 8-bit scheme)."""
    try:
        return tfmot().quantization.keras.quantize_model(model)
    except Exception as exc:  # tfmot raises ValueError/RuntimeError for unsupported layers
        raise QuantizationError(f"tfmot cannot prepare {model.name!r} for quantization-aware "
                                f"training: {exc}. Use --quantize ptq for this model") from exc
