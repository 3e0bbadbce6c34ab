"""The Python side of docs/protocol.md: COBS, packets, CRC, reply parsing."""

import struct
import zlib

import numpy as np
import pytest

from drip_tiny.errors import DeviceError, LinkError
from drip_tiny.link import protocol as p

# Wikipedia's COBS examples (delimiter left out), plus the block-boundary cases.
COBS_VECTORS = [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
    (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
    (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
    (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
    (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
]


@pytest.mark.parametrize("data,encoded", COBS_VECTORS)
def test_cobs_known_vectors(data, encoded):
    assert p.cobs_encode(data) == encoded
    assert p.cobs_decode(encoded) == data


def test_cobs_round_trip_random_and_overhead():
    rng = np.random.default_rng(0)
    for n in [*range(0, 600, 7), 253, 254, 255, 508, 509, 1000]:
        for zeros in (0.0, 0.01, 0.5):
            data = rng.integers(1, 256, n, dtype=np.uint8)
            data[rng.random(n) < zeros] = 0
            encoded = p.cobs_encode(data.tobytes())
            assert 0 not in encoded
            assert len(encoded) + 1 <= p.max_frame(n)
            assert p.cobs_decode(encoded) == data.tobytes()


@pytest.mark.parametrize("bad", [b"\x05\x11\x22", b"\x02\x00", b"\x00"])
def test_cobs_rejects_malformed(bad):
    with pytest.raises(LinkError):
        p.cobs_decode(bad)


def test_packet_layout_and_crc():
    raw = p.encode_packet(p.Command.CLASSIFY, 0x1234, b"\x01\x02\x03")
    assert raw[:6] == bytes([1, 2, 0x34, 0x12, 3, 0])
    assert struct.unpack("<I", raw[-4:])[0] == zlib.crc32(raw[:-4])
    # CRC-32 is the IEEE 802.3 one: the standard check value of "123456789".
    assert zlib.crc32(b"123456789") == 0xCBF43926
    packet = p.decode_packet(raw)
    assert (packet.version, packet.command, packet.sequence, packet.payload) == \
        (1, 2, 0x1234, b"\x01\x02\x03")


def test_packet_errors():
    raw = bytearray(p.encode_packet(p.Command.IDENTIFY, 7))
    with pytest.raises(LinkError, match="shorter"):
        p.decode_packet(bytes(raw[:5]))
    with pytest.raises(LinkError, match="payload bytes"):
        p.decode_packet(bytes(raw) + b"\x00")
    raw[2] ^= 1
    with pytest.raises(LinkError, match="CRC"):
        p.decode_packet(bytes(raw))


def test_frame_reader_splits_skips_empty_and_oversize():
    a = p.frame(p.encode_packet(1, 1))
    b = p.frame(p.encode_packet(3, 2, b"\x00" * 10))
    reader = p.FrameReader(limit=64)
    stream = b"\x00\x00" + a + b"\x00" + b[:5]
    frames = reader.feed(stream)
    assert [p.decode_packet(p.cobs_decode(f)).sequence for f in frames] == [1]
    frames = reader.feed(b[5:] + b"\x07" * 100 + b"\x00" + a[:-1])
    assert [p.decode_packet(p.cobs_decode(f)).sequence for f in frames] == [2]
    assert reader.oversize == 1
    assert [p.decode_packet(p.cobs_decode(f)).sequence for f in reader.feed(b"\x00")] == [1]


def _reply(command, body, status=0, seq=5):
    return p.decode_packet(p.encode_packet(command | p.REPLY_BIT, seq, bytes([status]) + body))


def test_identify_reply_parsed_field_by_field():
    body = (struct.pack("<H", 1) + b"drip-tiny 0.1.0\x00" + b"host".ljust(16, b"\x00")
            + struct.pack("<II", 0xDEADBEEF, 0x01020304) + bytes([3])
            + struct.pack("<HHH", 8, 8, 1) + struct.pack("<fi", 0.5, -128)
            + struct.pack("<H", 10) + bytes([2]) + struct.pack("<IIB", 61440, 3, 0)
            + struct.pack("<II", 90, 1_000_000_000) + bytes([8]))
    ident = p.parse_identify(p.split_status(p.Command.IDENTIFY, _reply(1, body)))
    assert ident.firmware == "drip-tiny 0.1.0" and ident.board == "host"
    assert (ident.model_hash, ident.thresholds_hash) == (0xDEADBEEF, 0x01020304)
    assert ident.input_shape == (8, 8, 1) and ident.input_bytes == 64
    assert (ident.input_scale, ident.input_zero_point, ident.num_classes) == (0.5, -128, 10)
    assert (ident.variant, ident.store_policy, ident.stored) == ("minmax", "stop", 3)
    assert (ident.max_frame, ident.clock_hz, ident.replay_depth) == (90, 1_000_000_000, 8)
    with pytest.raises(LinkError, match="too short"):
        p.parse_identify(body[:-1])
    with pytest.raises(LinkError, match="extra"):
        p.parse_identify(body + b"\x00")


def test_classify_reply_and_external_cycles():
    logits = np.array([-5, 7, 127, -128], dtype=np.int8)
    body = (bytes([2]) + logits.tobytes() + struct.pack("<f", 0.25) + bytes([1, 0])
            + struct.pack("<IIII", 4, 100, 0xFFFFFFFF, 7))
    c = p.parse_classify(body, 4)
    assert c.predicted == 2 and c.logits.tolist() == logits.tolist()
    assert c.drips == 0.25 and c.keep and c.store_result is p.StoreResult.STORED
    assert c.store_index == 4
    assert (c.cycles_inference, c.cycles_drip, c.cycles_store) == (100, None, 7)
    assert c.drips_bits == 0x3E800000


def test_error_status_becomes_device_error_with_message():
    packet = _reply(p.Command.SET_THRESHOLDS, b"hash mismatch", status=10)
    with pytest.raises(DeviceError, match=r"ERR_THRESHOLDS.*hash mismatch") as e:
        p.split_status(p.Command.SET_THRESHOLDS, packet)
    assert e.value.status == 10
    with pytest.raises(LinkError, match="for command 0x01"):
        p.split_status(p.Command.STATISTICS, _reply(p.Command.IDENTIFY, b""))


def test_threshold_request_hash_is_crc_of_record():
    record = p.thresholds_record([0.1, 0.0], [0.2, 0.0], [True, False])
    assert len(record) == 18
    payload = p.set_thresholds_request(record, 2)
    assert struct.unpack("<HI", payload[:6]) == (2, zlib.crc32(record))
    assert payload[6:] == record
