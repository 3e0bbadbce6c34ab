"""Fitting Keras models: the float model, and the quantization-aware fine-tune.

Seeded (Python, numpy and TensorFlow seeds and deterministic TF ops), so the same command
gives the same model on the same machine.
"""

from __future__ import annotations

import math

import numpy as np
from tqdm import tqdm

from drip_tiny.tf_seam import keras, tf

# Keras has no type information (tf_seam): keras.Model and the rest are Any here.

DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 3e-3
# Enough optimizer steps for the small built-in models, within [10, 200] epochs:
# digits (575 training samples) gets 200 epochs, Fashion-MNIST (24,000) gets 10.
TARGET_STEPS = 3600
MIN_EPOCHS, MAX_EPOCHS = 10, 200


def default_epochs(train_samples: int, batch_size: int) -> int:
    steps_per_epoch = math.ceil(train_samples / batch_size)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_STEPS / steps_per_epoch))))


def default_qat_epochs(epochs: int) -> int:
    return max(2, epochs // 10)


def seed_everything(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class EpochProgress(keras.callbacks.Callback):  # type: ignore[misc]  # Callback is Any
    """One tqdm bar over epochs, showing the latest loss and accuracies."""

    def __init__(self, epochs: int, desc: str, enabled: bool) -> None:
        super().__init__()
        self._bar = tqdm(total=epochs, desc=desc, unit="epoch", disable=not enabled)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        shown = {k: f"{v:.3f}" for k, v in logs.items()
                 if k in ("loss", "accuracy", "val_accuracy", "logits_accuracy",
                          "val_logits_accuracy")}
        self._bar.set_postfix(shown, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._bar.close()


def _validation_freq(epochs: int) -> int:
    # Evaluating every epoch costs more than a digits epoch itself: about 20 checks per run.
    return max(1, epochs // 20)


def _sparse_ce() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def fit_float(model: keras.Model, x_train: np.ndarray, y_train: np.ndarray,
              x_val: np.ndarray, y_val: np.ndarray, *, epochs: int, batch_size: int,
              learning_rate: float, progress: bool) -> dict[str, list[float]]:
    """Train `model` (logits output) with Adam and a cosine-decayed learning rate."""
    steps = epochs * math.ceil(len(x_train) / batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=_sparse_ce(),
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                        validation_freq=_validation_freq(epochs),
                        batch_size=batch_size, verbose=0, shuffle=True,
                        callbacks=[EpochProgress(epochs, "training", progress)])
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def fit_qat(qat_model: keras.Model, x_train: np.ndarray, y_train: np.ndarray,
            x_val: np.ndarray, y_val: np.ndarray, *, epochs: int, batch_size: int,
            learning_rate: float, progress: bool) -> dict[str, list[float]]:
    """Fine-tune a tfmot-wrapped two-output model on the logits output only."""
    qat_model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss=[_sparse_ce(), None], metrics=[["accuracy"], []])
    history = qat_model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                            batch_size=batch_size, verbose=0, shuffle=True,
                            callbacks=[EpochProgress(epochs, "QAT fine-tune", progress)])
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def predict_classes(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(logits, list):
        logits = logits[0]
    classes: np.ndarray = np.argmax(logits, axis=-1)  # logits: Keras's output, Any
    return classes
