"""Benchmark: how much of the link `drip-tiny hil` uses, on the host board and on QEMU.

For each board and window (requests in flight: 1 is stop-and-wait, 8 is hil's default),
rounds alternate the harness (stream_samples: every answer checked against the reference)
with the raw link on the same port (measure_raw_link: sample-sized frames that the
firmware rejects before computing, same window), each going first in every other round.
Alternating matters: this machine is shared, and a rate measured a minute apart can
differ by 30%. The table gives the median
of each and the median of the per-round ratios, with their range. Writes
hil_throughput.md and .json.

It also records where the CPU time goes, per frame: the emulator's threads (read from
/proc: QEMU's vCPU thread, its main loop, which moves the serial bytes, and the rest;
the host board's one process) and this process while streaming. On a machine with few
cores that says which side limits the rate.

    python benchmarks/hil_throughput.py RUN [--samples 575] [--rounds 5]

RUN must be fitted; the images are exported into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's drip_tiny, not an installed one

from drip_tiny.hil.stream import measure_raw_link, split_inputs, stream_samples  # noqa: E402

IMAGES = {"host": "build/firmware", "mps2-an386": "build/firmware.elf"}
WINDOWS = (1, 8)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def emulator_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by the emulator's threads: QEMU names its vCPU thread
    "CPU 0/TCG" (board.json passes debug-threads=on); its main loop is the process's
    first thread. Empty where /proc is missing."""
    out = {"vcpu": 0.0, "main_loop": 0.0, "other": 0.0}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for tid in tasks:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            seconds = _thread_cpu(pid, tid)
            key = ("vcpu" if name.startswith("CPU ") else
                   "main_loop" if int(tid) == pid else "other")
            out[key] += seconds
    except OSError:
        return {}
    return out


def _thread_cpu(pid: int, tid: str) -> float:
    """CPU seconds of one thread: schedstat's nanoseconds on a CPU, else stat's ticks."""
    try:
        return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def cpu_per_frame(before: dict, after: dict, own: float, frames: int) -> dict:
    """Milliseconds of CPU per frame for each emulator thread group and this process."""
    per = {k: 1e3 * (after[k] - before[k]) / frames for k in after}
    per["harness_process"] = 1e3 * own / frames
    return per


def measure(run: Path, board: str, n: int, rounds: int, out: Path) -> list[dict]:
    from drip_tiny.emulator.launch import start_emulated
    from drip_tiny.export import export_project

    export_project(run, board, out)
    x, _ = split_inputs(run, "production", n)
    rows = []
    with start_emulated(board, out / IMAGES[board]) as emulated:
        with emulated.connect() as device:
            pid = emulated.process.pid
            # A quantized sample for the raw link's probe frames (the first round may need it).
            x_int8 = stream_samples(device, run, x[:1], window=1).inputs[0].tobytes()
            for window in WINDOWS:
                harness, raw, raw_bytes, harness_bytes = [], [], [], []
                cpu = {"harness": [], "raw": []}

                def timed_raw(x_int8=x_int8, window=window, cpu=cpu):
                    before = emulator_cpu(pid)
                    link = measure_raw_link(device, x_int8, n, window=window)
                    if before:
                        cpu["raw"].append(cpu_per_frame(before, emulator_cpu(pid),
                                                         link["cpu_seconds"], n))
                    return link

                for k in range(rounds):
                    # Which goes first alternates, so a drift of the machine's speed
                    # during a round favours neither.
                    if k % 2:
                        link = timed_raw()
                    device.store_erase()
                    before = emulator_cpu(pid)
                    result = stream_samples(device, run, x, window=window)
                    if before:
                        cpu["harness"].append(cpu_per_frame(before, emulator_cpu(pid),
                                                            result.cpu_seconds, n))
                    if result.mismatches or result.resets:
                        raise SystemExit(f"{board}: the stream disagreed or reset: "
                                         f"{result.mismatches[:3]} {result.resets}")
                    x_int8 = result.inputs[0].tobytes()
                    if not k % 2:
                        link = timed_raw()
                    harness.append(result.samples / result.seconds)
                    harness_bytes.append((result.bytes_sent + result.bytes_received)
                                         / result.seconds)
                    raw.append(link["frames_per_second"])
                    raw_bytes.append(link["bytes_per_second"])
                ratios = [h / r for h, r in zip(harness, raw)]
                rows.append({
                    "board": board, "window": result.window, "samples": n, "rounds": rounds,
                    "harness_samples_per_second": harness, "raw_frames_per_second": raw,
                    "harness_bytes_per_second": harness_bytes,
                    "raw_bytes_per_second": raw_bytes, "ratios": ratios,
                    "median_ratio": statistics.median(ratios),
                    "cpu_ms_per_frame": {side: _median_dict(v) for side, v in cpu.items()}})
                print(f"{board} window {result.window}: harness "
                      f"{statistics.median(harness):.0f} samples/s, raw "
                      f"{statistics.median(raw):.0f} frames/s, ratio "
                      f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                      flush=True)
    return rows


LOOP_SOURCE = """#include "dt_model.h"
void dt_bench_extra(void)
{
    for (int i = 0; i < LOOPS; ++i) {
        (void)dt_model_invoke();
    }
}
"""


def emulated_inference_ms(run: Path, work: Path, loops: int = 2000, repeats: int = 3) -> dict:
    """Wall milliseconds QEMU takes per inference of run's model, without the plugin: the
    benchmark image run with `loops` extra inferences minus the same image with none
    (fastest of `repeats` runs each). On QEMU the vCPU thread that computes also moves
    every serial byte, so this is the share of a frame's time the link cannot hide."""
    from drip_tiny.emulator import bench_model
    from drip_tiny.emulator.insn_count import run_qemu

    work.mkdir(parents=True, exist_ok=True)
    loop = work / "loop.c"
    loop.write_text(LOOP_SOURCE)
    seconds, instructions = {}, 0
    for n in (0, loops):
        image = bench_model(run / "model.tflite", work_dir=work / f"loops{n}",
                            extra_sources=[loop], defines=[f"LOOPS={n}"])
        instructions = image.invoke_instructions
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run_qemu(image.elf, timeout=600)
            times.append(time.perf_counter() - start)
        seconds[n] = min(times)
    ms = 1e3 * (seconds[loops] - seconds[0]) / loops
    return {"loops": loops, "instructions": instructions, "ms": ms,
            "ns_per_instruction": 1e6 * ms / instructions}


def _median_dict(rounds: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]} if rounds else {}


def _cpu_cell(cpu: dict) -> str:
    """'vCPU 2.10 + main loop 1.70 + hil 0.30 ms' (QEMU) or 'device ... + hil ... ms'."""
    if not cpu:
        return "-"
    if cpu.get("vcpu", 0) > 0:
        parts = [f"vCPU {cpu['vcpu']:.2f}", f"main loop {cpu['main_loop']:.2f}"]
    else:
        parts = [f"device {cpu['main_loop'] + cpu['other']:.2f}"]
    return " + ".join(parts + [f"hil {cpu['harness_process']:.2f}"]) + " ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=575)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for board in ("host", "mps2-an386"):
            rows += measure(args.run, board, args.samples, args.rounds, Path(tmp) / board)
        compute = emulated_inference_ms(args.run, Path(tmp) / "compute")
    data = {"machine": platform.platform(), "run": str(args.run), "results": rows,
            "emulated_inference": compute}
    (HERE / "hil_throughput.json").write_text(json.dumps(data, indent=1) + "\n")
    med = statistics.median
    lines = ["# hil throughput", "",
             f"`python benchmarks/hil_throughput.py {args.run} --samples {args.samples} "
             f"--rounds {args.rounds}` on {data['machine']}. Each round streams the samples "
             "through the harness (every answer checked), then times as many sample-sized "
             "frames on the raw link of the same port with the same window; medians over "
             "the rounds, ratio = harness samples/s / raw frames/s per round.", "",
             "| board | in flight | harness | raw link, same port | harness / raw (range) |",
             "|---|---:|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['board']} | {r['window']} | "
            f"{med(r['harness_samples_per_second']):,.0f} samples/s, "
            f"{med(r['harness_bytes_per_second']) / 1e3:,.1f} kB/s | "
            f"{med(r['raw_frames_per_second']):,.0f} frames/s, "
            f"{med(r['raw_bytes_per_second']) / 1e3:,.1f} kB/s | "
            f"{100 * r['median_ratio']:.0f}% ({100 * min(r['ratios']):.0f}-"
            f"{100 * max(r['ratios']):.0f}%) |")
    lines += ["", "CPU time per frame (medians over the rounds; the emulator's threads from "
              "/proc, `hil` = this process while streaming), against the wall time per "
              "frame:", "",
              "| board | in flight | harness: CPU per sample | wall | raw link: CPU per frame "
              "| wall |", "|---|---:|---|---:|---|---:|"]
    for r in rows:
        cpu = r["cpu_ms_per_frame"]
        lines.append(
            f"| {r['board']} | {r['window']} | {_cpu_cell(cpu.get('harness', {}))} | "
            f"{1e3 / med(r['harness_samples_per_second']):.2f} ms | "
            f"{_cpu_cell(cpu.get('raw', {}))} | "
            f"{1e3 / med(r['raw_frames_per_second']):.2f} ms |")
    raw8 = [r for r in rows if r["board"] == "mps2-an386" and r["window"] == 8]
    share = (f", {100 * compute['ms'] * med(raw8[0]['raw_frames_per_second']) / 1e3:.0f}% "
             "of the raw link's time per frame with 8 in flight" if raw8 else "")
    lines += ["", f"QEMU computes one inference of this model ({compute['instructions']:,} "
              f"instructions) in {compute['ms']:.2f} ms of wall time "
              f"({compute['ns_per_instruction']:.2f} ns per instruction; "
              f"{compute['loops']} inferences timed without the plugin){share}. The same "
              "vCPU thread also handles every byte of the link, so this is time the link "
              "cannot hide when that thread is the busier side (docs/hil.md)."]
    (HERE / "hil_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
