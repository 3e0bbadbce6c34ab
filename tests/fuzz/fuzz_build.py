#!/usr/bin/env python3
"""Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined)
and writes their seed corpora: valid frames of every command, made with
drip_tiny.link.protocol, plus a few sessions of several frames.

    python tests/fuzz/fuzz_build.py OUT_DIR [--run RUN]

OUT_DIR gets frame_decoder, command_handler (executables) and corpus/<target>/.
The command handler links a real run's generated model (default: /work/runs/digits, a
trained and fitted run)."""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from drip_tiny.link.protocol import (  # noqa: E402
    Command,
    encode_packet,
    frame,
    set_thresholds_request,
    store_list_request,
    store_read_request,
    thresholds_record,
)

FIRMWARE = ROOT / "firmware"
FLAGS = ["-std=c99", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
         "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
         "-fno-omit-frame-pointer"]


class BuildError(RuntimeError):
    pass


def clang() -> str:
    found = shutil.which("clang")
    if not found:
        raise BuildError("clang is not installed: apt-get install clang "
                         "(scripts/debian-packages.txt)")
    return found


def _compile(out: Path, sources, includes, defines=(), extra=()) -> Path:
    command = [clang(), *FLAGS, *extra, *(f"-D{d}" for d in defines),
               *(f"-I{p}" for p in includes), *map(str, sources), "-o", str(out), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"building {out.name} failed:\n{result.stderr[-4000:]}")
    return out


def build_frame_decoder(out_dir: Path) -> Path:
    proto, store = FIRMWARE / "protocol", FIRMWARE / "store"
    # dt_packet's CRC-32 is the store's (dt_store_crc32).
    return _compile(out_dir / "frame_decoder",
                    [HERE / "fuzz_frame_decoder.c", *sorted(proto.glob("*.c")),
                     store / "dt_store.c"], [proto, store])


def build_command_handler(out_dir: Path, run: Path) -> Path:
    from firmware_build import APP_INCLUDES, app_sources, model_sources

    gen = model_sources(run, out_dir / "generated")
    sources = [HERE / "fuzz_command_handler.c", HERE / "fuzz_board.c", *app_sources(),
               FIRMWARE / "store" / "dt_flash_sim.c", *sorted(gen.glob("*.c"))]
    # dt_main.c has main(); libFuzzer brings its own.
    sources = [s for s in sources if s.name != "dt_main.c"]
    return _compile(out_dir / "command_handler", sources, [*APP_INCLUDES, HERE, gen],
                    defines=["DT_FLASH_SIM_NO_FILES",
                             "DT_APP_STORE_POLICY=DT_STORE_FULL_OVERWRITE_OLDEST"],
                    # The generated DRIP step asks gcc for fp-contract=off per function;
                    # clang ignores that attribute, so the flag says it for the whole build.
                    extra=["-ffp-contract=off", "-Wno-unknown-attributes"])


def seed_frames(input_bytes: int, classes: int) -> dict[str, bytes]:
    """One valid frame per command (several for the ones with arguments)."""
    sample = bytes((i * 37) & 0xFF for i in range(input_bytes))
    record = thresholds_record([0.0] * classes, [0.0] * classes, [0] * classes)
    fitted = thresholds_record([0.1 * i for i in range(classes)],
                               [0.2 + 0.1 * i for i in range(classes)], [1] * classes)
    packets = {
        "identify": encode_packet(Command.IDENTIFY, 1),
        "classify": encode_packet(Command.CLASSIFY, 2, sample),
        "classify_zeros": encode_packet(Command.CLASSIFY, 3, bytes(input_bytes)),
        "statistics": encode_packet(Command.STATISTICS, 4),
        "store_list": encode_packet(Command.STORE_LIST, 5, store_list_request(0, 16)),
        "store_list_far": encode_packet(Command.STORE_LIST, 6, store_list_request(7, 1000)),
        "store_read": encode_packet(Command.STORE_READ, 7, store_read_request(0)),
        "store_erase": encode_packet(Command.STORE_ERASE, 8),
        "set_thresholds_keep_all": encode_packet(Command.SET_THRESHOLDS, 9,
                                                 set_thresholds_request(record, classes)),
        "set_thresholds_fitted": encode_packet(Command.SET_THRESHOLDS, 10,
                                               set_thresholds_request(fitted, classes)),
        "reset_thresholds": encode_packet(Command.RESET_THRESHOLDS, 11),
        "reset": encode_packet(Command.RESET, 12),
    }
    seeds = {name: b"\x00" + frame(p) for name, p in packets.items()}
    # Sessions: keep everything, store until the 4-page store wraps, read, erase.
    session = frame(packets["set_thresholds_keep_all"])
    for i in range(10):
        session += frame(encode_packet(Command.CLASSIFY, 20 + i, sample[i:] + sample[:i]))
    session += frame(packets["store_list"]) + frame(packets["store_read"])
    seeds["session_fill_wrap"] = session
    seeds["session_erase_repeat"] = (frame(packets["classify"]) * 2 +
                                     frame(packets["store_erase"]) +
                                     frame(packets["store_read"]) + frame(packets["statistics"]))
    return seeds


def write_corpora(out_dir: Path, input_bytes: int, classes: int) -> None:
    seeds = seed_frames(input_bytes, classes)
    for target in ("frame_decoder", "command_handler"):
        corpus = out_dir / "corpus" / target
        corpus.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (corpus / f"seed_{name}").write_bytes(data)


def model_shape(run: Path) -> tuple[int, int]:
    from drip_tiny.tflite.tflm_reference import TflmModel
    info = TflmModel((run / "model.tflite").read_bytes()).info
    inp, out = info.inputs[0], info.outputs[0]
    return int(struct.calcsize("b") * __import__("numpy").prod(inp.shape)), int(out.shape[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="build the fuzz targets and seed corpora")
    ap.add_argument("out_dir")
    ap.add_argument("--run", default="/work/runs/digits")
    args = ap.parse_args(argv)
    out, run = Path(args.out_dir), Path(args.run)
    out.mkdir(parents=True, exist_ok=True)
    try:
        build_frame_decoder(out)
        build_command_handler(out, run)
    except BuildError as e:
        print(f"fuzz build: {e}", file=sys.stderr)
        return 1
    write_corpora(out, *model_shape(run))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
