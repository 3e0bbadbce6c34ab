"""`drip-tiny hil` on QEMU (mps2-an386): 200 samples of the production split, bit-exact,
with instruction counts per stage, JUnit XML and the raw link rate of the same port."""

import json
import xml.etree.ElementTree as ET

import pytest
from firmware_build import exported, fitted_copy

from drip_tiny.cli import main


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("hilq") / "run")


@pytest.fixture(scope="module")
def mps2_export(run, tmp_path_factory):
    return exported(run, "mps2-an386", tmp_path_factory)


def test_200_samples_on_qemu_agree(run, mps2_export, tmp_path, capsys):
    code = main(["hil", str(run), "--board", "mps2-an386", "--image", str(mps2_export),
                 "--limit", "200", "--erase", "--raw-link", "40",
                 "--json", str(tmp_path / "q.json"), "--junit", str(tmp_path / "q.xml")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "agree with the reference: 200/200" in printed
    report = json.loads((tmp_path / "q.json").read_text())
    assert report["samples"] == 200 and report["mismatches"] == []
    assert [r["index"] for r in report["records"]] == list(range(200))
    lat = report["latency"]
    assert lat["unit"] == "instructions" and lat["clock_hz"] == 0
    assert lat["inference"]["ms"] is None
    # The same model costs nearly the same instructions on every sample.
    assert lat["inference"]["max"] - lat["inference"]["min"] < 0.01 * lat["inference"]["min"]
    assert lat["store"]["samples"] == report["stored"] == report["kept"]
    assert report["link"]["window"] == 8 and "pipelined, 8 in flight" in printed
    raw = report["raw_link"]
    assert raw["frames"] == 40 and raw["window"] == 8 and raw["frames_per_second"] > 0
    # Its share of the link is a measurement (benchmarks/hil_throughput.md), not a test.
    assert raw["harness_fraction"] > 0
    suite = ET.parse(tmp_path / "q.xml").getroot().find("testsuite")
    assert suite.get("tests") == "200" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 200


def test_pipelined_counts_equal_stop_and_wait_counts(run, mps2_export):
    """With 8 samples in flight the next ones arrive while the model runs, through the
    receive interrupt, which the plugin leaves out (board.json "uncounted"): every stage
    of every sample counts exactly what it counts with one request at a time."""
    from drip_tiny.emulator.launch import start_emulated
    from drip_tiny.hil.stream import split_inputs, stream_samples

    x, _ = split_inputs(run, "production", 40)
    with start_emulated("mps2-an386", mps2_export / "build" / "firmware.elf") as board:
        with board.connect() as device:
            device.store_erase()
            alone = stream_samples(device, run, x, window=1)
            device.store_erase()
            piped = stream_samples(device, run, x, window=8)
    assert alone.window == 1 and piped.window == 8
    assert alone.mismatches == [] and piped.mismatches == []

    def counts(result):
        return [(c.cycles_inference, c.cycles_drip, c.cycles_store) for c in result.device]

    assert counts(piped) == counts(alone)
    assert all(infer > 500_000 and drip > 1_000 for infer, drip, _ in counts(alone))
    # The same samples kept in the same store slots.
    assert [c.store_index for c in piped.device] == [c.store_index for c in alone.device]


def test_pipelining_keeps_the_window_full_and_loses_nothing(run, mps2_export):
    """What pipelining promises, in counts the protocol reports: with 8 in flight the host
    has 8 requests out before the first answer, the device takes every byte (no overrun,
    CRC or length error, nothing resent) and executes each sample once. The receive
    interrupt is counted too (uncounted=()): it can only add to a sample's inference count
    while the next requests arrive, and with one request at a time nothing arrives during
    inference, so stop-and-wait counts equal the default (interrupt left out) counts.
    How many samples overlap depends on how QEMU is scheduled; benchmarks/hil_overlap.py
    measures it."""
    from drip_tiny.emulator.launch import QemuBoard, start_emulated
    from drip_tiny.hil.stream import split_inputs, stream_samples

    x, _ = split_inputs(run, "production", 40)
    with QemuBoard(mps2_export / "build" / "firmware.elf", uncounted=()) as board:
        with board.connect() as device:
            device.store_erase()
            before = device.statistics()
            alone = stream_samples(device, run, x, window=1)
            device.store_erase()
            piped = stream_samples(device, run, x, window=8)
            after = device.statistics()
    with start_emulated("mps2-an386", mps2_export / "build" / "firmware.elf") as board:
        with board.connect() as device:
            device.store_erase()
            default = stream_samples(device, run, x, window=1)
    assert alone.mismatches == [] and piped.mismatches == []
    assert (alone.peak_in_flight, piped.peak_in_flight) == (1, 8)
    assert alone.retransmissions == piped.retransmissions == 0
    assert alone.resets == piped.resets == []
    assert after.classified - before.classified == 2 * len(x)  # each sample ran once per stream
    assert (after.serial_overruns, after.crc_errors, after.length_errors,
            after.oversize_frames) == (before.serial_overruns, before.crc_errors,
                                       before.length_errors, before.oversize_frames)
    assert ([c.cycles_inference for c in alone.device]
            == [c.cycles_inference for c in default.device])
    extra = [b.cycles_inference - a.cycles_inference
             for a, b in zip(alone.device, piped.device)]
    assert min(extra) >= 0, extra
