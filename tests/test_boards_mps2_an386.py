"""The mps2-an386 board's drivers under QEMU: the board self-test (tests/boards/
board_selftest.c) built with the board's startup and drivers, talked to over UART0 as the
firmware's host runner does (-serial tcp:...,server=on,wait=on,nodelay=on and pyserial's
socket:// URL).

Checked: interrupt-driven receive echoes 10 KB of random bytes exactly, also when the
receive ring fills up; the RAM flash refuses to program a word that is not erased; a
store written before a software reset (SYSRESETREQ) is still there after it, and a fresh
QEMU starts with an erased store; the instruction-count markers exist and count a region
with the insn_count plugin. QEMU always runs under a time limit and is killed at the end;
success is read from the replies and a semihosting exit the test asked for, never from a
killed emulator."""

import os
import socket
import struct
import subprocess
import time

import pytest
from boards_common import (
    FIRMWARE_INCLUDES,
    load_segments,
    require_tools,
    selftest_sources,
    symbols,
)

from drip_tiny.boards import load_board
from drip_tiny.emulator import build_elf, build_plugin, qemu_command

serial = pytest.importorskip("serial")

CONNECT_TIMEOUT = 15.0
REPLY_TIMEOUT = 20.0
EXTERNAL = 0xFFFFFFFF  # DT_BOARD_CYCLES_EXTERNAL


@pytest.fixture(scope="module")
def board():
    require_tools("qemu-system-arm", "arm-none-eabi-gcc", "arm-none-eabi-nm",
                  "arm-none-eabi-readelf")
    return load_board("mps2-an386")


def _build(board, out, *defines):
    return build_elf(selftest_sources(board), out, board=board, optimization="-Os",
                     include_dirs=FIRMWARE_INCLUDES,
                     defines=[*board.app_defines, "DT_SELFTEST_SEMIHOSTING", *defines],
                     extra_flags=[f"-Wl,--defsym=DT_STACK_BYTES={board.stack_bytes}"],
                     with_bench_markers=False)


@pytest.fixture(scope="module")
def elf(board, tmp_path_factory):
    return _build(board, tmp_path_factory.mktemp("mps2") / "selftest.elf")


@pytest.fixture(scope="module")
def small_ring_elf(board, tmp_path_factory):
    """A 64-byte receive ring: it is sure to fill while the CPU spins."""
    return _build(board, tmp_path_factory.mktemp("mps2") / "selftest-ring64.elf",
                  "DT_UART_RING_BYTES=64u")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Board:
    """One QEMU run of the self-test, reached over its TCP serial port."""

    def __init__(self, elf, board, log_dir, plugin=None):
        port = _free_port()
        command = qemu_command(elf, board, plugin) + [
            "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"]
        self.log = open(log_dir / f"qemu-{port}.log", "w+b")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                self.port = serial.serial_for_url(f"socket://127.0.0.1:{port}",
                                                  timeout=REPLY_TIMEOUT)
                break
            except serial.SerialException:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise AssertionError(f"QEMU did not listen on port {port}: "
                                         f"{self.qemu_output()}") from None
                time.sleep(0.05)

    def qemu_output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def send(self, command, *words, payload=b""):
        self.port.write(command + b"".join(struct.pack("<I", w) for w in words) + payload)

    def line(self):
        text = self.port.readline()
        assert text.endswith(b"\n"), f"no reply line in time (got {text!r})"
        return text.decode().strip()

    def read_exactly(self, n):
        data = self.port.read(n)
        assert len(data) == n, f"{len(data)} of {n} bytes came back in time"
        return data

    def quit(self):
        """Ask the image to end through semihosting; return QEMU's exit status."""
        self.send(b"Q")
        assert self.line() == "BYE"
        status = self.proc.wait(timeout=REPLY_TIMEOUT)
        self.close()
        return status

    def close(self):
        if getattr(self, "port", None) is not None:
            self.port.close()
            self.port = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def device(elf, board, tmp_path):
    dev = Board(elf, board, tmp_path)
    yield dev
    dev.close()


def test_echoes_10_kb_of_random_bytes_sent_in_chunks(device):
    assert device.line() == "BOOT count=0 status=0"
    data = os.urandom(10 * 1024)
    device.send(b"E", len(data))
    echoed = bytearray()
    for at in range(0, len(data), 700):
        chunk = data[at:at + 700]
        device.port.write(chunk)
        echoed += device.read_exactly(len(chunk))
    assert bytes(echoed) == data
    device.send(b"O")
    assert device.line() == "O 0"
    assert device.quit() == 0


@pytest.mark.parametrize("ring", ["4096", "64"])
def test_nothing_is_lost_when_the_receive_ring_fills_while_the_cpu_is_busy(
        ring, elf, small_ring_elf, board, tmp_path):
    dev = Board(elf if ring == "4096" else small_ring_elf, board, tmp_path)
    try:
        assert dev.line().startswith("BOOT")
        data = os.urandom(10 * 1024)  # more than the ring holds
        # All of it is written while the CPU spins (about 1e8 instructions): the ring fills,
        # the UART holds the next byte and QEMU stops reading the socket until the echo
        # loop makes room.
        dev.send(b"B", 20_000_000, len(data), payload=data)
        assert dev.read_exactly(len(data)) == data
        dev.send(b"O")
        assert dev.line() == "O 0"  # back-pressure, not overruns
        assert dev.quit() == 0
    finally:
        dev.close()


def test_ram_flash_enforces_the_nor_rules(device):
    assert device.line().startswith("BOOT")
    device.send(b"N")
    erase, program, again, readback, misaligned = device.line().split()[1:]
    assert (erase, program) == ("0", "0")
    assert again == "-7"  # DT_STORE_ERR_NOR: the word was already programmed
    assert readback == "12345678"  # and it kept its first value
    assert misaligned == "-1"  # DT_STORE_ERR_ARG
    assert device.quit() == 0


def test_store_survives_a_software_reset_and_a_fresh_qemu_starts_erased(elf, board, tmp_path):
    samples = [os.urandom(37), bytes(range(256)) * 3]
    dev = Board(elf, board, tmp_path)
    try:
        assert dev.line() == "BOOT count=0 status=0"
        dev.send(b"F")
        assert dev.line() == "F 1 1"  # cold start: both regions erased (RAM starts at 0)
        for k, sample in enumerate(samples):
            dev.send(b"A", len(sample), payload=sample)
            assert dev.line() == f"A 0 {k + 1}"
        for _ in range(2):  # twice: the warm-boot path keeps what it found
            dev.send(b"X")
            assert dev.line() == "X"
            assert dev.line() == "BOOT count=2 status=0"
        for k, sample in enumerate(samples):
            dev.send(b"R", k)
            assert dev.line() == f"R 0 {len(sample)}"
            assert dev.read_exactly(len(sample)) == sample
        dev.send(b"F")
        assert dev.line() == "F 0 1"
        assert dev.quit() == 0
    finally:
        dev.close()
    fresh = Board(elf, board, tmp_path)  # a new QEMU: RAM is zero, the store is erased
    try:
        assert fresh.line() == "BOOT count=0 status=0"
        fresh.send(b"F")
        assert fresh.line() == "F 1 1"
        assert fresh.quit() == 0
    finally:
        fresh.close()


def test_store_region_lies_outside_every_loadable_segment(elf, board):
    # QEMU re-copies the PT_LOAD segments (zero-filling their .bss part) on a reset: the
    # store, the settings and .noinit must be in none of them to survive it.
    table = symbols(elf)
    assert table["__dt_store_start"] == board.store.start
    assert table["__dt_store_end"] == board.store.start + board.store.bytes
    assert table["__dt_settings_start"] == board.settings.start
    assert table["__dt_settings_end"] == board.settings.start + board.settings.bytes
    low, high = board.store.start, board.settings.start + board.settings.bytes
    for address, _, memory_size in load_segments(elf):
        assert address + memory_size <= low or address >= high, hex(address)
    nvram = next(r for r in board.memory if r.name == "NVRAM")
    assert low <= table["nvram"] < nvram.start + nvram.bytes


def test_cycle_markers_exist_and_bound_a_counted_region(elf, board, tmp_path):
    table = symbols(elf)
    begin, end = table["dt_cycles_region_begin"], table["dt_cycles_region_end"]
    assert begin != end
    counts = tmp_path / "counts.txt"
    plugin = f"{build_plugin(board)},begin={begin & ~1:#x},end={end & ~1:#x},out={counts}"
    dev = Board(elf, board, tmp_path, plugin=plugin)
    try:
        assert dev.line().startswith("BOOT")
        dev.send(b"Y")
        assert dev.line() == f"Y {EXTERNAL}"
        dev.send(b"Y")
        assert dev.line() == f"Y {EXTERNAL}"
        assert dev.quit() == 0
    finally:
        dev.close()
    lines = counts.read_text().split("\n")
    regions = [line.split() for line in lines if line.startswith("region")]
    assert [r[1] for r in regions] == ["0", "1"]
    # begin's body and return, the return to dt_board_cycles_begin and its caller's code up
    # to the call of the end marker: a handful of instructions, the same both times
    assert regions[0][2] == regions[1][2] and 0 < int(regions[0][2]) < 30
    assert not any(line.startswith("error") for line in lines)
