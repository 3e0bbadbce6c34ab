"""Benchmark: the complete firmware image (app, protocol, store, board drivers, generated
model, DRIP kernel) per board and model, from `drip-tiny export`'s memory report, plus the
cost per stage measured on QEMU's Cortex-M4F. Writes firmware_memory.md and .json here.

    python benchmarks/firmware_memory.py

Models: the built-in digits CNN (`drip-tiny train --dataset digits`, the default run) and
the built-in Fashion-MNIST CNN (Debian's dataset-fashion-mnist). Memory depends on the
architecture, not on how long it trained, so the Fashion-MNIST run trains briefly
(--max-per-class 60 --epochs 2); its accuracy is not the point here.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's drip_tiny, not an installed one

from drip_tiny.cli import main as cli  # noqa: E402

MODELS = {
    "digits": ["--dataset", "digits"],
    "fashion-mnist": ["--dataset", "fashion-mnist", "--max-per-class", "60", "--epochs", "2"],
}
BOARDS = ["nrf52840", "mps2-an386"]
QEMU_SAMPLES = 50


def _run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"drip-tiny {' '.join(args)} failed with status {code}")


def measure(work: Path) -> list[dict]:
    from drip_tiny.emulator.launch import QemuBoard
    from drip_tiny.export import export_project
    from drip_tiny.hil.stream import stream_split

    rows = []
    for model, train_args in MODELS.items():
        run = work / model
        _run(["train", *train_args, "--out", str(run), "--quiet"])
        _run(["fit", str(run), "--dpw", "25", "--quiet"])
        for board in BOARDS:
            result = export_project(run, board, work / f"{model}-{board}")
            report = result.report.to_json()
            row = {"model": model, "board": board, "report": report,
                   "model_bytes": result.manifest["model"]["bytes"]}
            if board == "mps2-an386":
                with QemuBoard(result.images["elf"]) as emu, emu.connect() as device:
                    s = stream_split(device, run, "production", limit=QEMU_SAMPLES)
                    summary = s.summary()
                    row["qemu"] = {"samples": s.samples, "agree": summary["agree"],
                                   "inference": summary["cycles_inference"],
                                   "drip": summary["cycles_drip"],
                                   "store": summary["cycles_store_when_stored"]}
            rows.append(row)
    return rows


def _part(budget: dict, name: str) -> int:
    return next((p["bytes"] for p in budget["parts"] if p["name"] == name), 0)


def write(rows: list[dict]) -> None:
    gcc = subprocess.run(["arm-none-eabi-gcc", "-dumpversion"], capture_output=True,
                         text=True).stdout.strip()
    store = [{"sample": name, "bytes": size, "samples": dict(zip(BOARDS, held))}
             for name, size, held in store_rows(rows)]
    (HERE / "firmware_memory.json").write_text(json.dumps(
        {"machine": platform.machine(), "arm_gcc": gcc, "rows": rows, "store": store},
        indent=1) + "\n")
    lines = [
        "# Firmware memory per board (drip-tiny export) and cost per stage on QEMU",
        "",
        f"`python benchmarks/firmware_memory.py`; arm-none-eabi-gcc {gcc}, -O2. Flash and RAM "
        "from the built ELF (docs/export.md says how each part is found); limits are the "
        "board's flash minus the sample store and settings pages, and its RAM.",
        "",
        "| model | board | flash used | of | weights | RAM used | of | arena | stack |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        f, m = r["report"]["flash"], r["report"]["ram"]
        lines.append(f"| {r['model']} | {r['board']} | {f['used']:,} | {f['capacity']:,} | "
                     f"{_part(f, 'model weights and parameters'):,} | {m['used']:,} | "
                     f"{m['capacity']:,} | {_part(m, 'model arena'):,} | "
                     f"{_part(m, 'stack'):,} |")
    lines += ["", "Instructions per CLASSIFY stage on mps2-an386 (QEMU, counted exactly by the "
              f"insn_count plugin; mean over {QEMU_SAMPLES} production samples, every answer "
              "bit-exact with the reference):", "",
              "| model | inference | DRIP step | DRIP / inference | storing a kept sample | agree |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        q = r.get("qemu")
        if q:
            lines.append(f"| {r['model']} | {q['inference']:,.0f} | {q['drip']:,.0f} | "
                         f"{100 * q['drip'] / q['inference']:.2f}% | "
                         f"{q['store'] or 0:,.0f} | {q['agree']}/{q['samples']} |")
    lines += ["", "Samples the sample store holds (what `drip-tiny export` prints: an empty store "
              "under the stop policy, records packed as docs/storage-format.md lays them out, "
              "a sample larger than a page spanning pages). The audio row is the 1D audio "
              "model's one-second 16 kHz clip, computed the same way "
              "(drip_tiny/export/store_capacity.py):", "",
              "| sample | bytes | " + " | ".join(BOARDS) + " |",
              "|---|---:|" + "---:|" * len(BOARDS)]
    for sample, size, held in store_rows(rows):
        lines.append(f"| {sample} | {size:,} | " + " | ".join(f"{n:,}" for n in held) + " |")
    (HERE / "firmware_memory.md").write_text("\n".join(lines) + "\n")


AUDIO_CLIP_BYTES = 16000  # the 1D audio model's input: one second at 16 kHz, int8


def store_rows(rows: list[dict]) -> list[tuple[str, int, list[int]]]:
    """(sample, bytes, samples held on each board): the exported models as their memory
    reports state it, and the audio clip from the boards' store geometry."""
    from drip_tiny.boards import load_board
    from drip_tiny.export.store_capacity import store_capacity

    out = []
    for model in MODELS:
        reports = {r["board"]: r["report"]["store"] for r in rows if r["model"] == model}
        out.append((model, reports[BOARDS[0]]["sample_bytes"],
                    [reports[b]["samples"] for b in BOARDS]))
    out.append(("audio clip", AUDIO_CLIP_BYTES,
                [store_capacity(load_board(b).store, AUDIO_CLIP_BYTES).samples
                 for b in BOARDS]))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="drip-tiny-fwmem-") as tmp:
        rows = measure(Path(tmp))
    write(rows)
    print((HERE / "firmware_memory.md").read_text())


if __name__ == "__main__":
    main()
