"""The serial protocol of docs/protocol.md, version 1, as pure functions: COBS framing,
packets with CRC-32, and every command's request and reply payload.

No I/O here (client.py does that), so the firmware's tests and the fuzzers use the same
encoder the host does.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from drip_tiny.errors import DeviceError, LinkError

VERSION = 1
HEADER = struct.Struct("<BBHH")  # version, command, sequence, length
CRC_BYTES = 4
OVERHEAD = HEADER.size + CRC_BYTES
REPLY_BIT = 0x80
NOT_STORED = 0xFFFFFFFF
CYCLES_EXTERNAL = 0xFFFFFFFF  # the board counts outside the device (QEMU's plugin)
MAX_ERROR_MESSAGE = 64


# Command, Status and StoreResult mirror firmware/protocol/dt_wire.h, their one definition;
# tests/test_wire_codes.py checks every name and value against it.
class Command(IntEnum):
    IDENTIFY = 0x01
    CLASSIFY = 0x02
    STATISTICS = 0x03
    STORE_LIST = 0x10
    STORE_READ = 0x11
    STORE_ERASE = 0x12
    SET_THRESHOLDS = 0x20
    RESET_THRESHOLDS = 0x21
    RESET = 0x7F


class Status(IntEnum):
    OK = 0
    ERR_CRC = 1
    ERR_VERSION = 2
    ERR_UNKNOWN_COMMAND = 3
    ERR_LENGTH = 4
    ERR_TOO_LONG = 5
    ERR_SAMPLE_SIZE = 6
    ERR_STORE = 7
    ERR_STORE_FULL = 8
    ERR_NOT_FOUND = 9
    ERR_THRESHOLDS = 10
    ERR_BUSY = 11


class StoreResult(IntEnum):
    STORED = 0
    DISCARDED = 1
    FULL = 2
    ERROR = 3


VARIANT_NAMES = ("raw", "max", "minmax")
POLICY_NAMES = ("stop", "overwrite-oldest")


# ---- COBS ----

def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result has no zero byte. Canonical form: a
    run of 254 non-zero bytes that ends the data gets no trailing code byte."""
    out = bytearray()
    block = bytearray()
    full_block_last = False
    for byte in data:
        full_block_last = False
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
                full_block_last = True
    if not full_block_last:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise LinkError("COBS: a zero byte inside a frame")
        end = i + code
        if end > n:
            raise LinkError("COBS: a block runs past the end of the frame")
        block = data[i + 1:end]
        if 0 in block:
            raise LinkError("COBS: a zero byte inside a frame")
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


def frame(packet: bytes) -> bytes:
    """A packet as it goes on the wire: COBS, then the 0x00 delimiter."""
    return cobs_encode(packet) + b"\x00"


def max_frame(packet_bytes: int) -> int:
    """Largest encoded size (delimiter included) of a packet of packet_bytes: one code
    byte per started run of 254, and the delimiter."""
    return packet_bytes + packet_bytes // 254 + 2


def min_frame(packet_bytes: int) -> int:
    """Smallest encoded size (delimiter included) of a packet of packet_bytes: COBS adds
    at least one code byte, then the delimiter."""
    return packet_bytes + 2


def reply_wire_bytes(payload_bytes: int) -> int:
    """The fewest bytes on the wire of a reply whose payload (status byte included) has
    payload_bytes: what a reader may wait for before it looks (Device.next_packet)."""
    return min_frame(OVERHEAD + payload_bytes)


# Reply layouts after the status byte (docs/protocol.md), read by the parsers below.
_CLASSIFY_HEAD = "B"  # predicted class; the logits follow, one byte per class
_CLASSIFY_TAIL = ("f", "BB", "I", "III")  # DRIPS, decision + store result, index, cycles
_STATISTICS_COUNTERS = "9I"


def classify_reply_payload(num_classes: int) -> int:
    """Payload bytes of an OK CLASSIFY reply, status byte included."""
    return (1 + struct.calcsize("<" + _CLASSIFY_HEAD) + num_classes
            + struct.calcsize("<" + "".join(_CLASSIFY_TAIL)))


STATISTICS_REPLY_PAYLOAD = 1 + struct.calcsize("<" + _STATISTICS_COUNTERS)


# ---- packets ----

@dataclass(frozen=True)
class Packet:
    version: int
    command: int
    sequence: int
    payload: bytes


def encode_packet(command: int, sequence: int, payload: bytes = b"",
                  version: int = VERSION) -> bytes:
    if not 0 <= sequence <= 0xFFFF:
        raise ValueError(f"sequence {sequence} is not a 16-bit number")
    if len(payload) > 0xFFFF:
        raise ValueError(f"payload of {len(payload)} bytes exceeds 65535")
    head = HEADER.pack(version, command, sequence, len(payload)) + bytes(payload)
    return head + struct.pack("<I", zlib.crc32(head))


def decode_packet(raw: bytes) -> Packet:
    """Check size and CRC of a decoded frame."""
    if len(raw) < OVERHEAD:
        raise LinkError(f"packet of {len(raw)} bytes is shorter than the {OVERHEAD}-byte "
                        "header and CRC")
    version, command, sequence, length = HEADER.unpack_from(raw)
    if len(raw) != OVERHEAD + length:
        raise LinkError(f"packet says {length} payload bytes but carries "
                        f"{len(raw) - OVERHEAD}")
    (crc,) = struct.unpack_from("<I", raw, len(raw) - CRC_BYTES)
    if zlib.crc32(raw[:-CRC_BYTES]) != crc:
        raise LinkError("packet CRC mismatch")
    return Packet(version, command, sequence, bytes(raw[HEADER.size:-CRC_BYTES]))


class FrameReader:
    """Splits a byte stream into frames at 0x00 and COBS-decodes them. Empty frames are
    skipped; a frame longer than limit is dropped (counted in `oversize`)."""

    def __init__(self, limit: int = 1 << 20):
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False
        self.oversize = 0

    @property
    def buffered(self) -> int:
        """Bytes of a frame begun but not ended yet."""
        return 0 if self._skipping else len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        frames = []
        data = bytes(data)
        start = 0
        while True:
            zero = data.find(b"\x00", start)
            if zero < 0:
                self._append(data[start:])
                break
            self._append(data[start:zero])
            if self._skipping:
                self._skipping = False
            elif self._buffer:
                frames.append(bytes(self._buffer))
            self._buffer.clear()
            start = zero + 1
        return frames

    def _append(self, data: bytes) -> None:
        if self._skipping or not data:
            return
        if len(self._buffer) + len(data) > self.limit:
            self._buffer.clear()
            self._skipping = True
            self.oversize += 1
            return
        self._buffer += data


# ---- replies ----

def split_status(command: Command, packet: Packet) -> bytes:
    """The payload after the status byte of an OK reply; DeviceError otherwise."""
    if not packet.payload:
        raise LinkError(f"{command.name}: reply without a status byte")
    status = packet.payload[0]
    if status != Status.OK:
        try:
            name = Status(status).name
        except ValueError:
            name = f"unknown status {status}"
        message = packet.payload[1:1 + MAX_ERROR_MESSAGE].decode("utf-8", "replace")
        raise DeviceError(status, name, message, command.name)
    if packet.command != (command | REPLY_BIT):
        raise LinkError(f"{command.name}: the reply is for command "
                        f"0x{packet.command & 0x7F:02x}")
    return packet.payload[1:]


class _Reader:
    """Reads fixed-layout fields from a reply payload, failing with the field's name."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.pos = 0
        self.what = what

    # Any: struct.unpack_from's values, whose types only the format string tells
    def take(self, fmt: str, field: str) -> Any:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise LinkError(f"{self.what} reply too short: missing {field} "
                            f"({len(self.data)} bytes)")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def raw(self, n: int, field: str) -> bytes:
        if self.pos + n > len(self.data):
            raise LinkError(f"{self.what} reply too short: missing {field}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(out)

    def done(self) -> None:
        if self.pos != len(self.data):
            raise LinkError(f"{self.what} reply has {len(self.data) - self.pos} extra bytes")


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace")


@dataclass(frozen=True)
class Identity:
    protocol_version: int
    firmware: str
    board: str
    model_hash: int
    thresholds_hash: int
    input_shape: tuple[int, ...]
    input_scale: float
    input_zero_point: int
    num_classes: int
    variant: str
    store_capacity: int
    stored: int
    store_policy: str
    max_frame: int
    clock_hz: int
    replay_depth: int = 1  # CLASSIFY requests the device can answer again: the most in flight

    @property
    def input_bytes(self) -> int:
        return int(np.prod(self.input_shape))


def parse_identify(body: bytes) -> Identity:
    r = _Reader(body, "IDENTIFY")
    protocol = r.take("H", "protocol version")
    firmware = _text(r.raw(16, "firmware version"))
    board = _text(r.raw(16, "board name"))
    model_hash, thresholds_hash = r.take("II", "hashes")
    rank = r.take("B", "input rank")
    shape = tuple(r.take("H", "input dimension") for _ in range(rank))
    scale, zero = r.take("fi", "input quantization")
    classes = r.take("H", "number of classes")
    variant = r.take("B", "variant")
    capacity, stored, policy = r.take("IIB", "store")
    frame_limit, clock = r.take("II", "MAX_FRAME and clock")
    replay_depth = r.take("B", "replay depth")
    r.done()
    return Identity(protocol, firmware, board, model_hash, thresholds_hash, shape,
                    float(scale), zero, classes,
                    VARIANT_NAMES[variant] if variant < len(VARIANT_NAMES) else str(variant),
                    capacity, stored,
                    POLICY_NAMES[policy] if policy < len(POLICY_NAMES) else str(policy),
                    frame_limit, clock, max(1, replay_depth))


@dataclass(frozen=True)
class Classification:
    predicted: int
    logits: np.ndarray  # int8, the raw model output
    drips: float  # float32 value, as a Python float
    keep: bool
    store_result: StoreResult
    store_index: int | None
    cycles_inference: int | None  # None: not counted (CYCLES_EXTERNAL without an emulator)
    cycles_drip: int | None
    cycles_store: int | None

    @property
    def drips_bits(self) -> int:
        bits: int = struct.unpack("<I", struct.pack("<f", self.drips))[0]
        return bits


def _cycles(value: int) -> int | None:
    return None if value == CYCLES_EXTERNAL else value


def parse_classify(body: bytes, num_classes: int) -> Classification:
    r = _Reader(body, "CLASSIFY")
    predicted = r.take(_CLASSIFY_HEAD, "predicted class")
    logits = np.frombuffer(r.raw(num_classes, "logits"), dtype=np.int8).copy()
    drips_fmt, decision_fmt, index_fmt, cycles_fmt = _CLASSIFY_TAIL
    drips = r.take(drips_fmt, "DRIPS")
    keep, store_result = r.take(decision_fmt, "decision and store result")
    index = r.take(index_fmt, "store index")
    infer, drip, store = r.take(cycles_fmt, "cycles")
    r.done()
    try:
        result = StoreResult(store_result)
    except ValueError as e:
        raise LinkError(f"CLASSIFY reply: unknown store result {store_result}") from e
    return Classification(predicted, logits, float(drips), bool(keep), result,
                          None if index == NOT_STORED else index,
                          _cycles(infer), _cycles(drip), _cycles(store))


@dataclass(frozen=True)
class Statistics:
    classified: int
    kept: int
    discarded: int
    store_failures: int
    crc_errors: int
    length_errors: int
    oversize_frames: int
    unknown_commands: int
    serial_overruns: int  # bytes the board's receive ring had no room for


def parse_statistics(body: bytes) -> Statistics:
    r = _Reader(body, "STATISTICS")
    values = r.take(_STATISTICS_COUNTERS, "counters")
    r.done()
    return Statistics(*values)


@dataclass(frozen=True)
class StoredEntry:
    index: int
    id: int
    predicted: int
    drips: float
    length: int


def parse_store_list(body: bytes) -> list[StoredEntry]:
    r = _Reader(body, "STORE_LIST")
    n = r.take("H", "entry count")
    entries = [StoredEntry(*r.take("IIBfI", "entry")) for _ in range(n)]
    r.done()
    return entries


@dataclass(frozen=True)
class StoredSample:
    id: int
    predicted: int
    drips: float
    data: bytes


def parse_store_read(body: bytes) -> StoredSample:
    r = _Reader(body, "STORE_READ")
    sample_id, predicted, drips = r.take("IBf", "sample header")
    return StoredSample(sample_id, predicted, float(drips), bytes(body[r.pos:]))


# ---- requests ----

def store_list_request(first: int, count: int) -> bytes:
    return struct.pack("<IH", first, count)


def store_read_request(index: int) -> bytes:
    return struct.pack("<I", index)


def thresholds_record(lower: Iterable[float], upper: Iterable[float],
                      has_window: Iterable[object]) -> bytes:
    """Per class: float32 lower, float32 upper, uint8 has_window (SET_THRESHOLDS)."""
    out = bytearray()
    for lo, hi, has in zip(lower, upper, has_window):
        out += struct.pack("<ffB", lo, hi, int(bool(has)))
    return bytes(out)


def set_thresholds_request(record: bytes, classes: int, record_hash: int | None = None) -> bytes:
    """classes (2), hash (4), record. The hash defaults to the record's CRC-32."""
    if record_hash is None:
        record_hash = zlib.crc32(record)
    return struct.pack("<HI", classes, record_hash) + record
