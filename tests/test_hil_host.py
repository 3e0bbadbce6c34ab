"""`drip-tiny hil` and `drip-tiny pull` against the host board (the real firmware built for
the machine): the whole production split with every report, --samples, a device whose
thresholds were changed, a device that resets mid-stream and one that stops answering,
and the pull-back of exactly the kept samples."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from firmware_build import build_host_firmware, exported, fitted_copy

from drip_tiny.cli import main
from drip_tiny.emulator.launch import start_emulated
from drip_tiny.errors import LinkError
from drip_tiny.hil.stream import split_inputs, stream_samples
from drip_tiny.link import protocol as p


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("hil") / "run")


@pytest.fixture(scope="module")
def host_export(run, tmp_path_factory):
    return exported(run, "host", tmp_path_factory)


@pytest.fixture(scope="module")
def whole_split(run, host_export, tmp_path_factory):
    """One hil run over the whole production split with every report, then a pull."""
    out = tmp_path_factory.mktemp("reports")
    code = main(["hil", str(run), "--board", "host", "--image", str(host_export), "--erase",
                 "--json", str(out / "r.json"), "--markdown", str(out / "r.md"),
                 "--png", str(out / "r.png"), "--junit", str(out / "r.xml")])
    pulled = main(["pull", "--board", "host", "--image", str(host_export),
                   "--out", str(out / "kept.npz")])
    return code, pulled, out


def test_whole_production_split_agrees_and_reports_every_sample(run, whole_split):
    code, _, out = whole_split
    assert code == 0
    report = json.loads((out / "r.json").read_text())
    _, y = split_inputs(run, "production")
    n = len(y)
    assert report["samples"] == n > 500
    # Every sample once, in order, with its label.
    assert [r["index"] for r in report["records"]] == list(range(n))
    assert [r["label"] for r in report["records"]] == y.tolist()
    assert report["mismatches"] == [] and report["resets"] == []
    assert report["agreement"] == {f: n for f in ("predicted", "logits", "drips", "decision")}
    for r in report["records"][:50]:
        assert r["device"]["logits"] == r["reference"]["logits"]
        assert r["device"]["predicted"] == r["reference"]["predicted"]
        assert (r["device"]["store_index"] is None) == (not r["device"]["keep"])
    assert report["accuracy"] == pytest.approx(
        np.mean([r["device"]["predicted"] == r["label"] for r in report["records"]]))
    kept = sum(r["device"]["keep"] for r in report["records"])
    assert report["kept"] == kept and report["retention"] == pytest.approx(kept / n)
    assert report["storage_savings"] == pytest.approx(1 - kept / n)
    per_class = report["per_class_retention"]
    assert sum(c["samples"] for c in per_class) == n and sum(c["kept"] for c in per_class) == kept
    assert per_class == report["reference_per_class_retention"]
    lat = report["latency"]
    assert lat["unit"] == "cycles" and lat["clock_hz"] == 1_000_000_000
    assert lat["inference"]["ms"] == pytest.approx(1e3 * lat["inference"]["mean"] / 1e9)
    assert lat["inference"]["mean"] > lat["drip"]["mean"] > 0
    link = report["link"]
    assert link["samples_per_second"] > 10 and link["retransmissions"] == 0
    # Each CLASSIFY frame carries at least the sample; each reply at least the logits.
    assert link["bytes_sent"] >= n * (64 + p.OVERHEAD)
    assert link["bytes_received"] >= n * (10 + p.OVERHEAD)


def test_markdown_png_and_junit(whole_split):
    _, _, out = whole_split
    md = (out / "r.md").read_text()
    assert md.startswith("# drip-tiny hil: host") and "| predicted | " in md
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(out / "r.xml").getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    report = json.loads((out / "r.json").read_text())
    assert int(suite.get("tests")) == len(cases) == report["samples"]
    assert suite.get("failures") == "0" and not suite.findall(".//failure")
    assert cases[7].get("name") == "sample_000007"


def test_pull_returns_exactly_the_kept_samples(run, whole_split):
    code, pulled, out = whole_split
    assert code == 0 and pulled == 0
    report = json.loads((out / "r.json").read_text())
    kept = [r for r in report["records"] if r["device"]["keep"]]
    data = np.load(out / "kept.npz")
    assert len(data["x"]) == len(kept) > 0
    assert data["x"].dtype == np.int8 and data["x"].shape[1:] == (8, 8, 1)
    assert data["index"].tolist() == [r["device"]["store_index"] for r in kept]
    assert data["predicted"].tolist() == [r["device"]["predicted"] for r in kept]
    assert data["drips"].tolist() == [np.float32(r["device"]["drips"]) for r in kept]
    # Same bytes as the samples streamed: the production split quantized the device's way.
    from drip_tiny.tflite.tflm_reference import quantize

    x, _ = split_inputs(run, "production")
    rows = [r["index"] for r in kept]
    sent = quantize(x[rows], float(data["input_scale"]), int(data["input_zero_point"]))
    assert data["x"].tobytes() == sent.tobytes()


def test_samples_npy_float_and_int8(run, host_export, tmp_path):
    from drip_tiny.tflite.tflm_reference import quantize

    x, _ = split_inputs(run, "production", 12)
    np.save(tmp_path / "f.npy", x)
    out = tmp_path / "f.json"
    assert main(["hil", str(run), "--board", "host", "--image", str(host_export),
                 "--samples", str(tmp_path / "f.npy"), "--json", str(out)]) == 0
    floats = json.loads(out.read_text())
    assert floats["samples"] == 12 and floats["accuracy"] is None
    assert floats["records"][0]["label"] is None
    ident = floats["identity"]
    q = quantize(x, ident["input_scale"], ident["input_zero_point"])
    np.save(tmp_path / "q.npy", q)
    assert main(["hil", str(run), "--board", "host", "--image", str(host_export),
                 "--samples", str(tmp_path / "q.npy"), "--json", str(out)]) == 0
    ints = json.loads(out.read_text())
    fields = ("predicted", "logits", "drips", "keep")
    assert [[r["device"][k] for k in fields] for r in ints["records"]] == \
        [[r["device"][k] for k in fields] for r in floats["records"]]
    np.save(tmp_path / "bad.npy", q.reshape(12, -1)[:, :10])
    assert main(["hil", str(run), "--board", "host", "--image", str(host_export),
                 "--samples", str(tmp_path / "bad.npy")]) == 1


def test_thresholds_changed_on_the_device_are_refused(run, host_export, tmp_path, capsys):
    flash = tmp_path / "flash.bin"
    with start_emulated("host", host_export / "build" / "firmware", flash_file=flash) as board:
        with board.connect() as device:
            ident = device.identify()
            c = ident.num_classes
            device.set_thresholds([0.1] * c, [0.2] * c, [True] * c)
            with pytest.raises(LinkError, match=r"thresholds .* re-export"):
                stream_samples(device, run, split_inputs(run, "production", 3)[0])
            device.reset_thresholds()
            result = stream_samples(device, run, split_inputs(run, "production", 3)[0])
            assert result.mismatches == [] and result.samples == 3


class ProxyPort:
    """The host board's real port, with faults: before the CLASSIFY number `reset_at` it
    sends the device a real RESET (its reply swallowed) and drops that CLASSIFY, as if the
    board rebooted with the sample in flight; from CLASSIFY number `silent_from` on,
    nothing reaches the device."""

    def __init__(self, inner, reset_at=None, silent_from=None, lost=1, drop=True):
        self.inner = inner
        self.drop = drop  # False: the CLASSIFY at reset_at goes through after the reset
        self.lost = lost  # CLASSIFY frames dropped from reset_at on (1: only that one)
        self.reset_at = reset_at
        self.silent_from = silent_from
        self.classify = 0
        self.reader = p.FrameReader()
        self.buffer = bytearray()

    def write(self, data):
        for raw in self.reader.feed(bytes(data)):
            packet = p.decode_packet(p.cobs_decode(raw))
            if self.silent_from is not None and self.classify + 1 >= self.silent_from:
                self.classify += packet.command == p.Command.CLASSIFY
                continue  # a dead device: nothing gets through
            if packet.command != p.Command.CLASSIFY:
                self.inner.write(p.frame(p.cobs_decode(raw)))
                continue
            self.classify += 1
            if self.classify == self.reset_at:
                self._reset()
                if self.drop:
                    continue
            if (self.reset_at is not None
                    and self.reset_at < self.classify < self.reset_at + self.lost):
                continue  # the retries are lost too: the host gives up on this sample
            self.inner.write(p.frame(p.cobs_decode(raw)))
        return len(data)

    def _reset(self):
        import time

        self.inner.write(p.frame(p.encode_packet(p.Command.RESET, 0xBEEF)))
        reader = p.FrameReader()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            for raw in reader.feed(self.inner.read(64)):
                try:
                    is_reset = p.decode_packet(p.cobs_decode(raw)).sequence == 0xBEEF
                except LinkError:
                    is_reset = False  # the tail of a reply the host has begun to read
                if is_reset:
                    return  # the RESET's reply, never seen by the host
                # A reply to a request the host has in flight: it still gets it, byte for
                # byte (with 8 in flight the host may hold the first part of it already).
                self.buffer += bytes(raw) + b"\x00"
        raise AssertionError("no reply to RESET")

    def read(self, n=1):
        if self.buffer:
            chunk, self.buffer = self.buffer[:n], self.buffer[n:]
            return bytes(chunk)
        return self.inner.read(n)

    @property
    def in_waiting(self):
        return len(self.buffer) or self.inner.in_waiting

    def fileno(self):
        raise AttributeError("no descriptor: bytes may wait in the proxy's buffer")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_reset_mid_stream_is_detected_and_no_sample_is_lost(run, host_export, tmp_path):
    x, _ = split_inputs(run, "production", 30)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.3) as device:
            device.store_erase()
            device.port = ProxyPort(device.port, reset_at=11)
            result = stream_samples(device, run, x, check_every=1000)
            assert result.samples == 30 and result.mismatches == []
            assert len(result.device) == 30 and result.retransmissions == 1
            assert result.window == 8  # the samples after it were in flight
            [event] = result.resets
            # Sample 10 (the 11th CLASSIFY) was lost with the reboot; the replies to later
            # samples showed it, so it was resent and ran once after the reboot.
            assert event["index"] == 10 and event["reset"]
            assert event["context"] == "statistics check"
            assert event["duplicate_stores"] == 0
            entries = device.store_list()
            assert len(entries) == sum(c.keep for c in result.device)
            assert device.statistics().classified == 20  # since the reboot


def test_a_reset_that_loses_nothing_is_caught_by_a_probe_in_the_stream(run, host_export,
                                                                      tmp_path):
    """The device reboots between two samples and no request or reply is lost, so nothing
    is resent: only the counter shows it. A STATISTICS probe travels with the samples every
    check_every samples; the first one after the reboot reads less than expected, the
    harness drains, checks and records the reset. Every sample is answered once."""
    x, _ = split_inputs(run, "production", 40)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.5) as device:
            device.store_erase()
            device.port = ProxyPort(device.port, reset_at=15, drop=False)
            result = stream_samples(device, run, x, check_every=10)
            assert result.samples == 40 and result.mismatches == []
            assert result.retransmissions == 0
            [event] = result.resets
            assert event["context"] == "statistics check" and event["reset"]
            assert 14 <= event["index"] < 30  # seen by the probe after sample 20 or 30
            device.port = device.port.inner
            assert device.statistics().classified == 40 - 14  # samples 14..39 after it


def test_a_device_that_stops_answering_names_the_sample_and_port(run, host_export, tmp_path):
    x, _ = split_inputs(run, "production", 10)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.1, retries=1) as device:
            device.port = ProxyPort(device.port, silent_from=5)
            with pytest.raises(LinkError, match=r"stopped answering at sample 4 \(of 10\) "
                                                f"on {board.url}"):
                stream_samples(device, run, x, recover_seconds=0.5)


def test_disagreements_fail_the_run_and_are_each_reported(run, host_export, tmp_path,
                                                          capsys, monkeypatch):
    """A reference that expects the opposite decision on every third sample and other
    logits on sample 5 (the device is right; the comparison is what is tested)."""
    from drip_tiny.hil import stream
    real = stream.expected_answers

    def shifted(*args):
        predicted, logits, drips, keep = real(*args)
        keep = keep.copy()
        keep[::3] = ~keep[::3]
        logits = logits.copy()
        logits[5, 0] += 1
        return predicted, logits, drips, keep

    monkeypatch.setattr(stream, "expected_answers", shifted)
    out = tmp_path / "r.json"
    code = main(["hil", str(run), "--board", "host", "--image", str(host_export), "--limit",
                 "20", "--json", str(out), "--junit", str(tmp_path / "r.xml")])
    printed = capsys.readouterr().out
    assert code == 1
    report = json.loads(out.read_text())
    flipped = list(range(0, 20, 3))
    decisions = [m for m in report["mismatches"] if m["field"] == "decision"]
    assert [m["index"] for m in decisions] == flipped
    assert all(m["device"] != m["reference"] for m in decisions)
    [logits] = [m for m in report["mismatches"] if m["field"] == "logits"]
    assert logits["index"] == 5 and logits["reference"][0] == logits["device"][0] + 1
    assert report["agreement"] == {"predicted": 20, "logits": 19, "drips": 20,
                                   "decision": 20 - len(flipped)}
    assert report["agree"] == 20 - len(set(flipped) | {5})
    assert "sample 5: logits: device" in printed
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    failed = [case.get("name") for case in suite.findall("testcase")
              if case.find("failure") is not None]
    assert failed == [f"sample_{i:06d}" for i in sorted(set(flipped) | {5})]
    assert suite.get("failures") == str(len(failed))


def test_a_reset_with_every_retry_lost_is_recovered_by_identify(run, host_export, tmp_path):
    x, _ = split_inputs(run, "production", 12)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.2, retries=1) as device:
            device.port = ProxyPort(device.port, reset_at=4, lost=2)
            result = stream_samples(device, run, x, window=1)  # stop-and-wait
            assert result.samples == 12 and result.mismatches == []
            [event] = result.resets
            assert event["index"] == 3 and event["context"] == "no answer" and event["reset"]
            # Checked once the resent sample was answered: it alone ran since the reboot.
            assert event["classified"] == 1 and event["expected_classified"] == 4
            assert device.statistics().classified == 9  # samples 3..11 after the reboot


def test_a_pipelined_stream_survives_a_reset_and_a_silent_spell(run, host_export, tmp_path):
    """Four samples in flight when the device reboots; those four and their one resend
    are all lost (8 frames), so the host gives up on them, waits for IDENTIFY, checks the
    hashes and sends the four again: each sample answered once, nothing stored twice."""
    x, _ = split_inputs(run, "production", 40)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.2, retries=1) as device:
            device.store_erase()
            device.port = ProxyPort(device.port, reset_at=4, lost=8)
            result = stream_samples(device, run, x, window=4)
            assert result.samples == 40 and result.mismatches == []
            assert result.window == 4 and result.retransmissions == 8  # 4 resent, twice
            [event] = result.resets
            assert event["index"] == 3 and event["context"] == "no answer" and event["reset"]
            assert event["duplicate_stores"] == 0
            assert device.statistics().classified == 37  # samples 3..39, once each
            kept = [c for c in result.device[3:] if c.store_result is p.StoreResult.STORED]
            assert len(device.store_list()) == len(kept) + sum(
                c.store_result is p.StoreResult.STORED for c in result.device[:3])


class LossyPort:
    """The host board's port losing whole frames: the CLASSIFY requests numbered in
    `requests` never reach the device, the replies numbered in `replies` never reach the
    host (numbers from 1, in the order they pass)."""

    def __init__(self, inner, requests=(), replies=()):
        self.inner = inner
        self.drop_requests, self.drop_replies = set(requests), set(replies)
        self.requests = self.replies = 0
        self.up, self.down = p.FrameReader(), p.FrameReader()
        self.buffer = bytearray()

    def write(self, data):
        for raw in self.up.feed(bytes(data)):
            if not raw:
                continue
            packet = p.decode_packet(p.cobs_decode(raw))
            if packet.command == p.Command.CLASSIFY:
                self.requests += 1
                if self.requests in self.drop_requests:
                    continue
            self.inner.write(p.frame(p.cobs_decode(raw)))
        return len(data)

    def read(self, n=1):
        for raw in self.down.feed(self.inner.read(max(n, self.inner.in_waiting))):
            self.replies += 1
            if self.replies not in self.drop_replies:
                self.buffer += p.frame(p.cobs_decode(raw))
        chunk, self.buffer = bytes(self.buffer[:n]), self.buffer[n:]
        return chunk

    @property
    def in_waiting(self):
        return len(self.buffer) or self.inner.in_waiting

    def fileno(self):
        raise AttributeError("frames wait in the proxy")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_lost_requests_and_replies_in_a_pipeline_run_nothing_twice(run, host_export, tmp_path):
    """With 4 in flight, requests 3 and 10 vanish and replies 6, 7 and 20 vanish: every
    loss is made good by resending (the device replays what it ran), each sample runs
    exactly once, and no reset is reported."""
    x, _ = split_inputs(run, "production", 40)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.3) as device:
            device.store_erase()
            before = device.statistics().classified
            device.port = LossyPort(device.port, requests={3, 10}, replies={6, 7, 20})
            result = stream_samples(device, run, x, window=4)
            assert result.samples == 40 and result.mismatches == []
            assert result.resets == [] and result.retransmissions >= 5
            device.port = device.port.inner
            assert device.statistics().classified - before == 40  # once each
            stored = [c.store_index for c in result.device
                      if c.store_result is p.StoreResult.STORED]
            assert sorted(stored) == [e.index for e in device.store_list()]


def test_the_raw_link_measurement_resends_lost_probe_frames(run, host_export, tmp_path):
    from drip_tiny.hil.stream import measure_raw_link

    x, _ = split_inputs(run, "production", 1)
    with start_emulated("host", host_export / "build" / "firmware",
                        flash_file=tmp_path / "flash.bin") as board:
        with board.connect(timeout=0.2) as device:
            q = stream_samples(device, run, x, window=1).inputs[0].tobytes()
            before = device.statistics()
            device.port = LossyPort(device.port, requests={2, 9}, replies={5})
            raw = measure_raw_link(device, q, 30, window=8)
            device.port = device.port.inner
            assert raw["frames"] == 30 and raw["window"] == 8 and raw["frames_per_second"] > 0
            after = device.statistics()
            # The probes ran nothing: no sample classified, none stored.
            assert after.classified == before.classified and after.kept == before.kept


def test_a_kept_sample_the_store_fails_to_write_fails_the_run(run, tmp_path, capsys):
    """Data loss is an error even when every answer agrees: a store of 2 pages of 64 bytes
    cannot take a 64-byte digits sample (TOO_BIG), so every kept sample is lost."""
    exe = build_host_firmware(run, tmp_path / "fw",
                              defines=["DT_HOST_STORE_PAGES=2", "DT_HOST_PAGE_BYTES=64"])
    code = main(["hil", str(run), "--board", "host", "--image", str(exe), "--limit", "30",
                 "--raw-link", "0", "--json", str(tmp_path / "r.json"),
                 "--junit", str(tmp_path / "r.xml")])
    err = capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["mismatches"] == []  # the answers agree; the data is what was lost
    assert report["kept"] > 0 and report["stored"] == 0
    assert report["store_failures"] == report["kept"]
    assert code == 1
    assert f"error: {report['kept']} kept sample(s) were not stored" in err
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert int(suite.get("failures")) == report["kept"]
    assert len(suite.findall("testcase/failure[@type='store_error']")) == report["kept"]


def test_a_full_store_under_the_stop_policy_is_reported_not_an_error(run, tmp_path, capsys):
    """2 pages of 256 bytes hold five 64-byte samples; the rest find the store full, which
    the stop policy promises (the stored ones are kept), so the run passes and says so."""
    exe = build_host_firmware(run, tmp_path / "fw",
                              defines=["DT_HOST_STORE_PAGES=2", "DT_HOST_PAGE_BYTES=256"])
    code = main(["hil", str(run), "--board", "host", "--image", str(exe), "--limit", "40",
                 "--raw-link", "0", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["kept"] > 5
    assert report["stored"] == 5 and report["store_full"] == report["kept"] - 5
    assert report["store_failures"] == 0
    assert code == 0
    assert (f"stored 5, store full {report['store_full']}, store errors 0") in out
