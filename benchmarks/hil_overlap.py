"""Benchmark: how often the next samples stream in while the model runs, on QEMU mps2-an386.

Pipelining (`hil --window 8`) is meant to let the link carry the next requests while the
device computes. The instruction-counting plugin normally leaves the UART receive
interrupt out (board.json "uncounted"); with it counted, a sample whose inference region
holds more instructions when pipelined than with one request at a time took in bytes
while computing. Each round streams the same samples with window 1, then 8, on one QEMU
and counts those samples. How many overlap depends on how the host schedules QEMU's
threads, so it is measured here rather than asserted in a test (the test checks the
counts the protocol reports: tests/test_hil_qemu.py). Writes hil_overlap.md and .json.

    python benchmarks/hil_overlap.py RUN [--samples 40] [--rounds 5]

RUN must be fitted; the image is exported into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's drip_tiny, not an installed one

from drip_tiny.hil.stream import split_inputs, stream_samples  # noqa: E402


def measure_round(run: Path, elf: Path, n: int) -> dict:
    from drip_tiny.emulator.launch import QemuBoard

    x, _ = split_inputs(run, "production", n)
    with QemuBoard(elf, uncounted=()) as board:
        with board.connect() as device:
            device.store_erase()
            alone = stream_samples(device, run, x, window=1)
            device.store_erase()
            piped = stream_samples(device, run, x, window=8)
    if alone.mismatches or piped.mismatches:
        raise SystemExit("hil_overlap: the device disagreed with the reference; "
                         "run `drip-tiny hil` to see where")
    extra = [b.cycles_inference - a.cycles_inference for a, b in zip(alone.device, piped.device)]
    return {"samples": n, "overlapped": sum(e > 0 for e in extra),
            "peak_in_flight": piped.peak_in_flight,
            "retransmissions": alone.retransmissions + piped.retransmissions,
            "max_extra_instructions": max(extra)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from drip_tiny.export import export_project

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mps2"
        export_project(args.run, "mps2-an386", out)
        rounds = [measure_round(args.run, out / "build" / "firmware.elf", args.samples)
                  for _ in range(args.rounds)]
    counts = [r["overlapped"] for r in rounds]
    command = (f"python benchmarks/hil_overlap.py {args.run} --samples {args.samples} "
               f"--rounds {args.rounds}")
    data = {"command": command, "machine": platform.platform(), "cpus": os.cpu_count(),
            "samples": args.samples, "rounds": rounds,
            "median_overlapped": statistics.median(counts),
            "min_overlapped": min(counts), "max_overlapped": max(counts)}
    (HERE / "hil_overlap.json").write_text(json.dumps(data, indent=1) + "\n")
    lines = ["# Samples that stream in while the model runs (QEMU mps2-an386)", "",
             f"`{command}` on {data['machine']} ({data['cpus']} CPUs). Per round: samples "
             "whose inference region counted receive-interrupt instructions with 8 requests "
             "in flight (none can with 1).", "",
             "| round | overlapped | of | peak in flight | retransmissions | most extra "
             "instructions |", "|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rounds):
        lines.append(f"| {i} | {r['overlapped']} | {r['samples']} | {r['peak_in_flight']} | "
                     f"{r['retransmissions']} | {r['max_extra_instructions']:,} |")
    lines += ["", f"Median {data['median_overlapped']:g} of {args.samples} "
              f"(range {data['min_overlapped']}-{data['max_overlapped']}). The count depends "
              "on how busy the machine is: QEMU's main loop moves the serial bytes and can "
              "miss a whole inference when it gets no core.", ""]
    (HERE / "hil_overlap.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
