"""`drip-tiny train`: dataset -> split -> float model -> int8 model -> checked run directory."""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drip_tiny import __version__
from drip_tiny.datasets import LoadOptions, dataset_fingerprint, load_dataset
from drip_tiny.errors import ConfigError
from drip_tiny.run import directory as rundir
from drip_tiny.run.splits import PAPER_FRACTIONS, make_dataset_splits, split_arrays

if TYPE_CHECKING:
    from drip_tiny.datasets import Dataset
    from drip_tiny.tf_seam import keras  # Any: Keras has no type information


@dataclass(frozen=True)
class TrainConfig:
    dataset: str
    out: Path
    data_dir: Path | None = None
    load_options: LoadOptions = field(default_factory=LoadOptions)
    model: str | None = None  # a built-in name, a .keras/.h5 path, or None for the default
    target_layer: str | None = None
    quantize: str = "ptq"
    epochs: int | None = None  # None: chosen from the training-set size
    qat_epochs: int | None = None
    batch_size: int = 32
    learning_rate: float = 3e-3
    seed: int = 0
    force: bool = False
    progress: bool = True
    extra: Path | None = None  # kept.npz from `drip-tiny pull`, added to the train split

    def validate(self) -> None:
        from drip_tiny.train.quantize_modes import QUANTIZE_MODES

        if self.quantize not in QUANTIZE_MODES:
            raise ConfigError(f"--quantize must be one of {', '.join(QUANTIZE_MODES)}, "
                              f"not {self.quantize!r}")
        for name in ("epochs", "qat_epochs", "batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if not self.learning_rate > 0:
            raise ConfigError(f"--learning-rate must be positive, got {self.learning_rate}")


@dataclass(frozen=True)
class TrainResult:
    run: Path
    metrics: dict[str, Any]  # metrics.json and metadata.json: JSON objects
    metadata: dict[str, Any]


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version(), "drip_tiny": __version__}
    for dist in ("tensorflow", "tf_keras", "tensorflow-model-optimization", "tflite-micro", "numpy"):
        try:
            out[dist] = pkg_metadata.version(dist)
        except pkg_metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _build_model(config: TrainConfig, dataset: Dataset) -> tuple[str, keras.Model, str, str]:
    """(architecture, logits model, target layer, its convolution), checked against the data.

    `architecture` is the built-in name, or the model file's absolute path (as recorded)."""
    from drip_tiny.train import models
    architecture = config.model or models.default_model_for(dataset.kind)
    if architecture in models.BUILTIN_MODELS:
        model = models.build_builtin(architecture, dataset.sample_shape, dataset.num_classes)
    else:
        model = models.load_user_model(architecture)
        architecture = str(Path(architecture).resolve())
    model = models.logits_model(model)
    models.check_model_fits_data(model, dataset.sample_shape, dataset.num_classes)
    target_layer, target_conv = models.find_target_layer(model, config.target_layer)
    return architecture, model, target_layer, target_conv


def train_run(config: TrainConfig,
              log: Callable[[str], None] = lambda message: None) -> TrainResult:
    """Train, quantize and check one model; write the run directory atomically."""
    config.validate()
    rundir.check_writable(Path(config.out), config.force)  # fail before the slow work
    started = time.perf_counter()

    dataset = load_dataset(config.dataset, config.data_dir, config.load_options)
    splits = make_dataset_splits(dataset, config.seed)
    x_train, y_train = split_arrays(dataset, splits, "train")
    x_val, y_val = split_arrays(dataset, splits, "validation")
    x_test, y_test = split_arrays(dataset, splits, "test")
    sizes = {name: len(splits.indices(name)) for name in ("train", "validation", "production", "test")}
    log(f"{dataset.name}: {dataset.num_classes} classes, samples {dataset.sample_shape}, "
        f"split {sizes}")
    extra = None
    if config.extra is not None:
        from drip_tiny.datasets.kept_samples import load_extra

        x_more, y_more, label_source = load_extra(config.extra, dataset.sample_shape,
                                                  dataset.num_classes)
        x_train = np.concatenate([x_train, x_more.astype(x_train.dtype)])
        y_train = np.concatenate([y_train, y_more.astype(y_train.dtype)])
        extra = {"file": str(Path(config.extra).resolve()), "samples": len(x_more),
                 "labels": label_source}
        log(f"--extra: {len(x_more)} samples from {config.extra} added to the train split "
            f"(labels: {'its y' if label_source == 'y' else 'the device predictions'})")

    # TensorFlow is imported only now: loading and checking inputs stays fast.
    from drip_tiny.tflite.int8_layout import inspect_int8_model
    from drip_tiny.tflite.tflm_reference import TflmModel, predict_logits
    from drip_tiny.train import fit_model as train
    from drip_tiny.train import models, precheck, quantize

    # An untrained copy goes through conversion and code generation first, so a model the
    # device cannot run is refused in seconds, not after training.
    train.seed_everything(config.seed)
    t0 = time.perf_counter()
    _, untrained, target_layer, _ = _build_model(config, dataset)
    precheck.check_lowers(untrained, target_layer, x_train, dataset.num_classes,
                          dataset.sample_shape, config.quantize)
    precheck_seconds = time.perf_counter() - t0
    log(f"pre-check: the untrained model converts to int8 and lowers to the device's C "
        f"({precheck_seconds:.1f} s)")
    # Seeded again and rebuilt: the model trained is the one the same seed gave before the
    # pre-check existed (the check draws weights and runs the converter).
    train.seed_everything(config.seed)
    architecture, model, target_layer, target_conv = _build_model(config, dataset)
    log(f"model {model.name} ({model.count_params():,} parameters), Grad-CAM target {target_layer!r}")

    epochs = config.epochs or train.default_epochs(len(x_train), config.batch_size)
    t0 = time.perf_counter()
    history = train.fit_float(model, x_train, y_train, x_val, y_val, epochs=epochs,
                              batch_size=config.batch_size, learning_rate=config.learning_rate,
                              progress=config.progress)
    float_pred = train.predict_classes(model, x_test)
    float_accuracy = float(np.mean(float_pred == y_test))

    two_outputs = models.with_target_output(model, target_layer)
    qat_history = None
    qat_epochs = None
    if config.quantize == quantize.QAT:
        qat_epochs = config.qat_epochs or train.default_qat_epochs(epochs)
        to_convert = quantize.quantize_aware(two_outputs)
        qat_history = train.fit_qat(to_convert, x_train, y_train, x_val, y_val, epochs=qat_epochs,
                                    batch_size=config.batch_size,
                                    learning_rate=config.learning_rate / 10,
                                    progress=config.progress)
    else:
        to_convert = two_outputs
    train_seconds = time.perf_counter() - t0
    tflite = quantize.convert_int8(to_convert, quantize.representative_samples(x_train, config.seed))
    layout = inspect_int8_model(tflite, dataset.num_classes, dataset.sample_shape)

    tflm = TflmModel(tflite)
    int8_logits = predict_logits(tflm, x_test, layout.logits_output, progress=config.progress,
                                 desc="int8 test (TFLM)")
    int8_pred = np.argmax(int8_logits.astype(np.int32), axis=-1)
    int8_accuracy = float(np.mean(int8_pred == y_test))
    arena = tflm.arena_usage()

    metrics = {
        "float_test_accuracy": float_accuracy,
        "int8_test_accuracy": int8_accuracy,
        "int8_minus_float_points": 100.0 * (int8_accuracy - float_accuracy),
        "int8_float_agreement": float(np.mean(int8_pred == float_pred)),
        "test_samples": len(y_test),
        "int8_evaluated_with": "tflite-micro Python interpreter (TFLM reference kernels)",
        "tflm_arena_bytes": asdict(arena),
        "model_tflite_bytes": len(tflite),
        "parameters": int(model.count_params()),
        "epochs": epochs,
        "qat_epochs": qat_epochs,
        "precheck_seconds": round(precheck_seconds, 2),
        "train_seconds": round(train_seconds, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
    }
    metadata = {
        "format_version": rundir.FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {
            "name": dataset.name, "kind": dataset.kind, "source": dataset.source,
            # Absolute, so later commands find the data from any working directory.
            "data_dir": str(Path(config.data_dir).resolve()) if config.data_dir else None,
            "load_options": config.load_options.to_json(),
            "class_names": list(dataset.class_names), "sample_shape": list(dataset.sample_shape),
            "notes": dataset.notes, "fingerprint": dataset_fingerprint(dataset),
        },
        "split": {"seed": config.seed, "fractions": dict(zip(("train", "validation", "production"),
                                                             PAPER_FRACTIONS)),
                  "test": "held-out 20% of the pool" if splits.test_from_pool else "the dataset's test split",
                  "sizes": sizes, "file": rundir.SPLITS, "extra_train": extra},
        "model": {"architecture": architecture, "name": model.name, "target_layer": target_layer,
                  "target_conv": target_conv, "quantize": config.quantize, "epochs": epochs,
                  "qat_epochs": qat_epochs, "batch_size": config.batch_size,
                  "learning_rate": config.learning_rate, "float_file": rundir.FLOAT_MODEL},
        "int8": {"file": rundir.MODEL_TFLITE, "bytes": len(tflite),
                 "sha256": hashlib.sha256(tflite).hexdigest(), **layout.as_metadata()},
        "versions": _versions(),
    }

    with rundir.staged_run(Path(config.out), config.force) as staging:
        (staging / rundir.MODEL_TFLITE).write_bytes(tflite)
        model.save(staging / rundir.FLOAT_MODEL)
        splits.save(staging / rundir.SPLITS)
        rundir.write_json(staging / rundir.METADATA, metadata)
        rundir.write_json(staging / rundir.METRICS, metrics)
        rundir.write_json(staging / rundir.HISTORY, {"float": history, "qat": qat_history})
    return TrainResult(run=Path(config.out), metrics=metrics, metadata=metadata)
