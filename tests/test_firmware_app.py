"""The firmware application (firmware/app, firmware/protocol) on the host board, built from
a real digits run and driven through the protocol of docs/protocol.md over stdio pipes.

The firmware is built with AddressSanitizer and UBSan: every test also checks that the
process exits 0 at end of input without a word on stderr."""

import hashlib
import struct
import zlib

import numpy as np
import pytest
from firmware_build import build_host_firmware, fitted_copy
from firmware_device import Device, cobs_encode, frame, packet

from drip_tiny.export.store_capacity import samples_that_fit
from drip_tiny.link import protocol as wire
from drip_tiny.link.protocol import max_frame

# The wire codes: one definition in firmware/protocol/dt_wire.h, mirrored by the host's
# protocol module (tests/test_wire_codes.py checks the two agree).
C, S = wire.Command, wire.Status
IDENTIFY, CLASSIFY, STATISTICS = C.IDENTIFY, C.CLASSIFY, C.STATISTICS
STORE_LIST, STORE_READ, STORE_ERASE = C.STORE_LIST, C.STORE_READ, C.STORE_ERASE
SET_THRESHOLDS, RESET_THRESHOLDS, RESET = C.SET_THRESHOLDS, C.RESET_THRESHOLDS, C.RESET
ERR_CRC, ERR_VERSION, ERR_UNKNOWN, ERR_LENGTH, ERR_TOO_LONG = (
    S.ERR_CRC, S.ERR_VERSION, S.ERR_UNKNOWN_COMMAND, S.ERR_LENGTH, S.ERR_TOO_LONG)
ERR_SAMPLE_SIZE, ERR_STORE, ERR_NOT_FOUND, ERR_THRESHOLDS = (
    S.ERR_SAMPLE_SIZE, S.ERR_STORE, S.ERR_NOT_FOUND, S.ERR_THRESHOLDS)
NOT_STORED = wire.NOT_STORED


# ---- fixtures: a fitted digits run, its reference, its firmware ----

@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("fw") / "run")


@pytest.fixture(scope="module")
def reference(run):
    """Production samples (int8) with the Python reference's answer for each."""
    from drip_tiny.drip.kernel_host import HostDripModel
    from drip_tiny.run.directory import load_split
    from drip_tiny.tflite.tflm_reference import TflmModel, quantize

    model = HostDripModel(run)
    data = (run / "model.tflite").read_bytes()
    tflm = TflmModel(data)
    x, _ = load_split(run, "production")
    inp = tflm.info.inputs[0]
    q = quantize(x[:80], inp.scale, inp.zero_point).reshape(80, -1)
    logits_output = [t.index for t in tflm.info.outputs].index(model.kernel.logits.index)
    answers = []
    for sample in q:
        predicted, drips, keep = model.decide(sample)
        logits = tflm.invoke(sample)[logits_output].reshape(-1)
        answers.append((predicted, np.float32(drips), keep, logits.astype(np.int8)))
    return {"x": q, "answers": answers, "input": inp, "model": data}


@pytest.fixture(scope="module")
def firmware(run, tmp_path_factory):
    return build_host_firmware(run, tmp_path_factory.mktemp("host"), sanitize=True)


@pytest.fixture
def device(firmware, tmp_path):
    d = Device(firmware, tmp_path / "flash.bin")
    yield d
    if d.proc.poll() is None:
        d.close()


# ---- reply parsers (docs/protocol.md) ----

def parse_identify(body: bytes) -> dict:
    out = {"protocol": struct.unpack_from("<H", body)[0],
           "firmware": body[2:18].rstrip(b"\0").decode(),
           "board": body[18:34].rstrip(b"\0").decode()}
    out["model_hash"], out["thresholds_hash"], rank = struct.unpack_from("<IIB", body, 34)
    p = 43
    out["shape"] = struct.unpack_from(f"<{rank}H", body, p)
    p += 2 * rank
    rest = "<fiHBIIBIIB"
    names = ("scale", "zero_point", "classes", "variant", "capacity", "stored", "policy",
             "max_frame", "clock", "replay_depth")
    out.update(zip(names, struct.unpack_from(rest, body, p)))
    assert len(body) == p + struct.calcsize(rest)
    return out


def parse_classify(body: bytes, classes: int = 10) -> dict:
    predicted = body[0]
    logits = np.frombuffer(body[1:1 + classes], dtype=np.int8)
    drips, keep, result, index, infer, drip, store = struct.unpack_from("<fBBIIII", body,
                                                                        1 + classes)
    assert len(body) == 1 + classes + 22
    return dict(predicted=predicted, logits=logits, drips=np.float32(drips), keep=keep,
                result=result, index=index, cycles=(infer, drip, store))


def statistics(device) -> tuple:
    return struct.unpack("<9I", device.ok(STATISTICS))


def store_list(device, first=0, count=100) -> list:
    body = device.ok(STORE_LIST, struct.pack("<IH", first, count))
    (n,) = struct.unpack_from("<H", body)
    assert len(body) == 2 + 17 * n
    return [struct.unpack_from("<IIBfI", body, 2 + 17 * i) for i in range(n)]


def store_list_all(device) -> list:
    """Pages through STORE_LIST (the device answers at most as many entries as fit)."""
    entries = []
    while True:
        page = store_list(device, first=len(entries), count=1000)
        if not page:
            return entries
        entries += page


def store_read(device, index):
    reply = device.request(STORE_READ, struct.pack("<I", index))
    if reply.status:
        return reply
    sample_id, predicted, drips = struct.unpack_from("<IBf", reply.body)
    return sample_id, predicted, np.float32(drips), reply.body[9:]


def thresholds_payload(lower, upper, has, classes=None, record_hash=None) -> bytes:
    record = b"".join(struct.pack("<ffB", lo, hi, h) for lo, hi, h in zip(lower, upper, has))
    if record_hash is None:
        record_hash = zlib.crc32(record)
    return struct.pack("<HI", len(lower) if classes is None else classes, record_hash) + record


def classify(device, sample) -> dict:
    return parse_classify(device.ok(CLASSIFY, np.asarray(sample, np.int8).tobytes()))


def bits(f) -> int:
    return struct.unpack("<I", struct.pack("<f", f))[0]


# ---- tests ----

def test_identify_describes_the_model_and_board(device, run, reference):
    from drip_tiny.drip.kernel_codegen import thresholds_hash
    from drip_tiny.drip.thresholds import Thresholds

    info = parse_identify(device.ok(IDENTIFY))
    digest = hashlib.sha256(reference["model"]).digest()
    assert info["protocol"] == 1 and info["board"] == "host"
    assert info["firmware"].startswith("drip-tiny ")
    assert info["model_hash"] == int.from_bytes(digest[:4], "big")
    assert info["thresholds_hash"] == thresholds_hash(Thresholds.load(run / "thresholds.json"))
    assert info["shape"] == (8, 8, 1)
    assert info["scale"] == np.float32(reference["input"].scale)
    assert info["zero_point"] == reference["input"].zero_point
    assert info["classes"] == 10 and info["variant"] == 2  # minmax
    assert info["capacity"] == 16 * (4096 - 28) and info["stored"] == 0 and info["policy"] == 0
    # The largest request is SET_THRESHOLDS: 10 + 6 + 9 x 10 bytes, COBS-encoded, + 0x00.
    assert info["max_frame"] == 106 + 106 // 254 + 1 + 1 == max_frame(106)
    assert info["clock"] == 1_000_000_000
    assert info["replay_depth"] == 8  # DT_APP_REPLAY_DEPTH's default


def test_classify_matches_the_reference_bit_for_bit(device, reference):
    kept = []
    for i, (sample, (predicted, drips, keep, logits)) in enumerate(
            zip(reference["x"][:60], reference["answers"])):
        got = classify(device, sample)
        assert got["predicted"] == predicted, i
        assert np.array_equal(got["logits"], logits), i
        assert bits(got["drips"]) == bits(drips), i
        assert got["keep"] == keep, i
        infer, drip, store = got["cycles"]
        assert 0 < infer < 10**9 and 0 < drip < 10**9
        if keep:
            assert got["result"] == 0 and got["index"] == len(kept) and store > 0
            kept.append(i)
        else:
            assert got["result"] == 1 and got["index"] == NOT_STORED and store == 0
    assert 0 < len(kept) < 60  # the run's thresholds keep some and drop some
    assert statistics(device)[:4] == (60, len(kept), 60 - len(kept), 0)
    # Every kept sample reads back byte for byte, with its class and DRIPS.
    assert len(store_list(device, count=1000)) == 16  # DT_APP_LIST_MIN_ENTRIES per reply
    entries = store_list_all(device)
    assert [e[0] for e in entries] == list(range(len(kept)))
    ids = [e[1] for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for (index, sample_id, predicted, drips, length), i in zip(entries, kept):
        ref_predicted, ref_drips = reference["answers"][i][:2]
        assert (predicted, bits(drips), length) == (ref_predicted, bits(ref_drips), 64)
        got_id, got_predicted, got_drips, data = store_read(device, index)
        assert (got_id, got_predicted, bits(got_drips)) == (sample_id, predicted, bits(drips))
        assert data == reference["x"][i].tobytes()
    assert store_list(device, first=2, count=1)[0][0] == 2
    assert store_list(device, first=len(kept)) == []
    assert store_read(device, len(kept)).status == ERR_NOT_FOUND
    assert parse_identify(device.ok(IDENTIFY))["stored"] == len(kept)


def test_store_erase_empties_the_store_and_ids_keep_growing(device, reference):
    keep = [i for i, a in enumerate(reference["answers"]) if a[2]][:3]
    for i in keep:
        classify(device, reference["x"][i])
    last_id = store_list(device)[-1][1]
    assert device.ok(STORE_ERASE) == b""
    assert store_list(device) == [] and parse_identify(device.ok(IDENTIFY))["stored"] == 0
    got = classify(device, reference["x"][keep[0]])
    assert got["result"] == 0 and got["index"] == 0
    assert store_list(device)[0][1] > last_id


def test_reboot_keeps_every_acknowledged_sample(firmware, tmp_path, reference):
    flash = tmp_path / "flash.bin"
    first = Device(firmware, flash)
    keep = [i for i, a in enumerate(reference["answers"]) if a[2]][:5]
    for i in keep:
        assert classify(first, reference["x"][i])["result"] == 0
    before = store_list_all(first)
    first.kill()  # no clean shutdown
    second = Device(firmware, flash)
    assert store_list_all(second) == before
    for (index, *_), i in zip(before, keep):
        assert store_read(second, index)[3] == reference["x"][i].tobytes()
    second.close()


def test_full_store_with_the_stop_policy(run, reference, tmp_path):
    # 2 pages of 256 bytes (228 for records), records of 24 + 64 bytes: two on page 0, the
    # third spans into page 1, which takes two more; the sixth finds no page left.
    assert samples_that_fit(256, 2, 64) == 5
    exe = build_host_firmware(run, tmp_path / "small",
                              defines=["DT_HOST_STORE_PAGES=2", "DT_HOST_PAGE_BYTES=256"],
                              optimize="-O2")  # -O2 finds more warnings
    device = Device(exe, tmp_path / "flash.bin")
    keep_all = thresholds_payload([0.0] * 10, [0.0] * 10, [0] * 10)
    assert device.ok(SET_THRESHOLDS, keep_all) == b""
    results = [classify(device, x) for x in reference["x"][:6]]
    assert [r["keep"] for r in results] == [1] * 6
    assert [r["result"] for r in results] == [0, 0, 0, 0, 0, 2]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, NOT_STORED]
    assert [r["cycles"][2] == 0 for r in results] == [False] * 5 + [True]
    assert len(store_list(device)) == 5
    assert store_read(device, 2)[3] == reference["x"][2].tobytes()  # the spanning one
    assert store_read(device, 4)[3] == reference["x"][4].tobytes()
    assert statistics(device)[:4] == (6, 6, 0, 0)  # full is not a store failure
    device.close()


def test_thresholds_replaced_at_run_time_persist_and_reset(firmware, tmp_path, reference):
    flash = tmp_path / "flash.bin"
    device = Device(firmware, flash)
    default_hash = parse_identify(device.ok(IDENTIFY))["thresholds_hash"]
    wide = thresholds_payload([-1e30] * 10, [1e30] * 10, [1] * 10)  # discard everything
    assert device.ok(SET_THRESHOLDS, wide) == b""
    new_hash = struct.unpack_from("<I", wide, 2)[0]
    assert parse_identify(device.ok(IDENTIFY))["thresholds_hash"] == new_hash
    assert {classify(device, x)["keep"] for x in reference["x"][:20]} == {0}
    # Rejected: each leaves the thresholds in use alone.
    lower, upper = [0.1] * 10, [0.2] * 10
    bad = {
        "hash": thresholds_payload(lower, upper, [1] * 10, record_hash=123),
        "nan": thresholds_payload([float("nan")] + lower[1:], upper, [1] * 10),
        "inf": thresholds_payload(lower, [float("inf")] + upper[1:], [1] * 10),
        "classes": thresholds_payload(lower[:9], upper[:9], [1] * 9),
        "class field": thresholds_payload(lower, upper, [1] * 10, classes=9),
        "order": thresholds_payload([0.3] + lower[1:], upper, [1] * 10),
        "has_window": thresholds_payload(lower, upper, [2] + [1] * 9),
    }
    for name, payload in bad.items():
        reply = device.request(SET_THRESHOLDS, payload)
        assert reply.status == ERR_THRESHOLDS, (name, reply.status, reply.message)
        assert 0 < len(reply.message) <= 64
    assert device.request(SET_THRESHOLDS, wide[:-1]).status == ERR_LENGTH
    assert device.request(SET_THRESHOLDS, b"\x0a").status == ERR_LENGTH
    assert statistics(device)[5] == 2  # length errors
    device.kill()
    # The replacement survived the power cut.
    device = Device(firmware, flash)
    assert parse_identify(device.ok(IDENTIFY))["thresholds_hash"] == new_hash
    assert classify(device, reference["x"][0])["keep"] == 0
    assert device.ok(RESET_THRESHOLDS) == b""
    assert parse_identify(device.ok(IDENTIFY))["thresholds_hash"] == default_hash
    device.close()
    device = Device(firmware, flash)
    assert parse_identify(device.ok(IDENTIFY))["thresholds_hash"] == default_hash
    for x, answer in zip(reference["x"][:20], reference["answers"]):
        assert classify(device, x)["keep"] == answer[2]
    device.close()


def test_malformed_frames_get_their_reply_and_the_session_goes_on(device, reference):
    def identify_still_works():
        assert parse_identify(device.ok(IDENTIFY))["board"] == "host"

    good = packet(IDENTIFY, 500)
    # A bad CRC: answered ERR_CRC with the request's sequence number.
    corrupt = bytearray(good)
    corrupt[-1] ^= 0x55
    device.send(frame(bytes(corrupt)))
    reply = device.read_reply()
    assert (reply.status, reply.sequence, reply.command) == (ERR_CRC, 500, 0x81)
    identify_still_works()
    # Another version: ERR_VERSION, the reply carries version 1.
    device.send(frame(packet(IDENTIFY, 501, version=2)))
    reply = device.read_reply()
    assert (reply.status, reply.sequence, reply.version) == (ERR_VERSION, 501, 1)
    # An unknown command.
    assert device.request(0x55).status == ERR_UNKNOWN
    # A length field that disagrees with the packet size.
    device.send(frame(packet(IDENTIFY, 502, b"", length=3)))
    reply = device.read_reply()
    assert (reply.status, reply.sequence) == (ERR_LENGTH, 502)
    # A payload on a command of fixed size, and a sample of the wrong size.
    assert device.request(IDENTIFY, b"\x01").status == ERR_LENGTH
    assert device.request(STORE_READ, b"\x01\x02").status == ERR_LENGTH
    assert device.request(CLASSIFY, bytes(63)).status == ERR_SAMPLE_SIZE
    assert device.request(CLASSIFY, bytes(65)).status == ERR_SAMPLE_SIZE
    identify_still_works()
    # A frame over MAX_FRAME: dropped to its delimiter, ERR_TOO_LONG with sequence 0.
    max_frame = parse_identify(device.ok(IDENTIFY))["max_frame"]
    for size in (max_frame + 300, max_frame):  # max_frame counts the delimiter
        device.send(b"\x01" * size + b"\x00")
        reply = device.read_reply()
        assert (reply.status, reply.sequence, reply.command) == (ERR_TOO_LONG, 0, 0x80)
    # One byte less fits: it decodes to zeros, a packet whose length field is wrong.
    device.send(b"\x01" * (max_frame - 1) + b"\x00")
    reply = device.read_reply()
    assert (reply.status, reply.sequence) == (ERR_LENGTH, 0)
    identify_still_works()
    # Empty frames, a packet too short to have a header and frames that are not COBS are
    # dropped silently; a good frame after them is answered.
    device.send(b"\x00\x00\x00")
    device.send(b"\x02\x11\x00")  # one byte: no header
    device.send(b"\x05\x11\x00")  # a block running past the end
    device.send(b"\x13\x37\x00" + frame(packet(IDENTIFY, 503)))
    reply = device.read_reply()
    assert (reply.status, reply.sequence) == (0, 503)
    assert device.no_reply()
    stats = statistics(device)
    assert stats[:4] == (0, 0, 0, 0)
    crc_errors, length_errors, oversize, unknown, overruns = stats[4:]
    assert (crc_errors, length_errors, oversize, unknown, overruns) == (3, 5, 2, 1, 0)


def test_a_repeated_request_gets_the_stored_reply_without_running_again(device, reference):
    i = next(i for i, a in enumerate(reference["answers"]) if a[2])
    sample = reference["x"][i].tobytes()
    first = device.request(CLASSIFY, sample, sequence=77)
    again = device.request(CLASSIFY, sample, sequence=77)  # the host lost the reply
    assert again.raw == first.raw  # the same cycles too: nothing ran
    assert len(store_list(device)) == 1 and statistics(device)[0] == 1
    # The same sequence number with another packet is a new request.
    other = device.request(CLASSIFY, reference["x"][i + 1].tobytes(), sequence=77)
    assert other.raw != first.raw
    # Error replies to invalid packets never replace the stored reply.
    device.send(frame(packet(IDENTIFY, 78)[:-1] + b"\x00"))
    assert device.read_reply().status == ERR_CRC
    assert device.request(CLASSIFY, reference["x"][i + 1].tobytes(), sequence=77).raw == other.raw
    assert statistics(device)[0] == 2


def test_any_of_the_last_8_classify_requests_is_replayed_not_run_again(device, reference):
    """A pipelining host may resend any request it has in flight (docs/protocol.md,
    Pipelining): the device answers each of its last DT_APP_REPLAY_DEPTH CLASSIFY from the
    stored reply, even with other commands in between; older ones run again."""
    x = reference["x"]
    first = [device.request(CLASSIFY, x[i].tobytes(), sequence=100 + i) for i in range(10)]
    assert statistics(device)[0] == 10
    kept = len(store_list(device))
    # Requests 2..9 are the last 8: each answered again, byte for byte, nothing runs.
    for i in reversed(range(2, 10)):
        assert device.request(CLASSIFY, x[i].tobytes(), sequence=100 + i).raw == first[i].raw
    assert statistics(device)[0] == 10 and len(store_list(device)) == kept
    # A resent request with another payload under a kept sequence number runs.
    device.request(CLASSIFY, x[20].tobytes(), sequence=109)
    assert statistics(device)[0] == 11
    # Request 1 left the window when request 9 ran: it runs (and evicts request 3).
    device.request(CLASSIFY, x[1].tobytes(), sequence=101)
    assert statistics(device)[0] == 12
    # An error reply is never kept: ERR_SAMPLE_SIZE evicts nothing and is recomputed.
    for _ in range(2):
        assert device.request(CLASSIFY, b"\x01" * 3, sequence=300).status == ERR_SAMPLE_SIZE
    assert device.request(CLASSIFY, x[4].tobytes(), sequence=104).raw == first[4].raw
    assert statistics(device)[0] == 12
    device.request(CLASSIFY, x[3].tobytes(), sequence=103)  # evicted: runs again
    assert statistics(device)[0] == 13


def test_reset_answers_then_boots_again(device, reference):
    classify(device, reference["x"][0])
    assert statistics(device)[0] == 1
    assert device.ok(RESET) == b""
    info = parse_identify(device.ok(IDENTIFY))
    assert info["board"] == "host"
    assert statistics(device)[0] == 0  # counters start over: a new boot


def _store_page_of_another_version() -> bytes:
    head = struct.pack("<4I", 0x53544454, 1, 1, 0)  # magic, version 1, seq, base_id
    return head + struct.pack("<II", zlib.crc32(head), 0xFFFFFFFF)


def test_a_store_that_cannot_be_opened_is_reported_not_fatal(firmware, tmp_path, reference):
    flash = tmp_path / "flash.bin"
    image = bytearray(b"\xff" * (18 * 4096))
    page = _store_page_of_another_version()
    image[:len(page)] = page
    flash.write_bytes(bytes(image))
    device = Device(firmware, flash)
    info = parse_identify(device.ok(IDENTIFY))
    assert (info["capacity"], info["stored"]) == (0, 0)
    i = next(i for i, a in enumerate(reference["answers"]) if a[2])
    got = classify(device, reference["x"][i])
    answer = reference["answers"][i]
    assert (got["predicted"], bits(got["drips"]), got["keep"]) == (answer[0], bits(answer[1]), 1)
    assert (got["result"], got["index"]) == (3, NOT_STORED)
    assert statistics(device)[3] == 1  # a store failure
    for command, payload in ((STORE_LIST, struct.pack("<IH", 0, 5)), (STORE_READ, bytes(4))):
        reply = device.request(command, payload)
        assert reply.status == ERR_STORE and "version" in reply.message
    assert flash.read_bytes()[:len(page)] == page  # nothing was erased behind the user's back
    # STORE_ERASE formats the region: the store works again.
    assert device.ok(STORE_ERASE) == b""
    assert classify(device, reference["x"][i])["result"] == 0
    assert parse_identify(device.ok(IDENTIFY))["capacity"] == 16 * (4096 - 28)
    device.close()


def test_pty_mode_serves_the_same_protocol(firmware, tmp_path):
    import subprocess

    with subprocess.Popen([str(firmware), "--pty", "--flash", str(tmp_path / "f.bin")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as proc:  # closes the pipes
        _serve_one_identify_over_the_pty(proc)


def _serve_one_identify_over_the_pty(proc):
    import os
    import tty

    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("serial /dev/pts/") and line.endswith("\n")
        fd = os.open(line.split()[1], os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        os.write(fd, b"\x00" + frame(packet(IDENTIFY, 9)))
        data = b""
        while not data.endswith(b"\x00"):
            data += os.read(fd, 4096)
        os.close(fd)
        from firmware_device import cobs_decode, parse_reply
        reply = parse_reply(cobs_decode(data[:-1]))
        assert (reply.status, reply.sequence) == (0, 9)
        assert parse_identify(reply.body)["board"] == "host"
    finally:
        proc.kill()
        proc.wait()


def test_random_noise_and_mutated_frames_never_break_the_session(device, reference):
    import random

    rng = random.Random(11)
    noise = bytes(rng.choice((0, rng.randrange(256))) for _ in range(20000))
    valid = [packet(CLASSIFY, 900 + i, reference["x"][i].tobytes()) for i in range(5)]
    valid += [packet(SET_THRESHOLDS, 950, thresholds_payload([0.1] * 10, [0.2] * 10, [1] * 10)),
              packet(STORE_LIST, 951, struct.pack("<IH", 0, 9))]
    mutated = []
    for _ in range(300):
        raw = bytearray(rng.choice(valid))
        for _ in range(rng.randrange(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        mutated.append(cobs_encode(bytes(raw)) + b"\x00")
    device.send(noise + b"\x00" + b"".join(mutated) + frame(packet(IDENTIFY, 4242)))
    while True:  # every answer to the noise, then the IDENTIFY's
        reply = device.read_reply()
        if reply.sequence == 4242 and reply.command == IDENTIFY | 0x80:
            break
    assert reply.status == 0 and parse_identify(reply.body)["board"] == "host"
    crc_errors = statistics(device)[4]
    assert crc_errors > 100


def test_full_store_with_the_overwrite_oldest_policy(run, reference, tmp_path):
    exe = build_host_firmware(run, tmp_path / "small",
                              defines=["DT_HOST_STORE_PAGES=2", "DT_HOST_PAGE_BYTES=256",
                                       "DT_APP_STORE_POLICY=DT_STORE_FULL_OVERWRITE_OLDEST"])
    device = Device(exe, tmp_path / "flash.bin")
    assert parse_identify(device.ok(IDENTIFY))["policy"] == 1
    assert device.ok(SET_THRESHOLDS, thresholds_payload([0.0] * 10, [0.0] * 10, [0] * 10)) == b""
    results = [classify(device, x) for x in reference["x"][:7]]
    assert [r["result"] for r in results] == [0] * 7
    # Page 0 holds samples 0 and 1 and the head of 2, which continues on page 1, then 3
    # and 4; the 6th sample needs a page: page 0 goes (samples 0-2; the rest of 2 on page 1
    # is skipped from then on) and takes the 6th and 7th.
    kept = [store_read(device, e[0])[3] for e in store_list_all(device)]
    assert kept == [reference["x"][i].tobytes() for i in (3, 4, 5, 6)]
    device.close()
