"""Benchmark: the generated C's static arena against TFLM's, per model, with weight and
code bytes for Cortex-M4F and a bit-exactness check. Writes codegen_memory.md and .json here.

    python benchmarks/codegen_memory.py                          # built-in digits model only
    python benchmarks/codegen_memory.py --anchors DIR            # plus every DIR/*.tflite

The built-in digits model is trained afresh (`drip-tiny train --dataset digits`, a few
seconds). TFLM's arena comes from its Python interpreter (RecordingMicroAllocator): the head
is its activation plan, the tail its bookkeeping on this 64-bit host (smaller on a 32-bit
MCU). Our arena is all the RAM the generated model needs besides the stack.
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
sys.path.insert(0, str(HERE.parent))  # the checkout's drip_tiny, not an installed one

import numpy as np  # noqa: E402

from drip_tiny.codegen import HostModel, memory_report  # noqa: E402
from drip_tiny.codegen.report import arm_toolchain  # noqa: E402
from drip_tiny.tflite.tflm_reference import TflmModel  # noqa: E402

CHECK_INPUTS = 20


def measure(name: str, data: bytes, cache: Path) -> dict:
    ref = TflmModel(data)
    tflm = ref.arena_usage()
    has_arm = arm_toolchain() is not None
    report = memory_report(data, code_size=has_arm)
    size_os = memory_report(data, code_size=True, optimization="-Os").code_bytes if has_arm else None
    host = HostModel(data, cache_dir=cache)
    rng = np.random.default_rng(0)
    shape = host.info.inputs[0].shape
    equal = 0
    for i in range(CHECK_INPUTS):
        x = rng.integers(-128, 128, size=shape).astype(np.int8)
        if i < 2:
            x[...] = (-128, 127)[i]
        equal += all(np.array_equal(a, b) for a, b in zip(host.invoke(x), ref.invoke(x)))
    return {
        "model": name, "ops": sorted(set(host.info.op_names)), "macs": report.macs,
        "arena": report.arena_bytes, "tensor_bound": report.tensor_bound_bytes,
        "tflm_head": tflm.head, "tflm_total": tflm.total,
        "vs_head": round(100.0 * (1 - report.arena_bytes / tflm.head), 1),
        "vs_total": round(100.0 * (1 - report.arena_bytes / tflm.total), 1),
        "weights": report.weight_bytes, "params": report.params_bytes,
        "code_O2": report.code_bytes, "code_Os": size_os,
        "bit_exact": f"{equal}/{CHECK_INPUTS}",
    }


def train_digits(out: Path) -> bytes:
    subprocess.run([sys.executable, "-m", "drip_tiny", "train", "--quiet", "--dataset", "digits",
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL, cwd=HERE.parent)
    return (out / "model.tflite").read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anchors", type=Path, help="a folder of int8 .tflite models to add")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        print("training the built-in digits model", file=sys.stderr, flush=True)
        rows.append(measure("built-in digits CNN (freshly trained)",
                            train_digits(Path(tmp) / "digits"), cache))
        if options.anchors:
            for path in sorted(options.anchors.glob("*.tflite")):
                print(f"measuring {path.name}", file=sys.stderr, flush=True)
                rows.append(measure(path.stem, path.read_bytes(), cache))
    anchors_label = (f"{options.anchors.parent.name}/{options.anchors.name}/"
                     if options.anchors else "")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    gcc = subprocess.run(["arm-none-eabi-gcc", "-dumpversion"], capture_output=True,
                         text=True).stdout.strip() if arm_toolchain() else "absent"
    lines = [
        "# Generated C vs TFLM: memory", "",
        f"Made by `python benchmarks/codegen_memory.py"
        f"{' --anchors ' + anchors_label if options.anchors else ''}` on "
        f"{time.strftime('%Y-%m-%d')} ({machine}; arm-none-eabi-gcc {gcc}).", "",
        "- **arena**: our static activation arena, all the RAM the model needs (plus stack).",
        "- **tensor bound**: the most bytes alive at once at tensor granularity, the floor of "
        "any planner that keeps each operator's output apart from its input (TFLM's planner).",
        "- **TFLM head / total**: TFLM's activation plan / whole arena (64-bit host layout) "
        "from its Python interpreter. **saved** is 1 - arena / head (and / total).",
        "- **weights**: constant arrays in flash; **params**: the per-operator parameter "
        "structs; **code**: text+data of the model code and the kernels it calls, "
        "Cortex-M4F, at -O2 and -Os.",
        "- **bit-exact**: inputs (all -128, all 127, random) on which every output equals "
        "TFLM's.", "",
        "| model | MACs | arena | tensor bound | TFLM head | TFLM total | saved vs head | "
        "saved vs total | weights | params | code -O2 | code -Os | bit-exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {r['arena']:,} | {r['tensor_bound']:,} | "
            f"{r['tflm_head']:,} | {r['tflm_total']:,} | {r['vs_head']}% | {r['vs_total']}% | "
            f"{r['weights']:,} | {r['params']} | {r['code_O2']} | {r['code_Os']} | "
            f"{r['bit_exact']} |")
    lines += ["", "Operators: " + "; ".join(f"{r['model']}: {', '.join(r['ops'])}" for r in rows),
              ""]
    (HERE / "codegen_memory.md").write_text("\n".join(lines))
    (HERE / "codegen_memory.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
