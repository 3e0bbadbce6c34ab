"""What the application asks of a board's cycle counter, on a test board over memory
(tests/firmware/region_board.c): regions never nest, one empty region per boot (the
markers' own cost) and exactly three per CLASSIFY run (inference, DRIP step, store,
the last empty when nothing is stored), none for a replayed or refused request. An
emulator that counts regions outside the device (QEMU's insn_count plugin,
drip_tiny.emulator.launch.PluginCycles) depends on this."""

import struct
import subprocess

import numpy as np
import pytest
from firmware_build import (
    APP_INCLUDES,
    FIRMWARE,
    SANITIZE,
    WARNINGS,
    app_sources,
    cc,
    fitted_copy,
    model_sources,
)
from firmware_device import packet, parse_reply

from drip_tiny.link.protocol import NOT_STORED, cobs_decode, frame

BOARD = FIRMWARE.parent / "tests" / "firmware" / "region_board.c"


@pytest.fixture(scope="module")
def firmware(digits_ptq_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("regions")
    gen = model_sources(fitted_copy(digits_ptq_run, root / "run"), root / "generated")
    exe = root / "firmware"
    sources = [*app_sources(), FIRMWARE / "store" / "dt_flash_sim.c", BOARD,
               *sorted(gen.glob("*.c"))]
    command = [cc(), "-std=c99", "-O1", "-g", *WARNINGS, *SANITIZE, "-DDT_FLASH_SIM_NO_FILES",
               *(f"-I{p}" for p in [*APP_INCLUDES, gen]), *map(str, sources), "-o", str(exe), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return exe


def session(exe, packets):
    result = subprocess.run([str(exe)], input=b"\x00" + b"".join(map(frame, packets)),
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    regions, boots = (int(v) for v in result.stderr.decode().split()[1::2])
    replies = [parse_reply(cobs_decode(f)) for f in result.stdout.split(b"\x00")[:-1]]
    return regions, boots, replies


def test_one_region_per_boot_and_three_per_classify(firmware):
    rng = np.random.default_rng(3)
    samples = [rng.integers(-128, 128, 64, dtype=np.int8).tobytes() for _ in range(6)]
    packets = [packet(0x01, 1)]
    packets += [packet(0x02, 10 + i, s) for i, s in enumerate(samples)]
    packets += [packet(0x02, 15, samples[5]),   # a replay: runs nothing
                packet(0x02, 16, bytes(63)),    # refused: wrong size
                packet(0x7F, 17),               # RESET: a new boot
                packet(0x02, 18, samples[0])]
    regions, boots, replies = session(firmware, packets)
    assert boots == 2 and len(replies) == len(packets)
    classified = [r for r in replies if r.command == 0x82 and r.payload[0] == 0]
    assert len(classified) == 8  # 6, the replay, the one after RESET
    assert regions == 2 * 1 + 3 * 7
    # Every reply carries the board's "counted outside" marker, except an unwritten store.
    for r in classified:
        after_drips = 1 + 1 + 10 + 4  # status, class, logits, DRIPS
        _keep, result, index, infer, drip, store = struct.unpack_from("<BBIIII", r.payload,
                                                                     after_drips)
        assert (infer, drip) == (0xFFFFFFFF, 0xFFFFFFFF)
        assert (store == 0) == (result != 0) and (index == NOT_STORED) == (result != 0)
