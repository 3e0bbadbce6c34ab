"""A device on a serial link, spoken to with the protocol of docs/protocol.md.

`Device` works over any object with pyserial's read/write/timeout interface (a serial
port, `serial.serial_for_url("socket://...")` for QEMU, a pseudo-terminal of the host
board). Stop-and-wait: one request at a time; a lost request or reply is resent with the
same sequence number, and the device answers a repeat with its stored reply, so nothing
runs twice.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol, cast

import numpy as np

from drip_tiny.errors import DeviceError, LinkError
from drip_tiny.link import protocol as p

if TYPE_CHECKING:
    import serial


class Port(Protocol):
    """What Device needs of a port: pyserial's read/write/timeout interface. Some ports
    also have fileno() and flush(); Device looks for them and does without."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


class CycleSource(Protocol):
    """Counts from outside the device (drip_tiny.emulator.launch.PluginCycles)."""

    def latest(self) -> tuple[int, int, int] | None: ...
    def next(self) -> tuple[int, int, int] | None: ...
    def discard(self) -> None: ...


try:
    import termios

    # A port that fails: pyserial's SerialException is an OSError; its flush (tcdrain)
    # raises termios.error, which is not.
    PORT_ERRORS: tuple[type[Exception], ...] = (OSError, termios.error)
except ImportError:  # no termios (Windows)
    PORT_ERRORS = (OSError,)

DEFAULT_TIMEOUT = 2.0
DEFAULT_RETRIES = 3
READ_CHUNK = 4096
# On a TCP port, how long a read waits for a whole reply of the expected size before it
# takes what has come (a shorter reply: an error): see Device._read_some.
WHOLE_REPLY_PATIENCE = 0.005


def open_port(url: str, baudrate: int = 1_000_000, timeout: float = 0.05) -> serial.SerialBase:
    """A pyserial port for a device path (/dev/ttyACM0) or URL (socket://host:port, ...)."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as e:
        raise LinkError(f"cannot open the serial port {url!r}: {e}. Check the device is "
                        "connected (or the emulator is running) and the URL is right "
                        "(/dev/ttyACM0, socket://127.0.0.1:PORT, rfc2217://...)") from e


class Device:
    """The host side of the protocol.

    cycle_source: for boards that count outside the device (QEMU), an object whose
    `latest()` returns (inference, drip, store) counts of the CLASSIFY run last, or None
    (drip_tiny.emulator.launch.PluginCycles).
    """

    def __init__(self, port: Port, *, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, cycle_source: CycleSource | None = None):
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.cycle_source = cycle_source
        self.identity: p.Identity | None = None
        self._sequence = 0
        self._reader = p.FrameReader()
        self._pending: list[bytes] = []
        self.bytes_read = 0  # on the link, both ways, since the Device was made
        self.bytes_written = 0
        self.retransmissions = 0
        self.stale_replies = 0
        self._synchronized = False

    # ---- plumbing ----

    @property
    def port(self) -> Port:
        return self._port

    @port.setter
    def port(self, port: Port) -> None:
        self._port = port  # a wrapper (a fault injector in the tests) may replace it
        # its descriptor (None: it has none): looked up again on the next read
        self._fd: int | Literal[False] | None = False
        self._socket = _tcp_socket(port)
        self._low_water = 1  # the socket's SO_RCVLOWAT as last set

    def close(self) -> None:
        sock = getattr(self.port, "_socket", None)
        self.port.close()
        if sock is not None:
            # pyserial's socket:// close() skips the socket's close() when shutdown() fails,
            # as it does on a connection the other end already closed.
            sock.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_some(self, remaining: float, want: int = 1) -> bytes:
        """What the port has, waiting at most `remaining` seconds for the first byte, or
        on a TCP port (socket://) for `want` bytes.

        Ports with a file descriptor (serial devices, sockets) are waited on with select
        and read in one call: pyserial's in_waiting on a socket only says 0 or 1, and a
        byte per call costs the CPU an emulator on the same machine needs. On a TCP port
        the kernel is also told (SO_RCVLOWAT) how many bytes make the reply awaited, so
        this process wakes once per reply instead of once per segment; QEMU sends every
        byte as its own segment, and each wake-up it causes runs on the emulator's CPU
        thread. With fewer than `want` bytes there after WHOLE_REPLY_PATIENCE, it takes
        what has come (a reply shorter than expected, an error, ends with its delimiter
        all the same); b"" when nothing has."""
        if self._socket is not None:
            data = self._read_socket(remaining, want)
        else:
            fd = self._fileno()
            try:
                if fd is not None:
                    ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
                    data = self.port.read(READ_CHUNK) if ready else b""
                else:
                    data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
            except PORT_ERRORS as e:
                raise _port_gone(self.port, "reading", e) from e
        self.bytes_read += len(data)
        return data

    def _read_socket(self, remaining: float, want: int) -> bytes:
        sock = self._socket
        assert sock is not None  # _read_some calls this only for a TCP port
        if want != self._low_water:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, want)
            self._low_water = want
        wait = remaining if want == 1 else min(remaining, WHOLE_REPLY_PATIENCE)
        select.select([sock], [], [], max(0.0, wait))  # then take whatever is there
        try:
            data = sock.recv(READ_CHUNK)  # pyserial's socket is non-blocking
        except (BlockingIOError, InterruptedError):
            return b""
        except (ConnectionResetError, ConnectionAbortedError):
            # A peer that closes with our request still unread resets instead of ending
            # the stream (which one we see depends on timing): the same closed connection.
            data = b""
        except OSError as e:
            raise LinkError(f"reading {self._tcp_name()}: {e}") from e
        if not data:
            # Readable with nothing to read: the other end closed the connection.
            raise LinkError(f"{self._tcp_name()}: the connection was closed (did the "
                            "emulator or the serial bridge stop?)")
        return data

    def _tcp_name(self) -> str | None:
        # A port with a TCP socket is a pyserial socket:// port (_tcp_socket), named by .port
        return cast("serial.SerialBase", self.port).port

    def _fileno(self) -> int | None:
        if self._fd is False:  # not looked up yet
            self._fd = None
            try:
                fd = self.port.fileno()  # type: ignore[attr-defined]  # optional, see Port
            except Exception:  # no descriptor: rfc2217://, loop://, test fakes
                fd = None
            if isinstance(fd, int) and fd >= 0:
                # With a descriptor, select does the waiting: reads must not block.
                self.port.timeout = 0
                self._fd = fd
        return self._fd

    def next_packet(self, deadline: float, expect: int = 1) -> p.Packet | None:
        """The next valid packet from the device, or None at the deadline (time.monotonic).
        Frames that do not decode (line noise) are skipped. expect: the fewest bytes the
        awaited reply takes on the wire (p.reply_wire_bytes), when the caller knows it."""
        while True:
            while self._pending:
                raw = self._pending.pop(0)
                try:
                    raw = p.cobs_decode(raw)
                    return p.decode_packet(raw)
                except LinkError:
                    continue  # noise: wait for the retry
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            # A reply shorter than `expect` (an error) still ends with its delimiter:
            # _read_some takes what has come after a short wait, and it decodes.
            chunk = self._read_some(remaining, max(1, expect - self._reader.buffered))
            if chunk:
                self._pending.extend(self._reader.feed(chunk))

    def next_sequence(self) -> int:
        """A new sequence number (1..65535; 0 is the device's "header unreadable")."""
        self._sequence = (self._sequence + 1) & 0xFFFF or 1
        return self._sequence

    def send(self, wire: bytes, *, flush: bool = True) -> None:
        """Write one framed packet (after a lone 0x00 that ends any partial frame the device
        holds, the first time or after a resync). flush waits until the OS has sent it
        (tcdrain on a serial port): right for stop-and-wait, a stall for a pipeline."""
        try:
            if not self._synchronized:
                self.port.write(b"\x00")
                self.bytes_written += 1
                self._synchronized = True
            self.port.write(wire)
            self.bytes_written += len(wire)
            if flush and getattr(self.port, "flush", None):
                self.port.flush()  # type: ignore[attr-defined]  # optional, see Port
        except PORT_ERRORS as e:
            raise _port_gone(self.port, "writing to", e) from e

    def resync(self) -> None:
        """The device may hold a partial frame (it rebooted, or noise): send 0x00 first."""
        self._synchronized = False

    def request(self, command: p.Command, payload: bytes = b"", *,
                timeout: float | None = None) -> bytes:
        """Send one request and return the OK reply's body (after the status byte).
        DeviceError for an error status; LinkError when the device stays silent."""
        seq = self.next_sequence()
        wire = p.frame(p.encode_packet(command, seq, payload))
        wait = self.timeout if timeout is None else timeout
        for attempt in range(self.retries + 1):
            if attempt:
                self.retransmissions += 1
            self.send(wire)
            deadline = time.monotonic() + wait
            while True:
                packet = self.next_packet(deadline)
                if packet is None:
                    break  # timed out: resend
                if packet.sequence == seq and packet.command & p.REPLY_BIT:
                    return p.split_status(command, packet)
                if packet.sequence == 0 and packet.payload[:1] == bytes([p.Status.ERR_TOO_LONG]):
                    p.split_status(command, packet)  # raises DeviceError
                self.stale_replies += 1
        raise LinkError(f"{command.name}: no answer after {self.retries + 1} attempts of "
                        f"{wait:g} s; is the device running the drip-tiny firmware and "
                        "the port right?")

    # ---- commands ----

    def identify(self) -> p.Identity:
        self.identity = p.parse_identify(self.request(p.Command.IDENTIFY))
        return self.identity

    def _identity(self) -> p.Identity:
        return self.identity or self.identify()

    def classify(self, sample: bytes | bytearray | np.ndarray) -> p.Classification:
        """Send one int8 sample (bytes or an int8 array of the input's size)."""
        ident = self._identity()
        data = sample if isinstance(sample, (bytes, bytearray)) else \
            np.ascontiguousarray(sample, dtype=np.int8).tobytes()
        if len(data) != ident.input_bytes:
            raise LinkError(f"sample of {len(data)} bytes; the device's model takes "
                            f"{ident.input_bytes} (input shape {list(ident.input_shape)})")
        body = self.request(p.Command.CLASSIFY, bytes(data))
        result = p.parse_classify(body, ident.num_classes)
        if self.cycle_source is not None:
            result = with_cycles(result, self.cycle_source.latest())
        return result

    def statistics(self) -> p.Statistics:
        return p.parse_statistics(self.request(p.Command.STATISTICS))

    def store_list(self, first: int = 0, count: int | None = None) -> list[p.StoredEntry]:
        """Stored samples' metadata from index first on (all of them by default)."""
        entries: list[p.StoredEntry] = []
        while count is None or len(entries) < count:
            want = 0xFFFF if count is None else min(0xFFFF, count - len(entries))
            page = p.parse_store_list(self.request(
                p.Command.STORE_LIST, p.store_list_request(first + len(entries), want)))
            if not page:
                break
            entries += page
        return entries

    def store_read(self, index: int) -> p.StoredSample:
        return p.parse_store_read(self.request(p.Command.STORE_READ,
                                               p.store_read_request(index)))

    def store_erase(self) -> None:
        self.request(p.Command.STORE_ERASE)

    def set_thresholds(self, lower: Sequence[float], upper: Sequence[float],
                       has_window: Sequence[bool], record_hash: int | None = None) -> int:
        """Replace the thresholds on the device (persisted). Returns their hash."""
        record = p.thresholds_record(lower, upper, has_window)
        return self.set_thresholds_record(record, len(lower), record_hash)

    def set_thresholds_record(self, record: bytes, classes: int,
                              record_hash: int | None = None) -> int:
        """SET_THRESHOLDS with the per-class record as it is (the export's encoding:
        drip_tiny.drip.kernel_codegen.thresholds_record). Returns the hash sent."""
        payload = p.set_thresholds_request(record, classes, record_hash)
        self.identity = None  # whatever happens, the thresholds may have changed
        self.request(p.Command.SET_THRESHOLDS, payload)
        return int.from_bytes(payload[2:6], "little")

    def reset_thresholds(self) -> None:
        self.request(p.Command.RESET_THRESHOLDS)
        self.identity = None

    def reset(self, wait: float = 5.0) -> p.Identity:
        """Reboot the device and wait until it answers IDENTIFY again."""
        self.request(p.Command.RESET)
        self.resync()
        self.identity = None
        deadline = time.monotonic() + wait
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                return self.identify()
            except (LinkError, DeviceError) as e:
                last = e
                time.sleep(0.05)
        raise LinkError(f"the device did not come back within {wait:g} s after RESET: {last}")


def with_cycles(result: p.Classification,
                counts: tuple[int, int, int] | None) -> p.Classification:
    """result with the emulator's (inference, drip, store) counts where the device sent
    none (CYCLES_EXTERNAL); counts None leaves them None."""
    if counts is None or result.cycles_inference is not None:
        return result
    infer, drip, store = counts
    if result.store_result is not p.StoreResult.STORED:
        store = 0  # as the spec says; the empty region costs a few branches
    return dataclasses.replace(result, cycles_inference=infer, cycles_drip=drip,
                               cycles_store=store)


def check_identity(ident: p.Identity, model_hash: int, thresholds_hash: int | None) -> None:
    """Refuse a device that runs another model (or other thresholds)."""
    if ident.model_hash != model_hash:
        raise LinkError(f"the device runs model {ident.model_hash:08x}, not this run's "
                        f"{model_hash:08x}: re-export the run and flash (or restart the "
                        "emulator with) the new image")
    if thresholds_hash is not None and ident.thresholds_hash != thresholds_hash:
        raise LinkError(f"the device uses thresholds {ident.thresholds_hash:08x}, not this "
                        f"run's {thresholds_hash:08x}: send the run's with `drip-tiny "
                        "send-thresholds RUN --port PORT` (the same model, so no reflash "
                        "needed), or re-export and flash")


def _port_gone(port: Port, doing: str, error: Exception) -> LinkError:
    """A serial device or pseudo-terminal that fails under a read or write has gone: a
    USB board reset or unplugged, the host board's process ended."""
    name = getattr(port, "port", None) or getattr(port, "name", None) or port
    return LinkError(f"{doing} {name}: {error}; the device went away (it reset, lost power "
                     "or was unplugged, or the emulator stopped)")


def _tcp_socket(port: Port) -> socket.socket | None:
    """The TCP socket behind a pyserial socket:// port; None for any other port (serial
    devices, pseudo-terminals, rfc2217://, wrappers such as the tests' fault injectors,
    whose reads must go through them)."""
    try:
        from serial.urlhandler.protocol_socket import Serial as SocketSerial
    except ImportError:
        return None
    if type(port) is not SocketSerial:
        return None
    sock = getattr(port, "_socket", None)  # pyserial has no public accessor
    if (isinstance(sock, socket.socket) and sock.type == socket.SOCK_STREAM
            and sock.family in (socket.AF_INET, socket.AF_INET6)):
        return sock
    return None
