"""The firmware's COBS (firmware/protocol/dt_cobs.c) through a small C driver: the
published vectors (including the 254- and 255-byte runs), round trips of random data, the
streaming encoder agreeing with the buffered one, malformed frames and tight buffers."""

import random
import subprocess

import pytest
from firmware_build import FIRMWARE, SANITIZE, WARNINGS, cc

DRIVER = FIRMWARE.parent / "tests" / "firmware" / "cobs_driver.c"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    exe = tmp_path_factory.mktemp("cobs") / "cobs_driver"
    command = [cc(), "-std=c99", "-O1", "-g", *WARNINGS, *SANITIZE,
               f"-I{FIRMWARE / 'protocol'}", str(DRIVER), str(FIRMWARE / "protocol" / "dt_cobs.c"),
               "-o", str(exe)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return exe


def run(driver, mode, data: bytes, *args) -> str:
    result = subprocess.run([str(driver), mode, *map(str, args)], input=data.hex() + "\n",
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return result.stdout.strip()


def reference_encode(data: bytes) -> bytes:
    """COBS as Cheshire and Baker define it, written independently of the C code."""
    out, block = bytearray(), bytearray()
    for i, byte in enumerate(data):
        if byte == 0:
            out += bytes([len(block) + 1]) + block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254:
            out += b"\xff" + block
            block.clear()
            if i == len(data) - 1:
                return bytes(out)  # a full block ends the data: no trailing 0x01
    out += bytes([len(block) + 1]) + block
    return bytes(out)


RUN_254 = bytes(range(1, 255))
VECTORS = [  # from the COBS paper and Wikipedia's table
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (RUN_254, b"\xff" + RUN_254),
    (b"\x00" + RUN_254, b"\x01\xff" + RUN_254),
    (RUN_254 + b"\xff", b"\xff" + RUN_254 + b"\x02\xff"),
    (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
    (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
]


@pytest.mark.parametrize("data,encoded", VECTORS, ids=range(len(VECTORS)))
def test_published_vectors(driver, data, encoded):
    assert reference_encode(data) == encoded
    assert run(driver, "encode", data) == encoded.hex()
    assert run(driver, "decode", encoded) == data.hex()
    assert run(driver, "decode-inplace", encoded) == data.hex()


def test_round_trips_of_random_data(driver):
    rng = random.Random(7)
    for n in (1, 253, 254, 255, 508, 509, 1000, 3000):
        for zeros in (0.0, 0.01, 0.5):
            data = bytes(0 if rng.random() < zeros else rng.randrange(1, 256) for _ in range(n))
            encoded = run(driver, "encode", data)
            assert encoded == reference_encode(data).hex()
            assert run(driver, "decode", bytes.fromhex(encoded)) == data.hex()
            assert run(driver, "decode-inplace", bytes.fromhex(encoded)) == data.hex()


def test_decoder_accepts_a_trailing_01_after_a_full_block(driver):
    # Some encoders (the Python one included) close a final 254-byte run with 0x01.
    assert run(driver, "decode", b"\xff" + RUN_254 + b"\x01") == RUN_254.hex()


@pytest.mark.parametrize("frame", [
    b"\x03\x11\x00\x22",      # a zero inside the frame
    b"\x05\x11\x22",          # the block runs past the end
    b"\x02\x11\x04\x22",      # the last block runs past the end
    b"",                      # nothing
    b"\x00",                  # only a zero
], ids=["zero", "past-end", "last-past-end", "empty", "only-zero"])
def test_malformed_frames_are_refused(driver, frame):
    assert run(driver, "decode", frame) == "error"


def test_buffers_are_bounds_checked(driver):
    data = bytes(range(1, 200))
    size = len(reference_encode(data))
    assert run(driver, "encode-cap", data, size) == str(size)
    assert run(driver, "encode-cap", data, size - 1) == "0"
    encoded = reference_encode(b"\x11\x22\x00\x33")
    assert run(driver, "decode-cap", encoded, 4) == "11220033"
    assert run(driver, "decode-cap", encoded, 3) == "error"
    assert run(driver, "decode-cap", encoded, 2) == "error"
