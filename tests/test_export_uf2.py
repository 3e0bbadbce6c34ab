"""The HEX -> UF2 converter (drip_tiny/export/uf2.py), on synthetic images parsed back."""

import random
import struct
import subprocess
import sys

import pytest

from drip_tiny.export import uf2

FAMILY = 0xADA52840


def _record(kind: int, address: int, data: bytes) -> str:
    body = bytes([len(data), (address >> 8) & 0xFF, address & 0xFF, kind]) + data
    return ":" + (body + bytes([(-sum(body)) & 0xFF])).hex().upper()


def _to_hex(memory: dict[int, int], chunk: int = 16) -> str:
    """Intel HEX of memory with extended linear address records (as objcopy writes)."""
    lines, upper = [], None
    addresses = sorted(memory)
    i = 0
    while i < len(addresses):
        start = addresses[i]
        data = bytearray([memory[start]])
        i += 1
        while (i < len(addresses) and addresses[i] == start + len(data) and len(data) < chunk
               and (start + len(data)) >> 16 == start >> 16):
            data.append(memory[addresses[i]])
            i += 1
        if start >> 16 != upper:
            upper = start >> 16
            lines.append(_record(0x04, 0, upper.to_bytes(2, "big")))
        lines.append(_record(0x00, start & 0xFFFF, bytes(data)))
    lines.append(_record(0x05, 0, (0x1000).to_bytes(4, "big")))
    lines.append(_record(0x01, 0, b""))
    return "\n".join(lines) + "\n"


def _image() -> dict[int, int]:
    rng = random.Random(7)
    memory = {}
    # a vector table + code at 0 (crossing pages), a lone constant far away (another 64 KB
    # segment), and a partial page: gaps must come back as 0xFF.
    for a in range(0, 1000):
        memory[a] = rng.randrange(256)
    for a in range(0x27FF0, 0x28010):
        memory[a] = rng.randrange(256)
    memory[0x10203] = 0x5A
    return memory


def test_hex_round_trip_and_uf2_blocks_carry_every_byte():
    memory = _image()
    text = _to_hex(memory)
    assert uf2.parse_hex(text) == memory
    data = uf2.hex_to_uf2(text, FAMILY)
    pages = sorted({a // 256 for a in memory})
    assert len(data) == 512 * len(pages)
    back, families = uf2.read_uf2(data)
    assert families == {FAMILY}
    for a, v in memory.items():
        assert back[a] == v
    # bytes of a touched page the image does not hold are erased flash
    assert back[0x10200] == 0xFF and back[0x10204] == 0xFF and back[1000] == 0xFF
    assert set(back) == {p * 256 + i for p in pages for i in range(256)}


def test_block_layout_matches_the_uf2_specification():
    data = uf2.hex_to_uf2(_to_hex({0x1234: 1, 0x1235: 2}), FAMILY)
    assert len(data) == 512
    words = struct.unpack_from("<8I", data)
    assert words == (0x0A324655, 0x9E5D5157, 0x2000, 0x1200, 256, 0, 1, FAMILY)
    assert data[32 + 0x34:32 + 0x36] == b"\x01\x02"
    assert data[32 + 256:508] == bytes(476 - 256)
    assert struct.unpack_from("<I", data, 508) == (0x0AB16F30,)


@pytest.mark.parametrize("text, message", [
    (":0100000001FE\n", "no end-of-file"),  # checksum ok, but no EOF record
    (":0100000001FF\n:00000001FF\n", "bad checksum"),
    ("0100000001FE\n:00000001FF\n", "starts with ':'"),
    (":0200000001FE\n:00000001FF\n", "length"),
    (":00000001FF\n:0100000001FE\n", "after the end-of-file"),
    (":0100000601F8\n:00000001FF\n", "unknown record type"),
])
def test_malformed_hex_is_refused_with_the_reason(text, message):
    with pytest.raises(uf2.Uf2Error, match=message):
        uf2.parse_hex(text)


def test_corrupt_uf2_is_detected():
    data = bytearray(uf2.hex_to_uf2(_to_hex({0: 1, 300: 2}), FAMILY))
    with pytest.raises(uf2.Uf2Error, match="512-byte"):
        uf2.read_uf2(bytes(data[:-1]))
    data[512 + 20] = 5  # second block claims another number
    with pytest.raises(uf2.Uf2Error, match="block 1"):
        uf2.read_uf2(bytes(data))


def test_standalone_script_runs_without_drip_tiny(tmp_path):
    """The copy in a project (tools/uf2.py) must work with the standard library only."""
    from pathlib import Path

    script = tmp_path / "uf2.py"
    script.write_text(Path(uf2.__file__).read_text())
    (tmp_path / "in.hex").write_text(_to_hex(_image()))
    result = subprocess.run([sys.executable, "-S", "-I", str(script), "--family", "0xADA52840",
                             str(tmp_path / "in.hex"), str(tmp_path / "out.uf2")],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    back, families = uf2.read_uf2((tmp_path / "out.uf2").read_bytes())
    assert families == {FAMILY} and back[0x10203] == 0x5A
    bad = subprocess.run([sys.executable, "-I", str(script), "--family", "1",
                          str(tmp_path / "missing.hex"), str(tmp_path / "x.uf2")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "missing.hex" in bad.stderr
