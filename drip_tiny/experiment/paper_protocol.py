"""One run of the paper's protocol (section IV), returning a JSON-ready result.

    split (seed + r) -> baseline model on the train split
    -> DRIP scores of validation and production (the baseline's int8 or float Grad-CAM)
    -> thresholds on validation, keep/drop over production
    -> retrain: all-data (train + production), DRIP (train + kept), random and the other
       selection rules (train + the same number of production samples)
    -> test accuracy and macro F1 of every model
plus, when asked, the DPW sweep and the label-noise study. Imports TensorFlow.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from drip_tiny.experiment.config import ExperimentConfig
from drip_tiny.experiment.selection import select

if TYPE_CHECKING:
    from drip_tiny.datasets import Dataset
    from drip_tiny.drip.int8_gradcam import ScoreResult
    from drip_tiny.tf_seam import keras

# keras.Model is Any (Keras has no type information, see tf_seam). A model's metrics are
# {"accuracy", "macro_f1"}; the run's result is a JSON object, dict[str, Any].
Metrics = dict[str, float]


def _metrics(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray,
             num_classes: int) -> Metrics:
    from sklearn.metrics import f1_score

    from drip_tiny.train.fit_model import predict_classes

    pred = predict_classes(model, x_test)
    return {"accuracy": float(np.mean(pred == y_test)),
            "macro_f1": float(f1_score(y_test, pred, labels=list(range(num_classes)),
                                      average="macro", zero_division=0))}


class _Trainer:
    """Builds and trains the run's models: from scratch or fine-tuning the baseline."""

    def __init__(self, config: ExperimentConfig, dataset: Dataset, seed: int, x_val: np.ndarray,
                 y_val: np.ndarray) -> None:
        from drip_tiny.train import fit_model as train
        from drip_tiny.train import models
        self.config, self.dataset, self.seed = config, dataset, seed
        self.x_val, self.y_val = x_val, y_val
        self.models, self.train = models, train
        self.baseline: keras.Model | None = None

    def _fresh(self) -> keras.Model:
        arch = self.models.default_model_for(self.dataset.kind)
        model = self.models.build_builtin(arch, self.dataset.sample_shape, self.dataset.num_classes)
        return self.models.logits_model(model)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, finetune: bool = False,
            retrained: bool = True) -> keras.Model:
        from drip_tiny.tf_seam import keras

        # Every retrained model of a run starts from the same seed (same initial weights):
        # the models differ only in the data they get, which is what the comparison is about.
        self.train.seed_everything(self.seed * 1000 + (1 if retrained else 0))
        lr = self.config.learning_rate
        if finetune:
            assert self.baseline is not None  # run_protocol sets it before any retraining
            model = keras.models.clone_model(self.baseline)
            model.set_weights(self.baseline.get_weights())
            lr /= 10
        else:
            model = self._fresh()
        self.train.fit_float(model, x, y, self.x_val, self.y_val, epochs=epochs,
                             batch_size=self.config.batch_size, learning_rate=lr, progress=False)
        return model


def _flip_labels(y: np.ndarray, percent: float, num_classes: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip `percent`% of the labels (chosen at random) to a different random class."""
    y = y.copy()
    count = round(len(y) * percent / 100)
    flipped = rng.choice(len(y), size=count, replace=False)
    shift = rng.integers(1, num_classes, size=count)
    y[flipped] = (y[flipped] + shift) % num_classes
    mask = np.zeros(len(y), dtype=bool)
    mask[flipped] = True
    return y, mask


def _scores(config: ExperimentConfig, baseline: keras.Model, x_train: np.ndarray,
            x_val: np.ndarray, x_prod: np.ndarray,
            seed: int) -> tuple[ScoreResult, ScoreResult, np.ndarray, float]:
    """DRIP scores of validation and production with the baseline, plus the logits the other
    rules use and the host time per retention decision."""
    if config.path == "int8":
        from drip_tiny.drip.int8_gradcam import Int8GradCam
        from drip_tiny.tflite.tflm_reference import quantize
        from drip_tiny.train.models import find_target_layer, with_target_output
        from drip_tiny.train.quantize import convert_int8, representative_samples

        target, _ = find_target_layer(baseline)
        tflite = convert_int8(with_target_output(baseline, target),
                              representative_samples(x_train, seed))
        cam = Int8GradCam(tflite)
        val = cam.score(quantize(x_val, cam.input.scale, cam.input.zero_point), config.variant)
        q_prod = quantize(x_prod, cam.input.scale, cam.input.zero_point)
        start = time.perf_counter()
        prod = cam.score(q_prod, config.variant)
        seconds = (time.perf_counter() - start) / max(len(x_prod), 1)
        logits_t = cam.head.logits
        logits = (prod.logits.astype(np.float64) - logits_t.zero_point) * logits_t.scale
        return val, prod, logits, seconds
    from drip_tiny.drip.float_gradcam import FloatGradCam
    from drip_tiny.train.models import find_target_layer

    float_cam = FloatGradCam(baseline, find_target_layer(baseline)[0])
    val = float_cam.score(x_val, config.variant)
    start = time.perf_counter()
    prod = float_cam.score(x_prod, config.variant)
    seconds = (time.perf_counter() - start) / max(len(x_prod), 1)
    return val, prod, prod.logits.astype(np.float64), seconds


def _retention(keep: np.ndarray, predicted: np.ndarray, labels: np.ndarray,
               num_classes: int) -> dict[str, list[float | None]]:
    def rates(classes: np.ndarray) -> list[float | None]:
        out: list[float | None] = []
        for c in range(num_classes):
            sel = classes == c
            out.append(float(keep[sel].mean()) if sel.any() else None)
        return out
    return {"by_predicted": rates(predicted), "by_true": rates(labels)}


def run_protocol(config: ExperimentConfig, run_index: int, dataset: Dataset) -> dict[str, Any]:
    from drip_tiny.drip.thresholds import fit_thresholds
    from drip_tiny.run.splits import make_dataset_splits, split_arrays
    from drip_tiny.train import fit_model as train
    started = time.perf_counter()
    seed = config.seed + run_index
    rng = np.random.default_rng([seed, 1])
    splits = make_dataset_splits(dataset, seed)
    x_train, y_train = split_arrays(dataset, splits, "train")
    x_val, y_val = split_arrays(dataset, splits, "validation")
    x_prod, y_prod = split_arrays(dataset, splits, "production")
    x_test, y_test = split_arrays(dataset, splits, "test")
    n_cls = dataset.num_classes
    epochs = config.epochs or train.default_epochs(len(x_train), config.batch_size)
    finetune = config.retrain == "finetune"
    retrain_epochs = max(1, epochs // 4) if finetune else epochs

    trainer = _Trainer(config, dataset, seed, x_val, y_val)
    trainer.baseline = baseline = trainer.fit(x_train, y_train, epochs, retrained=False)
    models = {"baseline": _metrics(baseline, x_test, y_test, n_cls)}

    val, prod, logits, seconds_per_decision = _scores(config, baseline, x_train, x_val,
                                                      x_prod, seed)
    val_classes = val.predicted if config.group_by == "predicted" else y_val

    def drip_keep(dpw: float) -> np.ndarray:
        t = fit_thresholds(val.drips, val_classes, list(dataset.class_names), dpw,
                           variant=config.variant, path=config.path, group_by=config.group_by)
        return t.decide(prod.predicted, prod.drips)

    def retrain(keep: np.ndarray, labels: np.ndarray = y_prod) -> Metrics:
        x = np.concatenate([x_train, x_prod[keep]])
        y = np.concatenate([y_train, labels[keep]])
        return _metrics(trainer.fit(x, y, retrain_epochs, finetune), x_test, y_test, n_cls)

    keep = drip_keep(config.dpw)
    budget = int(keep.sum())
    models["all_data"] = retrain(np.ones(len(y_prod), dtype=bool))
    models["drip"] = retrain(keep)
    for rule in config.rules:
        models[rule] = retrain(select(rule, budget, logits, rng))

    sweep = []
    for dpw in config.sweep_dpw:
        k = drip_keep(dpw)
        sweep.append({"dpw": dpw, "kept": int(k.sum()), "storage_savings": float(1 - k.mean()),
                      "drip": retrain(k),
                      "random": retrain(select("random", int(k.sum()), logits, rng))})

    noise = []
    for percent in config.label_noise:
        noisy, flipped = _flip_labels(y_prod, percent, n_cls, rng)
        noise.append({"percent": percent, "flipped": int(flipped.sum()),
                      "flipped_kept": int((flipped & keep).sum()),
                      "unfiltered": retrain(np.ones(len(y_prod), dtype=bool), noisy),
                      "drip": retrain(keep, noisy)})

    return {
        "run": run_index, "seed": seed, "epochs": epochs, "retrain_epochs": retrain_epochs,
        "sizes": {"train": len(y_train), "validation": len(y_val), "production": len(y_prod),
                  "test": len(y_test)},
        "kept": budget, "storage_savings": float(1 - keep.mean()),
        "retention_per_class": _retention(keep, prod.predicted, y_prod, n_cls),
        "seconds_per_decision": seconds_per_decision,
        "baseline_production_accuracy": float(np.mean(prod.predicted == y_prod)),
        "models": models, "sweep_dpw": sweep, "label_noise": noise,
        "seconds": round(time.perf_counter() - started, 1),
    }
