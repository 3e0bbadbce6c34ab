"""Intel HEX -> UF2, for boards whose bootloader takes UF2 files (drag and drop on USB).

Standard library only: `drip-tiny export` copies this file into the firmware project as
tools/uf2.py, so `make` can write the UF2 without drip-tiny installed:

    python3 tools/uf2.py --family 0xADA52840 build/firmware.hex build/firmware.uf2

UF2 (Microsoft's format): a sequence of 512-byte blocks, each carrying 256 bytes of the
image at a 256-aligned target address, little endian:

    0   magic 0x0A324655      4  magic 0x9E5D5157     8  flags (0x2000: family id present)
    12  target address        16 payload bytes (256)  20 block number   24 block count
    28  family id             32 payload, zero padded to 476 bytes     508 magic 0x0AB16F30

Only the 256-byte pages the image touches get a block; bytes of a page the HEX leaves
out are 0xFF (erased flash).
"""

from __future__ import annotations

import argparse
import struct
import sys

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
BLOCK_BYTES = 512
PAYLOAD_BYTES = 256
DATA_AREA = 476
HEADER = struct.Struct("<8I")


class Uf2Error(ValueError):
    """A HEX file that cannot be read, or a UF2 file that is not well formed."""


def parse_hex(text: str) -> dict[int, int]:
    """Intel HEX text -> {address: byte}. Checks every record's checksum."""
    memory: dict[int, int] = {}
    base = 0
    ended = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if ended:
            raise Uf2Error(f"line {number}: data after the end-of-file record")
        if not line.startswith(":"):
            raise Uf2Error(f"line {number}: an Intel HEX record starts with ':'")
        try:
            record = bytes.fromhex(line[1:])
        except ValueError:
            raise Uf2Error(f"line {number}: not hexadecimal") from None
        if len(record) < 5 or len(record) != 5 + record[0]:
            raise Uf2Error(f"line {number}: its length byte says {record[0] if record else 0} "
                           "data bytes, the line holds another number")
        if sum(record) & 0xFF:
            raise Uf2Error(f"line {number}: bad checksum")
        count, offset, kind, data = record[0], (record[1] << 8) | record[2], record[3], record[4:-1]
        if kind == 0x00:
            for i, value in enumerate(data):
                memory[base + offset + i] = value
        elif kind == 0x01:
            ended = True
        elif kind == 0x02 and count == 2:  # extended segment address: base = value * 16
            base = ((data[0] << 8) | data[1]) << 4
        elif kind == 0x04 and count == 2:  # extended linear address: the upper 16 bits
            base = ((data[0] << 8) | data[1]) << 16
        elif kind in (0x03, 0x05):  # start address: the entry point, not image data
            pass
        else:
            raise Uf2Error(f"line {number}: unknown record type {kind:#04x}")
    if not ended:
        raise Uf2Error("no end-of-file record: the HEX file is truncated")
    return memory


def to_uf2(memory: dict[int, int], family_id: int) -> bytes:
    """UF2 blocks for every 256-byte page of memory that holds at least one byte."""
    pages = sorted({address // PAYLOAD_BYTES for address in memory})
    blocks = []
    for number, page in enumerate(pages):
        start = page * PAYLOAD_BYTES
        payload = bytes(memory.get(start + i, 0xFF) for i in range(PAYLOAD_BYTES))
        header = HEADER.pack(MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, start,
                             PAYLOAD_BYTES, number, len(pages), family_id)
        blocks.append(header + payload.ljust(DATA_AREA, b"\0") + struct.pack("<I", MAGIC_END))
    return b"".join(blocks)


def read_uf2(data: bytes) -> tuple[dict[int, int], set[int]]:
    """Parse UF2 blocks back: ({address: byte}, the family ids seen). Checks the magics,
    the block numbering and the payload sizes."""
    if len(data) % BLOCK_BYTES:
        raise Uf2Error(f"{len(data)} bytes is not a whole number of 512-byte blocks")
    memory: dict[int, int] = {}
    families = set()
    count = len(data) // BLOCK_BYTES
    for n in range(count):
        block = data[n * BLOCK_BYTES:(n + 1) * BLOCK_BYTES]
        m0, m1, flags, address, size, number, total, family = HEADER.unpack_from(block)
        (end,) = struct.unpack_from("<I", block, BLOCK_BYTES - 4)
        if (m0, m1, end) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise Uf2Error(f"block {n}: bad magic numbers")
        if number != n or total != count:
            raise Uf2Error(f"block {n}: says it is block {number} of {total}, expected "
                           f"{n} of {count}")
        if size > DATA_AREA:
            raise Uf2Error(f"block {n}: payload of {size} bytes exceeds {DATA_AREA}")
        if flags & FLAG_FAMILY_ID:
            families.add(family)
        for i, value in enumerate(block[32:32 + size]):
            memory[address + i] = value
    return memory, families


def hex_to_uf2(hex_text: str, family_id: int) -> bytes:
    return to_uf2(parse_hex(hex_text), family_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert an Intel HEX image to UF2.")
    parser.add_argument("hex", help="input .hex file")
    parser.add_argument("uf2", help="output .uf2 file")
    parser.add_argument("--family", required=True, type=lambda s: int(s, 0),
                        help="UF2 family id of the board's bootloader, e.g. 0xADA52840")
    args = parser.parse_args(argv)
    try:
        with open(args.hex, encoding="ascii") as f:
            data = hex_to_uf2(f.read(), args.family)
    except (OSError, UnicodeDecodeError, Uf2Error) as e:
        print(f"uf2: {args.hex}: {e}", file=sys.stderr)
        return 1
    with open(args.uf2, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
