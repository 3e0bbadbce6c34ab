"""Benchmark: float vs int8 (TFLM) test accuracy, model size, arena and wall time of
`drip-tiny train` on the README's configurations. Writes train_accuracy.md and .json here.

    python benchmarks/train_accuracy.py                 # digits (PTQ, QAT) and fashion-mnist
    python benchmarks/train_accuracy.py --only digits   # the quick rows

Wall time depends on the machine and its load; accuracy and sizes are what to compare.
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

HERE = Path(__file__).resolve().parent
CONFIGS = [
    ("digits", ["--dataset", "digits"]),
    ("digits", ["--dataset", "digits", "--quantize", "qat"]),
    ("fashion-mnist", ["--dataset", "fashion-mnist"]),
]


def run_one(args: list[str], out: Path) -> dict:
    command = [sys.executable, "-m", "drip_tiny", "train", "--quiet", "--force", "--out", str(out), *args]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return {"command": "drip-tiny train " + " ".join(args), "wall_seconds": round(wall, 1), **metrics}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the configurations of this dataset")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (dataset, args) in enumerate(CONFIGS):
            if options.only and dataset != options.only:
                continue
            print(f"running: drip-tiny train {' '.join(args)}", file=sys.stderr, flush=True)
            rows.append(run_one(args, Path(tmp) / f"run{i}"))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# drip-tiny train: accuracy, size and time", "",
        f"Made by `python benchmarks/train_accuracy.py` on {time.strftime('%Y-%m-%d')} ({machine}).",
        "int8 accuracy is measured with TFLM's interpreter on the test split. Arena is TFLM's",
        "(64-bit host layout). Wall time includes TensorFlow's start-up and depends on machine load.", "",
        "| command | float acc | int8 acc | int8 - float | model bytes | TFLM arena | epochs | wall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['command']}` | {100 * r['float_test_accuracy']:.2f}% | "
            f"{100 * r['int8_test_accuracy']:.2f}% | {r['int8_minus_float_points']:+.2f} | "
            f"{r['model_tflite_bytes']:,} | {r['tflm_arena_bytes']['total']:,} | "
            f"{r['epochs']}{'+' + str(r['qat_epochs']) + ' QAT' if r['qat_epochs'] else ''} | "
            f"{r['wall_seconds']:.0f} s |")
    (HERE / "train_accuracy.md").write_text("\n".join(lines) + "\n")
    (HERE / "train_accuracy.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
