"""Benchmark: how busy `drip-tiny hil` keeps the link, on the host board and on QEMU.

For each board: the harness (stop-and-wait, as `drip-tiny hil` runs), the raw link rate on
the same port (sample-sized frames the firmware rejects before computing,
`measure_raw_link`), and a window of 2 (frame k+1 written before reply k is read) that
the harness does not use because it could not be retried safely (docs/hil.md); it runs
here only to measure what pipelining would gain, on emulators that lose no byte, and its
answers are checked against the stop-and-wait ones. Writes hil_throughput.md and .json.

    python benchmarks/hil_throughput.py RUN [--samples 200]

RUN must be fitted; the images are exported into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's drip_tiny, not an installed one

import numpy as np  # noqa: E402

from drip_tiny.link import protocol as p  # noqa: E402
from drip_tiny.link.stream import (measure_raw_link, split_inputs,  # noqa: E402
                                   stream_samples)

IMAGES = {"host": "build/firmware", "mps2-an386": "build/firmware.elf"}


def window_of_two(device, q: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Samples/s with two CLASSIFY in flight, and the logits answered (no retries)."""
    port = device.port
    reader = p.FrameReader()
    pending: list[bytes] = []
    classes = device.identity.num_classes

    def reply():
        while not pending:
            chunk = port.read(max(1, getattr(port, "in_waiting", 0) or 1))
            if not chunk:
                raise RuntimeError("window of 2: a reply was lost (no retry here)")
            pending.extend(reader.feed(chunk))
        packet = p.decode_packet(p.cobs_decode(pending.pop(0)))
        return p.parse_classify(p.split_status(p.Command.CLASSIFY, packet), classes)

    frames = [p.frame(p.encode_packet(p.Command.CLASSIFY, 1000 + i, q[i].tobytes()))
              for i in range(len(q))]
    old_timeout = port.timeout
    port.timeout = 2.0
    logits = []
    start = time.perf_counter()
    port.write(frames[0])
    for i in range(len(q)):
        if i + 1 < len(q):
            port.write(frames[i + 1])
        logits.append(reply().logits)
    seconds = time.perf_counter() - start
    port.timeout = old_timeout
    return len(q) / seconds, logits


def measure(run: Path, board: str, n: int, out: Path) -> dict:
    from drip_tiny.export import export_project
    from drip_tiny.link.emulated import start_emulated

    export_project(run, board, out)
    x, _ = split_inputs(run, "production", n)
    with start_emulated(board, out / IMAGES[board]) as emulated:
        with emulated.connect() as device:
            device.store_erase()
            result = stream_samples(device, run, x)
            assert result.mismatches == []
            raw = measure_raw_link(device, result.inputs[0].tobytes(), n)
            device.store_erase()
            pipelined, logits = window_of_two(device, result.inputs)
            same = all(np.array_equal(a, b.logits) for a, b in zip(logits, result.device))
    harness = result.samples / result.seconds
    return {"board": board, "samples": n, "harness_samples_per_second": harness,
            "raw_frames_per_second": raw["frames_per_second"],
            "raw_bytes_per_second": raw["bytes_per_second"],
            "window2_samples_per_second": pipelined, "window2_answers_equal": same,
            "harness_fraction": harness / raw["frames_per_second"],
            "window2_fraction": pipelined / raw["frames_per_second"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for board in ("host", "mps2-an386"):
            rows.append(measure(args.run, board, args.samples, Path(tmp) / board))
            print(rows[-1], flush=True)
    data = {"machine": platform.platform(), "run": str(args.run), "results": rows}
    (HERE / "hil_throughput.json").write_text(json.dumps(data, indent=1) + "\n")
    lines = ["# hil throughput", "", f"`python benchmarks/hil_throughput.py {args.run} "
             f"--samples {args.samples}` on {data['machine']}.", "",
             "| board | harness (stop-and-wait) | window of 2 (not used) | raw link | "
             "harness / raw | window 2 / raw |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['board']} | {r['harness_samples_per_second']:.0f} samples/s | "
                     f"{r['window2_samples_per_second']:.0f} samples/s"
                     f"{'' if r['window2_answers_equal'] else ' (answers differ!)'} | "
                     f"{r['raw_frames_per_second']:.0f} frames/s, "
                     f"{r['raw_bytes_per_second'] / 1e3:.1f} kB/s | "
                     f"{100 * r['harness_fraction']:.0f}% | {100 * r['window2_fraction']:.0f}% |")
    (HERE / "hil_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
