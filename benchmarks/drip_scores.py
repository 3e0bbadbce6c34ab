"""Benchmark: int8 vs float Grad-CAM DRIP scores, scoring speed, and DPW-25 retention.

Trains the default digits run (or takes --run), then on its validation and production
splits (the samples DRIP scores in the paper's protocol):
- int8 DRIPS (the device's computation) next to float GradientTape DRIPS, per variant:
  Pearson and Spearman correlation, median relative difference, predicted-class agreement;
- scoring speed in samples per second: TFLM inference alone, int8 inference + Grad-CAM +
  DRIPS, and the float path (batched Keras);
- `drip-tiny fit --dpw 25` then `simulate`: validation and production retention.
Writes drip_scores.md and drip_scores.json here.

    python benchmarks/drip_scores.py [--run runs/digits]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

HERE = Path(__file__).resolve().parent


def _train(out: Path) -> None:
    subprocess.run([sys.executable, "-m", "drip_tiny", "train", "--quiet", "--force",
                    "--dataset", "digits", "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def _samples_per_second(fn, n: int, repeats: int = 3) -> float:
    best = min(_timed(fn) for _ in range(repeats))
    return n / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(run: Path) -> dict:
    from drip_tiny.drip import FloatGradCam
    from drip_tiny.drip.fit_run import fit_run
    from drip_tiny.drip.run_model import int8_gradcam_for_run
    from drip_tiny.drip.simulate_run import simulate_run
    from drip_tiny.run.directory import load_json, load_split
    from drip_tiny.tf_seam import keras
    from drip_tiny.tflite.tflm_reference import TflmModel, quantize

    meta = load_json(run, "metadata.json")
    xs, ys = zip(*(load_split(run, s) for s in ("validation", "production")))
    x, y = np.concatenate(xs), np.concatenate(ys)
    cam = int8_gradcam_for_run(run)
    q = quantize(x, cam.input.scale, cam.input.zero_point)
    model = keras.models.load_model(run / "float_model.keras", compile=False)
    fcam = FloatGradCam(model, meta["model"]["target_layer"])

    variants = {}
    for variant in ("raw", "max", "minmax"):
        a = cam.score(q, variant)
        b = fcam.score(x, variant)
        same = a.predicted == b.predicted
        rel = np.abs(a.drips - b.drips) / np.maximum(np.abs(b.drips), 1e-12)
        variants[variant] = {
            "pearson": float(pearsonr(a.drips, b.drips)[0]),
            "pearson_same_class": float(pearsonr(a.drips[same], b.drips[same])[0]),
            "spearman": float(spearmanr(a.drips, b.drips)[0]),
            "median_relative_difference": float(np.median(rel[same])),
            "predicted_class_agreement": float(same.mean()),
            "int8_accuracy": float((a.predicted == y).mean()),
            "float_accuracy": float((b.predicted == y).mean()),
        }

    tflm = TflmModel((run / "model.tflite").read_bytes())
    n = len(q)
    speed = {
        "samples": n,
        "tflm_inference_only": _samples_per_second(lambda: [tflm.invoke(s) for s in q], n),
        "int8_inference_gradcam_drips": _samples_per_second(lambda: cam.score(q, "minmax"), n),
        "float_gradcam_drips_batched": _samples_per_second(lambda: fcam.score(x, "minmax"), n),
    }

    fit = fit_run(run, dpw=25)
    sim = simulate_run(run)["summary"]
    retention = {
        "validation_discarded": sum(c.validation_discarded for c in fit.thresholds.classes),
        "validation_samples": len(fit.scores),
        "production_samples": sim["samples"],
        "production_discarded": sim["discarded"],
        "production_storage_savings": sim["storage_savings"],
        "production_accuracy_kept": sim["accuracy_kept"],
        "production_accuracy_discarded": sim["accuracy_discarded"],
    }
    return {"run": str(run), "samples": n, "variants": variants, "speed": speed,
            "retention": retention}


def write_report(result: dict) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    v, s, r = result["variants"], result["speed"], result["retention"]
    lines = [
        "# DRIP scores: int8 vs float Grad-CAM, speed, retention", "",
        f"Made by `python benchmarks/drip_scores.py` on {time.strftime('%Y-%m-%d')} ({machine}),",
        "on the default digits run (`drip-tiny train --dataset digits`), its validation and",
        f"production splits: {result['samples']} samples. int8 = the device's computation",
        "(TFLM inference, exact integer head gradient, integer map); float = GradientTape on the",
        "Keras model. Correlations over all samples; the relative difference over samples both",
        "paths predict the same class for.", "",
        "| variant | Pearson | Pearson (same class) | Spearman | median rel. diff | same predicted class |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in v.items():
        lines.append(f"| {name} | {m['pearson']:.4f} | {m['pearson_same_class']:.4f} | "
                     f"{m['spearman']:.4f} | {100 * m['median_relative_difference']:.2f}% | "
                     f"{100 * m['predicted_class_agreement']:.1f}% |")
    lines += [
        "", "## Scoring speed (this host, best of 3; Keras may use both cores)", "",
        "| what | samples/s |", "|---|---:|",
        f"| TFLM int8 inference only | {s['tflm_inference_only']:,.0f} |",
        f"| int8 inference + Grad-CAM + DRIPS (`Int8GradCam.score`) | {s['int8_inference_gradcam_drips']:,.0f} |",
        f"| float Grad-CAM + DRIPS, Keras, batches of 256 | {s['float_gradcam_drips_batched']:,.0f} |",
        "", "## DPW 25, minmax, int8 path", "",
        f"- validation: {r['validation_discarded']} of {r['validation_samples']} inside their class window "
        f"({100 * r['validation_discarded'] / r['validation_samples']:.1f}%)",
        f"- production: {r['production_discarded']} of {r['production_samples']} discarded "
        f"(storage savings {100 * r['production_storage_savings']:.1f}%); prediction accuracy "
        f"{100 * r['production_accuracy_kept']:.1f}% on kept, "
        f"{100 * r['production_accuracy_discarded']:.1f}% on discarded samples",
        "",
    ]
    (HERE / "drip_scores.md").write_text("\n".join(lines))
    (HERE / "drip_scores.json").write_text(json.dumps(result, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="an existing digits run (default: train one)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "digits"
        if options.run is not None:
            import shutil

            shutil.copytree(options.run, run)  # fitting here must not touch the user's run
        else:
            print("training the default digits run", file=sys.stderr, flush=True)
            _train(run)
        result = measure(run)
    write_report(result)
    print((HERE / "drip_scores.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
