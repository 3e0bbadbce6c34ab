"""Built-in architectures, user models, and the Grad-CAM target layer."""

from __future__ import annotations

from pathlib import Path

from drip_tiny.drip.target_layer import (
    find_target_layer,
    logits_model,
    with_target_output,
)
from drip_tiny.errors import ModelError
from drip_tiny.tf_seam import keras
from drip_tiny.train.models.builtin import (
    AUDIO_CNN1D,
    BUILTIN_MODELS,
    IMAGE_CNN,
    build_builtin,
)


def default_model_for(kind: str) -> str:
    return AUDIO_CNN1D if kind == "audio" else IMAGE_CNN


def load_user_model(path: str | Path) -> keras.Model:
    """A user's Keras model file (.keras or .h5), loaded without its training config."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; pass a .keras or .h5 file saved "
                         f"with tf_keras, or a built-in model name ({', '.join(BUILTIN_MODELS)})")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for unreadable files
        raise ModelError(f"cannot load Keras model {path}: {exc}. Save it with tf_keras "
                         "(Keras 2) as .keras or .h5") from exc


def check_model_fits_data(model: keras.Model, sample_shape: tuple[int, ...], num_classes: int) -> None:
    expected_in = tuple(model.inputs[0].shape[1:])
    if len(model.inputs) != 1 or expected_in != tuple(sample_shape):
        raise ModelError(f"model {model.name!r} takes input {expected_in} but the dataset's samples "
                         f"are {tuple(sample_shape)}; build the model for that input shape")
    out = model.outputs[0].shape
    if len(out) != 2 or out[1] != num_classes:
        raise ModelError(f"model {model.name!r} outputs {tuple(out)} but the dataset has "
                         f"{num_classes} classes; end the model in Dense({num_classes})")


__all__ = ["AUDIO_CNN1D", "BUILTIN_MODELS", "IMAGE_CNN", "build_builtin", "check_model_fits_data",
           "default_model_for", "find_target_layer", "load_user_model", "logits_model",
           "with_target_output"]
