"""The benchmark table, in one command: drip-tiny against TFLM on the same models and the
same emulated Cortex-M4F, the DRIP step's cost, memory, the serial link and the Python side.

    python benchmarks/results.py                      # writes benchmarks/results.md and .json
    python benchmarks/results.py --quick --out DIR    # a smoke version (CI): digits only

Per model (the built-in digits and Fashion-MNIST models, trained here, and every
int8 .tflite in --anchors, the MLPerf Tiny shapes among them):
- instructions per inference on QEMU mps2-an386, counted exactly by the insn_count plugin
  built from source in the repo, twice (the table says whether the runs agree), and per
  operator (the kernels that cost the most);
- the DRIP step's instructions and its ratio to inference;
- RAM (arena, DRIP work buffers, and the benchmark image's .data + .bss) and flash (code
  plus weights of the linked benchmark image); for the built-in models also the complete
  nRF52840 firmware image (`drip-tiny export` memory report, stack included);
- TFLM's figures for the anchors (reference kernels and CMSIS-NN, measured on the same
  emulated core and copied from the anchors README, see m4_instructions.py) and our ratio
  to each; for the built-in models, TFLM measured the same way on their architectures
  (benchmarks/tflm_builtin.json, with the TFLM commit and flags).
Serial: samples and bytes per second streaming the digits production split to QEMU and to
the host board. Python: DRIP scores per second (TFLM interpreter + Python Grad-CAM, and the
generated C on this host), fitting thresholds to 100,000 scores.
Nothing here is a timed test; it measures and writes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's drip_tiny
sys.path.insert(0, str(HERE))

from drips_kernel_m4 import _measure as measure_drip_step  # noqa: E402
from drips_kernel_m4 import _random_thresholds  # noqa: E402
from m4_instructions import SOURCE as TFLM_SOURCE  # noqa: E402
from m4_instructions import TFLM, _tool_version  # noqa: E402

DEFAULT_ANCHORS = HERE.parent.parent / "shared" / "anchors" / "models"
# TFLM measured on the built-in models' architectures (beside the project, as the anchors'
# figures were; provenance and flags inside the file).
TFLM_BUILTIN = json.loads((HERE / "tflm_builtin.json").read_text())
BUILTIN = {
    "digits (built-in)": ["--dataset", "digits"],
    "fashion-mnist (built-in)": ["--dataset", "fashion-mnist", "--max-per-class", "60",
                                 "--epochs", "2"],
}
QEMU_SAMPLES = 200
TOP_OPS = 3


def _cli(args: list[str]) -> None:
    from drip_tiny.cli import main

    if main(args) != 0:
        raise SystemExit(f"drip-tiny {' '.join(args)} failed")


def _train(name: str, args: list[str], work: Path) -> Path:
    run = work / name.split()[0]
    _cli(["train", *args, "--out", str(run), "--quiet", "--force"])
    _cli(["fit", str(run), "--dpw", "25", "--quiet"])
    return run


def measure_model(name: str, data: bytes, run: Path | None, work: Path) -> dict:
    from drip_tiny.codegen import memory_report
    from drip_tiny.emulator import bench_model
    first = bench_model(data)
    second = bench_model(data)
    per_op = bench_model(data, per_op=True)
    report = memory_report(data)
    if run is not None:
        from drip_tiny.drip.run_model import run_model
        from drip_tiny.drip.thresholds import Thresholds

        _, target, logits = run_model(run)
        thresholds = Thresholds.load(run / "thresholds.json")
        drip = measure_drip_step(name, data, thresholds, target=target, logits=logits)
    else:
        drip = measure_drip_step(name, data, _random_thresholds(data, "minmax"))
    ops = sorted(per_op.op_instructions, key=lambda o: -o[2])
    row = {
        "model": name, "macs": report.macs,
        "instructions": first.invoke_instructions,
        "deterministic": first.invoke_instructions == second.invoke_instructions,
        "second_run": second.invoke_instructions,
        "instructions_per_mac": first.invoke_instructions / max(1, report.macs),
        "top_ops": [{"op": i, "name": n, "instructions": c,
                     "share": c / sum(o[2] for o in ops)} for i, n, c in ops[:TOP_OPS]],
        "drip_instructions": drip["drip_instructions"],
        "drip_fraction": drip["fraction"],
        "drip_equals_host": drip["device_equals_host"],
        "arena_bytes": report.arena_bytes, "drip_work_bytes": drip["drip_work_bytes"],
        "ram_peak_bytes": drip["ram_peak_bytes"], "stack_peak_bytes": drip["stack_peak_bytes"],
        "weight_bytes": report.weight_bytes,
        "image": {"text": first.sizes.text, "data": first.sizes.data, "bss": first.sizes.bss},
        "tflm": TFLM.get(name) or TFLM_BUILTIN["models"].get(name),
    }
    if run is not None:
        from drip_tiny.export import export_project

        result = export_project(run, "nrf52840", work / f"nrf-{name.split()[0]}")
        r = result.report.to_json()
        row["nrf52840"] = {"flash_used": r["flash"]["used"], "flash_capacity":
                           r["flash"]["capacity"], "ram_used": r["ram"]["used"],
                           "ram_capacity": r["ram"]["capacity"]}
    return row


def measure_serial(run: Path, work: Path, qemu_samples: int) -> list[dict]:
    from drip_tiny.emulator.launch import start_emulated
    from drip_tiny.export import export_project
    from drip_tiny.hil.stream import measure_raw_link, stream_split

    rows = []
    for board, limit in (("host", None), ("mps2-an386", qemu_samples)):
        result = export_project(run, board, work / f"serial-{board}")
        with start_emulated(board, result.images["elf"]) as emulated, \
                emulated.connect() as device:
            s = stream_split(device, run, "production", limit=limit)
            raw = measure_raw_link(device, s.inputs[0].tobytes(), s.samples, window=s.window)
            rows.append({"board": board, "samples": s.samples, "window": s.window,
                         "agree": s.samples - len({m["index"] for m in s.mismatches}),
                         "samples_per_second": s.samples / s.seconds,
                         "bytes_per_second": (s.bytes_sent + s.bytes_received) / s.seconds,
                         "raw_frames_per_second": raw["frames_per_second"],
                         "raw_bytes_per_second": raw["bytes_per_second"],
                         "mean_inference": s.summary()["cycles_inference"],
                         "clock_hz": device.identity.clock_hz})
    return rows


def measure_python(run: Path) -> dict:
    from drip_tiny.drip.kernel_host import HostDripModel
    from drip_tiny.drip.run_model import int8_gradcam_for_run
    from drip_tiny.drip.thresholds import fit_thresholds
    from drip_tiny.run.directory import load_split
    from drip_tiny.tflite.tflm_reference import quantize

    x, _ = load_split(run, "production")
    cam = int8_gradcam_for_run(run)
    q = quantize(x, cam.input.scale, cam.input.zero_point)
    start = time.perf_counter()
    cam.score(q, "minmax")
    tflm_path = len(q) / (time.perf_counter() - start)
    model = HostDripModel(run)
    start = time.perf_counter()
    model.decide_batch(q)
    host_c = len(q) / (time.perf_counter() - start)
    rng = np.random.default_rng(0)
    scores = rng.gamma(2.0, 0.1, 100_000).astype(np.float32)
    classes = rng.integers(0, 10, 100_000)
    start = time.perf_counter()
    fit_thresholds(scores, classes, [str(c) for c in range(10)], 25, variant="minmax",
                   path="int8", group_by="predicted")
    fit_seconds = time.perf_counter() - start
    return {"samples": len(q), "scores_per_second_tflm_python": tflm_path,
            "scores_per_second_generated_c_host": host_c,
            "fit_100000_scores_seconds": fit_seconds}


def _ratio(ours: int, theirs: int | None) -> str:
    return f"{theirs / ours:.2f}x" if theirs else "-"


def _costliest(models: list[dict], slower: set[str]) -> str:
    """Names the operators that cost the most where TFLM with CMSIS-NN is faster."""
    parts = []
    for r in models:
        if r["model"] in slower:
            ops = ", ".join(f"op {o['op']} {o['name']} {100 * o['share']:.0f}%"
                            for o in r["top_ops"])
            parts.append(f"{r['model']} spends most in {ops}")
    if not parts:
        return "The per-operator table below shows where the instructions go."
    return ("Where we are slower, " + "; ".join(parts) + " (per-operator table below; "
            "a first CONV_2D on a single input channel gains little from the DSP path).")


def _peak_vs_tflm(models: list[dict]) -> str:
    """A computed sentence: our whole peak RAM against TFLM's arena alone."""
    pairs = [(r["model"], r["ram_peak_bytes"], r["tflm"]["reference"]["arena"])
             for r in models if r.get("ram_peak_bytes") and r["tflm"]]
    if not pairs:
        return ""
    below = [m for m, ours, theirs in pairs if ours < theirs]
    if len(below) == len(pairs):
        return ("For every model with TFLM figures, TFLM's arena alone (without its stack) "
                "is larger than this whole peak. ")
    return (f"TFLM's arena alone is larger than this peak for {len(below)} of {len(pairs)} "
            "models with TFLM figures. ")


def write(result: dict, out: Path) -> None:
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# drip-tiny benchmarks", "",
             f"Made by `{result['command']}` on {result['date']}; {result['gcc']}; "
             f"{result['qemu']}; images -O2, `-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 "
             "-mfloat-abi=hard`. Instructions counted exactly on QEMU mps2-an386 by the "
             "insn_count plugin (docs/instruction-counting.md), second inference, input "
             "x[i] = (int8)((i*37+11) & 0xFF). TFLM figures: " + TFLM_SOURCE + "; for "
             "the built-in models, benchmarks/tflm_builtin.json (TFLM "
             + TFLM_BUILTIN["tflm_commit"].split()[0] + ", CMSIS-NN "
             + TFLM_BUILTIN["cmsis_nn_commit"][:8] + ", measured the same way on the same "
             "architectures with other weights: the reference kernels' counts move by about "
             "0.1% with the weights). "
             "Speed-up = TFLM instructions / ours: above 1x we run fewer instructions, "
             "below 1x TFLM does. Instructions are not cycles.", "",
             "## Instructions per inference and the DRIP step", "",
             "| model | MACs | ours | instr/MAC | runs agree | TFLM reference | speed-up | "
             "TFLM CMSIS-NN | speed-up | DRIP step | DRIP / inference |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["models"]:
        t = r["tflm"] or {}
        ref = (t.get("reference") or {}).get("instructions")
        cm = (t.get("cmsis_nn") or {}).get("instructions")
        lines.append(f"| {r['model']} | {r['macs']:,} | {r['instructions']:,} | "
                     f"{r['instructions_per_mac']:.2f} | "
                     f"{'yes' if r['deterministic'] else 'NO: ' + format(r['second_run'], ',')}"
                     f" | {format(ref, ',') if ref else '-'} | {_ratio(r['instructions'], ref)}"
                     f" | {format(cm, ',') if cm else '-'} | {_ratio(r['instructions'], cm)} | "
                     f"{r['drip_instructions']:,} | {100 * r['drip_fraction']:.2f}% |")
    cm_ratios = [(r["tflm"]["cmsis_nn"]["instructions"] / r["instructions"], r["model"])
                 for r in result["models"] if r["tflm"]]
    ref_ratios = [(r["tflm"]["reference"]["instructions"] / r["instructions"], r["model"])
                  for r in result["models"] if r["tflm"]]
    if cm_ratios:
        def named(group):
            return ", ".join(f"{m} ({x:.2f}x)" for x, m in sorted(group, reverse=True))

        faster = [(x, m) for x, m in cm_ratios if x > 1.01]
        par = [(x, m) for x, m in cm_ratios if 0.99 <= x <= 1.01]
        slower = [(x, m) for x, m in cm_ratios if x < 0.99]
        parts = [f"fewer instructions on {named(faster)}" if faster else "",
                 f"within 1% on {named(par)}" if par else "",
                 f"more on {named(slower)}" if slower else ""]
        lines += ["", f"Against TFLM's reference kernels we run "
                  f"{min(ref_ratios)[0]:.2f}x-{max(ref_ratios)[0]:.2f}x fewer instructions. "
                  "Against TFLM with CMSIS-NN: " + "; ".join(p for p in parts if p) + ". "
                  "Our convolutions use the Cortex-M4's DSP instructions (SXTAB16 widens "
                  "two int8 and adds the input offset, SMLAD does two MACs) with no scratch "
                  "buffer, and a portable C path elsewhere; every output equals TFLM's. "
                  + _costliest(result["models"], {m for _, m in slower})]
    lines += ["", "## Memory", "",
              "| model | arena | TFLM arena (ref, 32-bit) | arena ratio | DRIP work | "
              "peak RAM: model + DRIP + stack (stack) | "
              "weights | benchmark image text | TFLM ref. text | complete nRF52840 firmware: "
              "flash / RAM |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in result["models"]:
        t = (r["tflm"] or {}).get("reference") or {}
        nrf = r.get("nrf52840")
        smaller = f"{t['arena'] / r['arena_bytes']:.2f}x smaller" if t else "-"
        lines.append(
            f"| {r['model']} | {r['arena_bytes']:,} | "
            f"{format(t['arena'], ',') if t else '-'} | {smaller} | "
            f"{r['drip_work_bytes']:,} | "
            + (f"{r['ram_peak_bytes']:,} ({r['stack_peak_bytes']:,})"
               if r.get("ram_peak_bytes") else "-")
            + f" | {r['weight_bytes']:,} | {r['image']['text']:,} | "
            f"{format(t['text'], ',') if t else '-'} | "
            + (f"{nrf['flash_used']:,} / {nrf['ram_used']:,} B" if nrf else "-") + " |")
    lines += ["", "Peak RAM: the image with the model and the DRIP kernel (drips_kernel_m4.py), "
              "its .data + .bss in RAM plus the deepest the stack went through start-up, two "
              "inferences and the DRIP step (the stack is painted first and scanned after). "
              + _peak_vs_tflm(result["models"]) +
              ""
              "Benchmark image text: the model's code, weights and kernels with a minimal "
              "main, startup and newlib-nano (TFLM's text counts the same parts plus its "
              "interpreter and the .tflite). The complete firmware (app, protocol, store, "
              "drivers, 4 KB receive ring, 8 KB stack) is `drip-tiny export --board nrf52840`'s "
              "memory report, for the built-in models."]
    lines += ["", "## Where the instructions go (per operator, top "
              f"{TOP_OPS})", "", "| model | operator | instructions | share |", "|---|---|---:|---:|"]
    for r in result["models"]:
        for o in r["top_ops"]:
            lines.append(f"| {r['model']} | {o['op']}: {o['name']} | {o['instructions']:,} | "
                         f"{100 * o['share']:.1f}% |")
    lines += ["", "## Serial link (digits production split)", "",
              "`drip-tiny hil`'s streaming (every answer checked against the reference), then "
              "the raw link on the same port: as many sample-sized frames that the firmware "
              "rejects before computing, with the same number in flight. One run each: "
              "benchmarks/hil_throughput.md alternates several rounds for a steadier ratio.",
              "", "| board | samples | agree | in flight | samples/s | bytes/s | raw frames/s "
              "| raw bytes/s | harness / raw |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in result["serial"]:
        lines.append(f"| {s['board']} | {s['samples']} | {s['agree']} | {s['window']} | "
                     f"{s['samples_per_second']:.1f} | {s['bytes_per_second']:,.0f} | "
                     f"{s['raw_frames_per_second']:.1f} | {s['raw_bytes_per_second']:,.0f} | "
                     f"{100 * s['samples_per_second'] / s['raw_frames_per_second']:.0f}% |")
    p = result["python"]
    lines += ["", "## Python side (digits, this machine)", "",
              f"- DRIP scores per second, TFLM interpreter + Python int8 Grad-CAM: "
              f"{p['scores_per_second_tflm_python']:,.0f}",
              f"- DRIP scores per second, generated C model + DRIP kernel on this host: "
              f"{p['scores_per_second_generated_c_host']:,.0f}",
              f"- fitting thresholds to 100,000 scores (10 classes, DPW 25): "
              f"{p['fit_100000_scores_seconds']:.2f} s", ""]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS,
                        help="a folder of int8 .tflite models (MLPerf Tiny shapes, ...)")
    parser.add_argument("--run", type=Path, help="use this fitted digits run instead of "
                                                 "training one")
    parser.add_argument("--quick", action="store_true",
                        help="digits only, no anchors, 20 samples over QEMU (smoke test)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="drip-tiny-results-") as tmp:
        work = Path(tmp)
        runs = {}
        if args.run:
            runs["digits (built-in)"] = args.run
        for name, train_args in BUILTIN.items():
            if name in runs or (args.quick and name != "digits (built-in)"):
                continue
            runs[name] = _train(name, train_args, work)
        models = [measure_model(name, (run / "model.tflite").read_bytes(), run, work)
                  for name, run in runs.items()]
        if not args.quick and args.anchors.is_dir():
            for path in sorted(args.anchors.glob("*.tflite")):
                models.append(measure_model(path.stem, path.read_bytes(), None, work))
        digits = runs["digits (built-in)"]
        serial = measure_serial(digits, work, 20 if args.quick else QEMU_SAMPLES)
        python = measure_python(digits)
    command = ("python benchmarks/results.py" + (" --quick" if args.quick else "")
               + (f" --run {args.run}" if args.run else ""))
    result = {"command": command, "date": time.strftime("%Y-%m-%d"),
              "machine": platform.machine(),
              "gcc": _tool_version(["arm-none-eabi-gcc", "--version"]),
              "qemu": _tool_version(["qemu-system-arm", "--version"]),
              "models": models, "serial": serial, "python": python}
    write(result, args.out)
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
