"""Malformed input over the serial link (issue 9), generated with hypothesis and sent to
the host firmware built with ASan + UBSan (tests/firmware_device.py, stdio pipes):
truncated frames, bad CRCs, wrong length fields, unknown commands, oversized frames,
garbage between frames, samples of the wrong size. Each gets the error reply
docs/protocol.md names (or silence where it says the frame is dropped), never a crash or
a hang, and the good frame sent right after is answered correctly: IDENTIFY as at the
start and CLASSIFY of a fixed sample with the same class, logits and DRIPS as at the
start. The device process lives through every example; at the end it must exit 0 with
nothing on stderr (no sanitizer report)."""

import struct

import numpy as np
import pytest
from firmware_build import build_host_firmware, fitted_copy
from firmware_device import Device, cobs_encode, frame, packet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drip_tiny.link.protocol import Command, Status

KNOWN = {int(c) for c in Command}
SAMPLE_BYTES = 64  # the digits model's input
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def session(digits_ptq_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("link")
    run = fitted_copy(digits_ptq_run, base / "run")
    exe = build_host_firmware(run, base / "build", sanitize=True)
    device = Device(exe, base / "flash.bin", timeout=10.0)
    sample = np.arange(SAMPLE_BYTES, dtype=np.int8).tobytes()
    state = {"device": device, "sample": sample, "next": 1000,
             "identify": device.ok(Command.IDENTIFY),
             "classify": device.ok(Command.CLASSIFY, sample)}
    # MAX_FRAME: the u32 before the clock (u32) and the replay depth (u8) that end IDENTIFY.
    state["max_frame"] = struct.unpack_from("<I", state["identify"],
                                            len(state["identify"]) - 9)[0]
    yield state
    device.close()  # exit 0, stderr empty: no sanitizer report in the whole session


def answer_after(state, bad: bytes, good_command=Command.IDENTIFY, payload=b""):
    """Sends bad bytes, a delimiter (as the host client does before each request) and one
    good request; returns the replies that came before the good one's, checking it."""
    device = state["device"]
    state["next"] = (state["next"] + 1) & 0xFFFF or 1000
    sequence = state["next"]
    device.send(bad + b"\x00" + frame(packet(good_command, sequence, payload)))
    before = []
    while True:
        reply = device.read_reply()  # asserts the device answers within the timeout
        if reply.sequence == sequence and reply.command == good_command | 0x80:
            break
        assert reply.status != 0 and reply.command & 0x80, reply.raw.hex()
        assert len(reply.payload) <= 65
        assert isinstance(reply.message, str)  # an error message decodes as UTF-8
        before.append(reply)
    assert reply.status == 0, reply.message
    if good_command == Command.IDENTIFY:
        # protocol, firmware, board, model and thresholds hashes: as at the start
        assert reply.body[:42] == state["identify"][:42]
    return before, reply


def check_classify_still_right(state):
    _, reply = answer_after(state, b"", Command.CLASSIFY, state["sample"])
    first = state["classify"]
    # class, logits, DRIPS, decision: the same; store result/index/cycles may differ.
    assert reply.body[:16] == first[:16]


packets = st.builds(
    lambda command, sequence, payload: (command, sequence, payload),
    st.sampled_from(sorted(KNOWN - {Command.RESET})), st.integers(0, 0xFFFF),
    st.binary(max_size=80))


@SETTINGS
@given(packets, st.data())
def test_truncated_frames_are_dropped_or_refused(session, p, data):
    command, sequence, payload = p
    encoded = cobs_encode(packet(command, sequence, payload))
    cut = data.draw(st.integers(0, len(encoded) - 1))
    before, _ = answer_after(session, encoded[:cut])
    # Silence (too short, not COBS) or one error for a header that could be read.
    assert len(before) <= 1
    if before:
        assert before[0].status in (Status.ERR_CRC, Status.ERR_LENGTH, Status.ERR_VERSION,
                                    Status.ERR_UNKNOWN_COMMAND)


@SETTINGS
@given(packets, st.integers(0, 31))
def test_bad_crc_is_answered_err_crc(session, p, bit):
    command, sequence, payload = p
    raw = bytearray(packet(command, sequence, payload))
    raw[-4 + bit // 8] ^= 1 << (bit % 8)
    before, _ = answer_after(session, cobs_encode(bytes(raw)))
    assert [(r.status, r.sequence) for r in before] == [(Status.ERR_CRC, sequence)]


@SETTINGS
@given(packets, st.integers(0, 0xFFFF))
def test_wrong_length_field_is_answered_err_length(session, p, length):
    command, sequence, payload = p
    if length == len(payload):
        length += 1
    before, _ = answer_after(session, cobs_encode(packet(command, sequence, payload,
                                                         length=length)))
    assert [(r.status, r.sequence) for r in before] == [(Status.ERR_LENGTH, sequence)]


@SETTINGS
@given(st.integers(0, 255).filter(lambda c: c not in KNOWN), st.integers(0, 0xFFFF),
       st.binary(max_size=40))
def test_unknown_commands_are_answered_err_unknown(session, command, sequence, payload):
    before, _ = answer_after(session, cobs_encode(packet(command, sequence, payload)))
    assert [(r.status, r.sequence, r.command) for r in before] == \
        [(Status.ERR_UNKNOWN_COMMAND, sequence, command | 0x80)]


@SETTINGS
@given(st.integers(0, 600), st.binary(min_size=1, max_size=16))
def test_oversized_frames_are_answered_err_too_long(session, extra, fill):
    size = session["max_frame"] + extra  # MAX_FRAME counts the delimiter: one too many
    body = (fill.replace(b"\x00", b"\x01") * (size // len(fill) + 1))[:size]
    before, _ = answer_after(session, body)
    assert [(r.status, r.sequence) for r in before] == [(Status.ERR_TOO_LONG, 0)]


@SETTINGS
@given(st.binary(max_size=300))
def test_garbage_between_frames_never_breaks_the_session(session, garbage):
    before, _ = answer_after(session, garbage)
    assert len(before) <= garbage.count(0) + 1


@SETTINGS
@given(st.integers(0, 90).filter(lambda n: n != SAMPLE_BYTES), st.integers(0, 0xFFFF))
def test_a_sample_of_the_wrong_size_is_answered_err_sample_size(session, size, sequence):
    sample = bytes((i * 7) & 0xFF for i in range(size))
    before, _ = answer_after(session, cobs_encode(packet(Command.CLASSIFY, sequence, sample)))
    assert [(r.status, r.sequence) for r in before] == [(Status.ERR_SAMPLE_SIZE, sequence)]


def test_classify_is_still_right_after_all_of_it(session):
    check_classify_still_right(session)
    stats = struct.unpack("<9I", answer_after(session, b"", Command.STATISTICS)[1].body)
    crc_errors, length_errors, oversize, unknown = stats[4:8]
    # Every category above was counted by the device (the examples ran in this session).
    assert crc_errors >= 100 and length_errors >= 100 and oversize >= 100 and unknown >= 100
