"""Benchmark: instructions per inference of drip-tiny's generated C on an emulated Cortex-M4F
(QEMU mps2-an386), beside TFLM's published counts for the same anchor models, measured the
same way (TCG plugin, second inference after one warm-up, input x[i] = (int8)((i*37+11) &
0xFF), arm-none-eabi-gcc -O2, newlib-nano, hard float). Writes m4_instructions.md and .json.

    python benchmarks/m4_instructions.py                        # the five anchor models
    python benchmarks/m4_instructions.py --run runs/digits      # and a run's model.tflite

Every output on the emulated board is checked against TFLM's Python interpreter. Counts are
exact and repeat run to run; they are instructions, not cycles.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# Measure this checkout's drip_tiny, not whichever one is installed.
sys.path.insert(0, str(HERE.parent))
DEFAULT_MODELS = Path("/work/shared/anchors/models")
SOURCE = "/work/shared/anchors/README.md, \"TFLM on Cortex-M4F (QEMU mps2-an386)\""

# TFLM 90b983c2b (CMSIS-NN 4ab83cc3), arm-none-eabi-gcc 12.2.1, newlib-nano, copied as
# numbers from the anchors README (SOURCE): instructions per inference, arena bytes
# (arena_used_bytes() on the 32-bit target) and image text bytes (model included).
TFLM = {
    "digits_cnn": {"macs": 304_448,
                   "reference": {"instructions": 3_137_413, "arena": 4_356, "text": 40_308},
                   "cmsis_nn": {"instructions": 1_015_014, "arena": 4_996, "text": 70_168}},
    "fashion_cnn": {"macs": 1_919_872,
                    "reference": {"instructions": 20_831_696, "arena": 17_876, "text": 64_524},
                    "cmsis_nn": {"instructions": 5_436_433, "arena": 17_956, "text": 95_088}},
    "resnet8_cifar10": {"macs": 12_501_632,
                        "reference": {"instructions": 107_327_572, "arena": 54_308,
                                      "text": 133_640},
                        "cmsis_nn": {"instructions": 29_851_670, "arena": 54_964,
                                     "text": 165_920}},
    "dscnn_kws": {"macs": 2_656_768,
                  "reference": {"instructions": 42_999_825, "arena": 22_740, "text": 80_852},
                  "cmsis_nn": {"instructions": 7_694_911, "arena": 22_788, "text": 122_684}},
    "conv1d_audio": {"macs": 6_337_408,
                     "reference": {"instructions": 93_922_803, "arena": 131_860,
                                   "text": 66_780},
                     "cmsis_nn": {"instructions": 23_815_614, "arena": 132_004,
                                  "text": 97_344}},
}


def _tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.splitlines()[0].strip()


def measure(name: str, path: Path, optimization: str) -> dict:
    from drip_tiny.codegen import memory_report
    from drip_tiny.emulator import bench_input, bench_model
    from drip_tiny.tflite.tflm_reference import TflmModel

    data = path.read_bytes()
    started = time.perf_counter()
    result = bench_model(data, optimization=optimization)
    seconds = time.perf_counter() - started
    report = memory_report(data, optimization=optimization)
    tflm = TflmModel(data)
    shape = tflm.info.inputs[0].shape
    expected = tflm.invoke(bench_input(int(np.prod(shape))).reshape(shape))
    equal = all(np.array_equal(a, b) for a, b in zip(result.outputs, expected))
    return {
        "model": name, "tflite": str(path), "tflite_bytes": len(data),
        "tflite_sha256": hashlib.sha256(data).hexdigest(),
        "macs": report.macs, "instructions": result.invoke_instructions,
        "instructions_per_mac": result.invoke_instructions / report.macs,
        "marker_overhead": result.marker_overhead,
        "arena_bytes": report.arena_bytes, "weight_bytes": report.weight_bytes,
        "model_code_bytes": report.code_bytes,
        "image": {"text": result.sizes.text, "data": result.sizes.data,
                  "bss": result.sizes.bss},
        "outputs_equal_tflm": equal, "seconds": round(seconds, 2),
        "tflm": TFLM.get(name),
    }


def _row(r: dict) -> list[str]:
    def ratio(ref: dict | None) -> str:
        return f"{ref['instructions'] / r['instructions']:.2f}x" if ref else "-"

    t = r["tflm"] or {}
    ref, cmsis = t.get("reference"), t.get("cmsis_nn")
    fmt = lambda v: f"{v:,}" if v is not None else "-"  # noqa: E731
    return [
        r["model"], f"{r['macs']:,}", f"**{r['instructions']:,}**",
        f"{r['instructions_per_mac']:.2f}",
        fmt(ref and ref["instructions"]), ratio(ref),
        fmt(cmsis and cmsis["instructions"]), ratio(cmsis),
        f"{r['arena_bytes']:,}", fmt(ref and ref["arena"]),
        f"{r['image']['text']:,}", f"{r['image']['text'] - r['weight_bytes']:,}",
        fmt(ref and ref["text"]),
        "yes" if r["outputs_equal_tflm"] else "**NO**",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS,
                        help="folder of anchor .tflite models (default: %(default)s)")
    parser.add_argument("--run", type=Path, action="append", default=[],
                        help="a run directory whose model.tflite is measured too (repeatable)")
    parser.add_argument("-O", dest="optimization", default="2", choices=["0", "1", "2", "3", "s"],
                        help="optimization level of the whole image (default: 2, as TFLM's "
                             "kernels and benchmark main)")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="where m4_instructions.md and .json go (default: beside this script)")
    options = parser.parse_args(argv)
    optimization = f"-O{options.optimization}"
    models = [(p.stem, p) for p in sorted(options.models.glob("*.tflite"))]
    models += [(f"run:{r.name}", r / "model.tflite") for r in options.run]
    if not models:
        print(f"no .tflite models in {options.models}", file=sys.stderr)
        return 2
    from drip_tiny.errors import DripTinyError

    rows = []
    for name, path in models:
        print(f"measuring {name}", file=sys.stderr, flush=True)
        try:
            rows.append(measure(name, path, optimization))
        except DripTinyError as e:
            print(f"ERROR {name}: {e}", file=sys.stderr)
            return 1
    order = list(TFLM)
    rows.sort(key=lambda r: order.index(r["model"]) if r["model"] in order else len(order))

    gcc = _tool_version(["arm-none-eabi-gcc", "--version"])
    qemu = _tool_version(["qemu-system-arm", "--version"])
    today = datetime.date.today().isoformat()
    lines = [
        "# Instructions per inference on Cortex-M4F (QEMU mps2-an386): drip-tiny vs TFLM", "",
        f"Made by `python benchmarks/m4_instructions.py` on {today}: {gcc}; {qemu}; "
        f"whole image {optimization}, newlib-nano, `-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 "
        "-mfloat-abi=hard -mthumb`.",
        "Counted exactly by the insn_count TCG plugin (docs/instruction-counting.md) around the "
        "second `dt_model_invoke()` after one warm-up, input x[i] = (int8)((i*37+11) & 0xFF), "
        "the conditions of TFLM's figures, which are copied from " + SOURCE + " (TFLM 90b983c2b, "
        "CMSIS-NN 4ab83cc3; reference kernels and CMSIS-NN with ARM_MATH_DSP).",
        "Speed-up = TFLM instructions / drip-tiny instructions. Instructions are not cycles "
        "(QEMU models no wait states or branch costs).", "",
        "| model | MACs | drip-tiny instr | instr/MAC | TFLM reference | speed-up | "
        "TFLM CMSIS-NN | speed-up | arena | TFLM arena | text | text minus weights | "
        "TFLM ref. text | outputs = TFLM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in rows]
    lines += [
        "",
        "- drip-tiny: int8 kernels that give TFLM's outputs bit for bit; CONV_2D and "
        "DEPTHWISE_CONV_2D use the Cortex-M4's DSP instructions (SXTAB16, SMLAD), without "
        "scratch buffers; arena = the generated static arena; text = the whole image "
        "(arm-none-eabi-size: model code, weights, kernels, startup, benchmark main), no "
        "interpreter and no .tflite. text minus weights subtracts the constant arrays "
        "(weights, biases, multipliers, shifts).",
        "- TFLM arena is arena_used_bytes() on the 32-bit target; TFLM text includes the "
        ".tflite flatbuffer, the interpreter, startup, a UART driver and newlib-nano.",
        "- MACs are the codegen memory report's; they "
        + ("equal" if all(r["tflm"] is None or r["tflm"]["macs"] == r["macs"] for r in rows)
           else "**differ from**")
        + " the anchors README's MACs for every anchor model.",
        "- The counts include the call into dt_model_invoke and its return; the markers' own "
        "instructions (an empty region, "
        f"{rows[0]['marker_overhead']} instructions) are subtracted.",
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "m4_instructions.md").write_text("\n".join(lines) + "\n")
    (options.out / "m4_instructions.json").write_text(json.dumps(
        {"date": today, "machine": machine, "arm_gcc": gcc, "qemu": qemu,
         "optimization": optimization, "tflm_source": SOURCE, "rows": rows}, indent=2) + "\n")
    print("\n".join(lines))
    return 0 if all(r["outputs_equal_tflm"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
