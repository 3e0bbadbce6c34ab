"""Benchmark: the generated DRIP kernel's cost on Cortex-M4F, as a fraction of one inference.

For each model, the generated inference runs twice on QEMU mps2-an386 (the anchors' input
pattern); the second inference and then drip_decide() on the tensors it left behind are
counted exactly by the instruction-counting plugin (docs/instruction-counting.md). The
device's decision printed by the image is checked against the host build of the same kernel.
Models: the default digits run (trained and fitted here with DPW 25, or --run), and the
anchor models (../shared/anchors, thresholds fitted on random inputs: their accuracy means
nothing, the cost does). Writes drips_kernel_m4.md and .json here.

    python benchmarks/drips_kernel_m4.py [--run runs/digits] [--anchors DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # measure this checkout's drip_tiny

GLUE = """\
#include <stdint.h>
#include "dt_model.h"
#include "drips_kernel.h"
#include "drip_thresholds.h"
#include "semihosting.h"

static const drip_thresholds_t thresholds = DRIP_DEFAULT_THRESHOLDS;
static drip_decision_t decision;

void dt_bench_extra(void)
{
    const int8_t *head[DRIP_HEAD_TENSOR_COUNT + 1];
    for (int i = 0; i < DRIP_HEAD_TENSOR_COUNT; i++) {
        head[i] = (const int8_t *)dt_model_keep(1 + i);
    }
    drip_decide((const int8_t *)dt_model_keep(0), (const int8_t *)dt_model_output(LOGITS_OUTPUT),
                head, &thresholds, &decision);
}

/* Called by the bench main after the counted regions: prints the decision. */
void dt_bench_report(void)
{
    static const char hex[] = "0123456789abcdef";
    char line[64] = "drip ";
    int n = 5;
    uint32_t bits;
    __builtin_memcpy(&bits, &decision.drips, 4);
    line[n++] = (char)('0' + decision.predicted / 10);
    line[n++] = (char)('0' + decision.predicted % 10);
    line[n++] = ' ';
    for (int s = 28; s >= 0; s -= 4) {
        line[n++] = hex[(bits >> s) & 15u];
    }
    line[n++] = ' ';
    line[n++] = (char)('0' + decision.keep);
    line[n++] = '\\n';
    line[n] = '\\0';
    dt_semihost_write0(line);
}
"""


def _measure(name: str, data: bytes, thresholds, target=None, logits=None) -> dict:
    from drip_tiny.boards import load_board
    from drip_tiny.drip import Int8GradCam
    from drip_tiny.drip.kernel_codegen import generate_drips_kernel, write_drips_kernel
    from drip_tiny.drip.kernel_host import HostDripsKernel
    from drip_tiny.emulator import bench_model
    from drip_tiny.emulator.model_bench import bench_input

    kernel = generate_drips_kernel(data, thresholds, target=target, logits=logits)
    cam = Int8GradCam(data, target=target, logits=logits)
    logits_output = [t.index for t in cam.info.outputs].index(kernel.logits.index)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_drips_kernel(kernel, tmp / "drip")
        glue = tmp / "drip_bench.c"
        glue.write_text(GLUE)
        board = load_board()
        keep = [kernel.target.index, *(t.index for t in kernel.head_tensors)]
        result = bench_model(data, keep=keep, work_dir=tmp / "work",
                             extra_sources=[glue, tmp / "drip" / "drips_kernel.c"],
                             extra_include_dirs=[tmp / "drip", board.directory],
                             defines=[f"LOGITS_OUTPUT={logits_output}"])
        # Check the emulated decision against the host build of the same kernel.
        x = bench_input(int(np.prod(cam.input.shape)))
        cam.map(x)
        host = HostDripsKernel(kernel).decide(cam.tensor(kernel.target.index),
                                               cam.tensor(kernel.logits.index),
                                               [cam.tensor(t.index) for t in kernel.head_tensors])
        line = next((ln.split() for ln in result.console.splitlines() if ln.startswith("drip ")),
                    None)
        device = None
        if line:
            device = (int(line[1]), float(np.frombuffer(bytes.fromhex(line[2])[::-1],
                                                        dtype=np.float32)[0]), bool(int(line[3])))
    return {"model": name, "variant": thresholds.variant, "head": cam.head.op_names,
            "target": list(cam.target.shape[1:]), "macs": result.macs,
            "inference_instructions": result.invoke_instructions,
            "drip_instructions": result.extra_instructions,
            "fraction": result.extra_instructions / result.invoke_instructions,
            "drip_work_bytes": kernel.work_bytes, "arena_bytes": result.arena_bytes,
            # Model + DRIP kernel image: .data + .bss in RAM and the painted stack's peak.
            "ram_peak_bytes": result.ram_peak_bytes, "stack_peak_bytes": result.stack_peak_bytes,
            "device_decision": device, "host_decision": list(host),
            "device_equals_host": device is not None and device == tuple(host)}  # bit for bit


def _random_thresholds(data: bytes, variant: str):
    from drip_tiny.drip import Int8GradCam
    from drip_tiny.drip.thresholds import fit_thresholds

    cam = Int8GradCam(data)
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(60, *cam.input.shape[1:])).astype(np.int8)
    s = cam.score(x, variant)
    return fit_thresholds(s.drips, s.predicted, [str(c) for c in range(cam.num_classes)], 25,
                          variant=variant, path="int8", group_by="predicted")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="a digits run (default: train one)")
    parser.add_argument("--anchors", type=Path, default=ROOT.parent / "shared" / "anchors" / "models")
    options = parser.parse_args()
    from drip_tiny.drip.fit_run import fit_run
    from drip_tiny.drip.thresholds import Thresholds
    from drip_tiny.run.directory import load_json
    from drip_tiny.tflite.flatbuffer import read_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "digits"
        if options.run is not None:
            import shutil

            shutil.copytree(options.run, run)  # fitting here must not touch the user's run
        else:
            subprocess.run([sys.executable, "-m", "drip_tiny", "train", "--quiet", "--dataset",
                            "digits", "--out", str(run)], check=True, stdout=subprocess.DEVNULL)
        data = (run / "model.tflite").read_bytes()
        meta = load_json(run, "metadata.json")["int8"]
        outs = read_model(data).outputs
        for variant in ("minmax", "max", "raw"):
            fit_run(run, dpw=25, variant=variant)
            rows.append(_measure("built-in digits CNN (default run)", data,
                                 Thresholds.load(run / "thresholds.json"),
                                 target=outs[meta["target_output"]].index,
                                 logits=outs[meta["logits_output"]].index))
    for path in sorted(options.anchors.glob("*.tflite")) if options.anchors.is_dir() else []:
        data = path.read_bytes()
        rows.append(_measure(f"anchor {path.stem}", data, _random_thresholds(data, "minmax")))
    lines = ["# The DRIP kernel on Cortex-M4F: cost per decision", "",
             f"Made by `python benchmarks/drips_kernel_m4.py` on {time.strftime('%Y-%m-%d')}: QEMU "
             "mps2-an386, arm-none-eabi-gcc -O2, instructions counted exactly (second inference, "
             "then drip_decide on the tensors it left), input x[i] = (int8)((i*37+11) & 0xFF). "
             "The emulated decision is checked against the host build of the same kernel.", "",
             "| model | variant | head | target | inference instr | DRIP kernel instr | fraction "
             "| kernel RAM | device = host |",
             "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['variant']} | {' -> '.join(r['head'])} | "
                     f"{'x'.join(map(str, r['target']))} | {r['inference_instructions']:,} | "
                     f"{r['drip_instructions']:,} | {100 * r['fraction']:.2f}% | "
                     f"{r['drip_work_bytes']:,} B | {'yes' if r['device_equals_host'] else 'NO'} |")
    (HERE / "drips_kernel_m4.md").write_text("\n".join(lines) + "\n")
    (HERE / "drips_kernel_m4.json").write_text(json.dumps(rows, indent=1) + "\n")
    print("\n".join(lines))
    return 0 if all(r["device_equals_host"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
