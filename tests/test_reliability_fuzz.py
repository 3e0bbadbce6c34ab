"""Bounded libFuzzer runs of the firmware (issue 9): the frame decoder and the whole
command handler of the host build with a real model, under ASan + UBSan, from the seed
corpus of tests/fuzz/fuzz_build.py. Each runs 15 s here; scripts/fuzz.sh runs them as long as
asked (docs/reliability.md has the long run's numbers). Needs clang
(scripts/debian-packages.txt)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from firmware_build import fitted_copy

sys.path.insert(0, str(Path(__file__).resolve().parent / "fuzz"))
import fuzz_build

SECONDS = 15


@pytest.fixture(scope="module")
def fuzzers(digits_ptq_run, tmp_path_factory):
    assert shutil.which("clang"), "clang is missing: apt-get install clang"
    base = tmp_path_factory.mktemp("fuzz")
    run = fitted_copy(digits_ptq_run, base / "run")
    assert fuzz_build.main([str(base / "out"), "--run", str(run)]) == 0
    return base / "out"


def fuzz(out: Path, target: str) -> dict:
    artifacts = out / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(out / target), f"-max_total_time={SECONDS}", "-print_final_stats=1",
         "-timeout=10", f"-artifact_prefix={artifacts}/", str(out / "corpus" / target)],
        capture_output=True, text=True, timeout=SECONDS + 60)
    log = result.stderr
    assert result.returncode == 0, log[-3000:]
    assert list(artifacts.iterdir()) == [], log[-3000:]
    inited = re.search(r"INITED cov: (\d+) ft: (\d+)", log)
    last = re.findall(r"cov: (\d+) ft: (\d+)", log)[-1]
    execs = int(re.search(r"stat::number_of_executed_units: (\d+)", log).group(1))
    return {"execs": execs, "seed_cov": int(inited.group(1)), "cov": int(last[0]),
            "ft": int(last[1])}


def test_seed_corpus_has_a_valid_frame_of_every_command(fuzzers):
    from drip_tiny.link.protocol import Command, FrameReader, cobs_decode, decode_packet

    seen = set()
    for seed in (fuzzers / "corpus" / "command_handler").iterdir():
        reader = FrameReader()
        for raw in reader.feed(seed.read_bytes()):
            seen.add(decode_packet(cobs_decode(raw)).command)
    assert seen == {int(c) for c in Command}


def test_frame_decoder_fuzzes_clean(fuzzers):
    stats = fuzz(fuzzers, "frame_decoder")
    assert stats["execs"] > 50_000
    assert stats["cov"] >= stats["seed_cov"] > 20


def test_command_handler_fuzzes_clean(fuzzers):
    stats = fuzz(fuzzers, "command_handler")
    # A CLASSIFY runs the real model under the sanitizers (about 2 ms): fewer executions,
    # but the seeds reach every command, so coverage starts high.
    assert stats["execs"] > 500
    assert stats["seed_cov"] > 200
