"""The main job's chain (scripts/run-default.sh) on the embedded default, with what each
command printed: the figures the README quotes from `train`, `fit`, `simulate` and `hil`.
Writes default_run.json (every printout verbatim, the run's metrics and the machine) and
default_run.md here.

    python benchmarks/default_run.py            # about 3 minutes on a 2-core machine

Runs in a temporary folder, with the same relative paths as the README's commands
(runs/digits, build/...), so the printouts read as they do for a user. Also builds the
benchmark image of the trained model at -O2 and -Os (QEMU instruction counts; the README's
`--optimize size` sentence).

What depends on the machine: float training in TensorFlow is seeded and uses deterministic
ops, but its results still differ across CPUs (instruction sets) and thread counts, so
accuracies, thresholds and kept counts can move by a fraction of a point elsewhere (the CPU
and TensorFlow version are recorded). Instruction counts under QEMU's plugin are exact for a
given model. Times depend on the machine and its load.
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
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's drip_tiny

# The main job, as scripts/run-default.sh runs it (relative paths, as a user types them).
CHAIN = [
    ("train", ["train", "--dataset", "digits", "--out", "runs/digits"]),
    ("fit", ["fit", "runs/digits", "--dpw", "25"]),
    ("simulate", ["simulate", "runs/digits", "--split", "production",
                  "--json", "runs/digits/production.json"]),
    ("export_mps2", ["export", "runs/digits", "--board", "mps2-an386",
                     "--out", "build/mps2-an386"]),
    ("hil", ["hil", "runs/digits", "--board", "mps2-an386", "--image", "build/mps2-an386",
             "--split", "production", "--json", "runs/digits/device.json"]),
    ("export_nrf52840", ["export", "runs/digits", "--board", "nrf52840",
                         "--out", "build/nrf52840"]),
]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_chain(work: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    steps = {}
    for name, args in CHAIN:
        print(f"running: drip-tiny {' '.join(args)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "drip_tiny", *args], cwd=work, env=env,
                              capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise SystemExit(f"drip-tiny {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
        steps[name] = {"command": "drip-tiny " + " ".join(args), "stdout": done.stdout,
                       "wall_seconds": round(time.perf_counter() - started, 1)}
    return steps


def optimize_size(model: Path) -> dict:
    """The benchmark image of the trained model at -O2 and -Os: code size and instructions."""
    from drip_tiny.emulator import bench_model

    rows = {}
    for flag in ("-O2", "-Os"):
        b = bench_model(model, optimization=flag)
        rows[flag] = {"instructions": b.invoke_instructions, "text_bytes": b.sizes.text}
    return rows


def summarize(work: Path, steps: dict, optimization: dict) -> dict:
    run = work / "runs" / "digits"
    metrics = json.loads((run / "metrics.json").read_text())
    metadata = json.loads((run / "metadata.json").read_text())
    production = json.loads((run / "production.json").read_text())
    device = json.loads((run / "device.json").read_text())
    fit_last = [line for line in steps["fit"]["stdout"].splitlines()
                if line.startswith("validation samples inside their window")]
    return {
        "command": "python benchmarks/default_run.py",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(), "arch": platform.machine(),
                    "python": platform.python_version(),
                    "versions": metadata.get("versions", {})},
        "steps": steps,
        "metrics": metrics,
        "validation_inside_window": fit_last[0] if fit_last else None,
        "simulate": production.get("summary", production),
        "hil": {k: v for k, v in device.items() if k != "records"},
        "optimization": optimization,
    }


def write_markdown(result: dict, out: Path) -> None:
    m = result["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(m["versions"].items()))
    lines = ["# The default run: what each command prints", "",
             f"Made by `{result['command']}` on {result['date']}: {m['cpu']}, {m['cores']} "
             f"cores, Python {m['python']}; {versions}.", "",
             "Accuracies, thresholds and kept counts come from TensorFlow's float training, "
             "which is seeded but differs across CPUs and thread counts (a fraction of a "
             "point); instruction counts under QEMU are exact; times depend on load.", ""]
    for step in result["steps"].values():
        lines += [f"## `{step['command']}` ({step['wall_seconds']:.0f} s)", "", "```",
                  step["stdout"].rstrip("\n"), "```", ""]
    o = result["optimization"]
    lines += ["## Benchmark image of this model, -O2 against -Os (QEMU mps2-an386)", "",
              "| flags | instructions / inference | image text |", "|---|---:|---:|"]
    for flag, r in o.items():
        lines.append(f"| {flag} | {r['instructions']:,} | {r['text_bytes']:,} B |")
    (out / "default_run.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="drip-tiny-default-run-") as tmp:
        work = Path(tmp)
        steps = run_chain(work)
        optimization = optimize_size(work / "runs" / "digits" / "model.tflite")
        result = summarize(work, steps, optimization)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "default_run.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out)
    print((args.out / "default_run.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
