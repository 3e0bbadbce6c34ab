"""Emulated boards as processes: the host build (a pseudo-terminal) and mps2-an386 under
QEMU (a TCP serial port), each started, connected to and stopped by the host.

    with start_emulated("host", image) as board:      # or "mps2-an386"
        device = board.connect()                        # a drip_tiny.link.Device
        device.identify()

Under QEMU the firmware cannot count cycles (QEMU models no DWT); it brackets every stage
with two marker functions, and the insn_count plugin (docs/instruction-counting.md)
counts the instructions between them exactly. PluginCycles hands those counts to the
Device, which puts them into each CLASSIFY result.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Self, TextIO, cast

from drip_tiny import child_processes
from drip_tiny.boards import Board, load_board, require_qemu
from drip_tiny.errors import EmulatorError, LinkError
from drip_tiny.link.client import Device, open_port

CYCLES_BEGIN = "dt_cycles_region_begin"
CYCLES_END = "dt_cycles_region_end"
STAGES = 3  # inference, DRIP step, store: the regions of one CLASSIFY
START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]  # (host, port) for AF_INET
        return port


class PluginCycles:
    """Reads the insn_count plugin's lines as the firmware completes its regions.

    The plugin writes "boot" when the firmware (re)starts; the firmware then counts one
    empty region (the markers' own cost, subtracted from every stage), then three regions
    per CLASSIFY it runs (inference, DRIP step, store), in the order it runs them. A
    repeated request that the device answers from a stored reply runs nothing and adds no
    region. So the triples queue up in execution order, which is the order of the fresh
    replies on the link; a reboot drops the triples of requests whose replies died with it.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file: TextIO | None = None
        self._partial_line = ""
        self.overhead: int | None = None
        self._stages: list[int] = []  # the regions of a CLASSIFY still running
        self._queue: deque[tuple[int, int, int]] = deque()
        self.boots = 0

    def _update(self) -> None:
        # The file stays open: it is read after every answer, and opening it each time
        # cost the harness ~0.1 ms per sample on a machine it shares with the emulator.
        if self._file is None:
            if not self.path.exists():
                return
            self._file = open(self.path)  # noqa: SIM115 (read as the log grows; closed in close())
        text = self._file.read()
        if not text:
            return
        lines = (self._partial_line + text).split("\n")
        self._partial_line = lines.pop()
        for line in lines:
            fields = line.split()
            if fields == ["boot"]:
                self.boots += 1
                self.overhead = None
                self._stages.clear()
                self._queue.clear()
            elif len(fields) == 3 and fields[0] == "region":
                count = int(fields[2])
                if self.overhead is None:
                    self.overhead = count
                    continue
                self._stages.append(count)
                if len(self._stages) == STAGES:
                    # STAGES (3) counts: inference, DRIP step, store
                    self._queue.append(cast("tuple[int, int, int]", tuple(
                        max(0, c - self.overhead) for c in self._stages)))
                    self._stages.clear()

    def next(self) -> tuple[int, int, int] | None:
        """The counts of the oldest CLASSIFY run not yet taken (pipelined hosts, in the
        order of the fresh replies), or None."""
        self._update()
        return self._queue.popleft() if self._queue else None

    def latest(self) -> tuple[int, int, int] | None:
        """The counts of the CLASSIFY run last, dropping any older ones not taken: right
        for a host with one request in flight, whether or not it was resent."""
        self._update()
        last = self._queue[-1] if self._queue else None
        self._queue.clear()
        return last

    def discard(self) -> None:
        """Forget the runs not taken (after resends, when the order is no longer known)."""
        self._update()
        self._queue.clear()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class EmulatedBoard:
    """A running emulated board; stop() (or the with block) ends it."""

    url: str
    process: subprocess.Popen[bytes]
    cycle_source: PluginCycles | None = None
    log_path: Path

    def connect(self, timeout: float = 2.0, retries: int = 3) -> Device:
        return Device(open_port(self.url), timeout=timeout, retries=retries,
                      cycle_source=self.cycle_source)

    def stop(self) -> None:
        # The board's whole process group, SIGKILL if it ignores SIGTERM (see
        # drip_tiny/child_processes.py for what happens when drip-tiny itself is stopped).
        child_processes.stop(self.process)
        self._cleanup()

    def _cleanup(self) -> None:
        pass

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HostBoard(EmulatedBoard):
    """boards/host's executable serving the protocol on a pseudo-terminal, with its flash
    in a file (kept across restarts: a reboot test restarts with the same file)."""

    def __init__(self, executable: str | os.PathLike[str], flash_file: str | os.PathLike[str], *,
                 log_dir: str | os.PathLike[str] | None = None, args: Sequence[str] = ()):
        """args: more firmware options (the tests' --cut-at N: boards/host/board.json)."""
        executable = Path(executable)
        if not executable.is_file():
            raise EmulatorError(f"no host firmware at {executable}: export the run with "
                                "`drip-tiny export RUN --board host` first")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if log_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="drip-tiny-host-")
            log_dir = self._tmp.name
        self.log_path = Path(log_dir) / "host-board.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (the process's log; closed in close())
        self.flash_file = Path(flash_file)
        self.process = child_processes.start(
            [str(executable), "--pty", "--flash", str(flash_file), *args],
            stdout=subprocess.PIPE, stderr=self._log)
        try:
            self.url = self._read_url()
        except BaseException:  # a Ctrl-C or stop signal before the caller holds the board
            self.stop()
            raise

    def _read_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        stdout = self.process.stdout
        assert stdout is not None  # started with stdout=PIPE
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise EmulatorError("the host firmware did not announce its serial port "
                                    f"within {START_TIMEOUT:g} s; its log:\n{self.log()}")
            ready, _, _ = select.select([stdout], [], [], left)
            if ready:
                byte = os.read(stdout.fileno(), 1)
                if not byte:
                    continue
                line += byte
        text = line.decode(errors="replace").strip()
        if not text.startswith("serial "):
            raise EmulatorError(f"the host firmware printed {text!r} instead of "
                                "'serial /dev/pts/N'")
        return text.split(" ", 1)[1]

    def _cleanup(self) -> None:
        self._log.close()
        if self.process.stdout:
            self.process.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def qemu_serial_command(elf: Path, board: Board, port: int, plugin: str | None) -> list[str]:
    """QEMU for elf with UART0 on a TCP server socket (docs: DESIGN.md's serial facts)."""
    from drip_tiny.emulator.insn_count import qemu_command

    command = qemu_command(elf, board, plugin)
    # Replace the board's default serial (null, for the benchmarks) with the socket;
    # QEMU waits for the first client before it starts the guest (wait=on), so no byte
    # the firmware sends is lost.
    cleaned: list[str] = []
    skip = False
    for arg in command:
        if skip:
            skip = False
            continue
        if arg == "-serial":
            skip = True
            continue
        cleaned.append(arg)
    return cleaned + ["-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"]


class QemuBoard(EmulatedBoard):
    """An ELF for an emulated board (mps2-an386) running in QEMU with UART0 on
    socket://127.0.0.1:PORT and the instruction-counting plugin attached."""

    def __init__(self, elf: str | os.PathLike[str], board: Board | str = "mps2-an386", *,
                 port: int | None = None, count_cycles: bool = True,
                 uncounted: Sequence[str] | None = None,
                 log_dir: str | os.PathLike[str] | None = None):
        from drip_tiny.emulator.insn_count import (
            build_plugin,
            elf_entry,
            symbol_addresses,
            symbol_ranges,
        )

        self.board = load_board(board) if isinstance(board, str) else board
        qemu = require_qemu(self.board)
        elf = Path(elf)
        if not elf.is_file():
            raise EmulatorError(f"no firmware image at {elf}: export the run with "
                                f"`drip-tiny export RUN --board {self.board.name}` first")
        self._tmp = tempfile.TemporaryDirectory(prefix="drip-tiny-qemu-")
        work = Path(log_dir) if log_dir else Path(self._tmp.name)
        self.log_path = work / "qemu.log"
        plugin = None
        if count_cycles:
            addresses = symbol_addresses(elf, [CYCLES_BEGIN, CYCLES_END])
            counts = work / "cycles.txt"
            # boot= the ELF's entry (the reset handler): "boot" lines mark restarts.
            plugin = (f"{build_plugin(self.board)},begin={addresses[CYCLES_BEGIN]:#x},"
                      f"end={addresses[CYCLES_END]:#x},out={counts},"
                      f"boot={elf_entry(elf):#x}")
            # Interrupt handlers that may run inside a stage (bytes of the next samples
            # arriving): left out, so a stage's count does not depend on the link's timing.
            # uncounted: None takes board.json's list.
            names = qemu.uncounted if uncounted is None else list(uncounted)
            for start, size in symbol_ranges(elf, names).values():
                plugin += f",skip={start:#x}+{size}"
            self.cycle_source = PluginCycles(counts)
        self.port = port or _free_port()
        self.url = f"socket://127.0.0.1:{self.port}"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (the process's log; closed in close())
        self.process = child_processes.start(
            qemu_serial_command(elf, self.board, self.port, plugin),
            stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_listening()
        except BaseException:  # a Ctrl-C or stop signal before the caller holds the board
            self.stop()
            raise

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            # Probing with connect would take QEMU's one client slot; read the
            # listening sockets instead.
            if _listening(self.port):
                return
            time.sleep(0.02)
        status = self.process.poll()
        raise EmulatorError(f"QEMU did not open its serial port {self.port} within "
                            f"{START_TIMEOUT:g} s (exit status {status}); its output:\n"
                            f"{self.log()}")

    def connect(self, timeout: float = 2.0, retries: int = 3) -> Device:
        try:
            return super().connect(timeout, retries)
        except LinkError as e:
            raise EmulatorError(f"cannot connect to QEMU's serial port: {e}; QEMU said:\n"
                                f"{self.log()}") from e

    def _cleanup(self) -> None:
        self._log.close()
        if self.cycle_source is not None:
            self.cycle_source.close()
        self._tmp.cleanup()


def _listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port (Linux /proc/net/tcp, state 0A)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True  # cannot tell: let the connection attempt decide
    for line in lines:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            return True
    return False


def start_emulated(board: str, image: str | os.PathLike[str], *,
                   flash_file: str | os.PathLike[str] | None = None) -> EmulatedBoard:
    """Start an exported image on an emulated board: `host` (image = the executable) or a
    board with a `qemu` entry in its board.json (image = the ELF)."""
    spec = load_board(board)
    if spec.toolchain == "host":
        flash = flash_file or Path(image).with_name("flash.bin")
        return HostBoard(image, flash)
    if spec.qemu is None:
        raise EmulatorError(f"board {board} is a real board, not an emulated one: flash it "
                            "with `drip-tiny flash` and connect with --port")
    if flash_file is not None:
        raise EmulatorError(f"{board}'s flash lives in the emulated RAM; --flash-file is for "
                            "the host board")
    return QemuBoard(image, spec)  # a missing QEMU is named by emulate.insn_count
