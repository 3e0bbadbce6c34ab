"""The codes on the wire have one definition, firmware/protocol/dt_wire.h; the host's
enums in drip_tiny/link/protocol.py must match it name for name and value for value."""

import re
from enum import IntEnum
from pathlib import Path

import pytest

from drip_tiny.link import protocol as p

HEADER = Path(__file__).resolve().parents[1] / "firmware" / "protocol" / "dt_wire.h"


def c_enum(text: str, type_name: str, prefix: str) -> dict[str, int]:
    """NAME -> value of `typedef enum { PREFIX_NAME = value, ... } type_name;`."""
    match = re.search(r"typedef enum \{(?P<body>[^}]*)\}\s*" + type_name + r"\s*;", text)
    assert match, f"{type_name} not found in {HEADER.name}"
    body = re.sub(r"/\*.*?\*/", "", match["body"], flags=re.S)
    values = {}
    for entry in filter(None, (e.strip() for e in body.split(","))):
        name, value = (part.strip() for part in entry.split("="))
        assert name.startswith(prefix), name
        values[name[len(prefix):]] = int(value, 0)
    return values


@pytest.mark.parametrize("type_name, prefix, python", [
    ("dt_command_code_t", "DT_CMD_", p.Command),
    ("dt_status_t", "DT_STATUS_", p.Status),
    ("dt_store_result_t", "DT_STORE_RESULT_", p.StoreResult),
])
def test_python_enums_match_the_c_header(type_name, prefix, python: type[IntEnum]):
    assert c_enum(HEADER.read_text(), type_name, prefix) == {m.name: m.value for m in python}


def test_not_stored_index_matches():
    match = re.search(r"#define DT_WIRE_NOT_STORED (0x[0-9A-Fa-f]+)u", HEADER.read_text())
    assert match and int(match[1], 16) == p.NOT_STORED


def test_the_parser_sees_a_difference():
    text = HEADER.read_text().replace("DT_CMD_RESET = 0x7F", "DT_CMD_RESET = 0x7E")
    assert c_enum(text, "dt_command_code_t", "DT_CMD_")["RESET"] != p.Command.RESET


def test_the_firmware_defines_the_codes_nowhere_else():
    firmware = HEADER.parents[1]
    elsewhere = [str(f) for f in firmware.rglob("*.[ch]") if f != HEADER
                 and re.search(r"\bDT_(CMD|STATUS)_\w+\s*=", f.read_text())]
    assert elsewhere == []
