"""Talks to the host firmware over --stdio pipes, for the tests. Framing is the link's
(drip_tiny.link.protocol); packets are built here with zlib's CRC-32 so the tests can
also send wrong versions and length fields."""

from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import zlib
from dataclasses import dataclass

from drip_tiny.link.protocol import cobs_decode, cobs_encode, frame  # noqa: F401 (re-exported)

HEADER = struct.Struct("<BBHH")


def packet(command: int, sequence: int, payload: bytes = b"", version: int = 1,
           length: int | None = None) -> bytes:
    head = HEADER.pack(version, command, sequence,
                       len(payload) if length is None else length) + payload
    return head + struct.pack("<I", zlib.crc32(head))


@dataclass
class Reply:
    version: int
    command: int
    sequence: int
    payload: bytes
    raw: bytes  # the decoded packet

    @property
    def status(self) -> int:
        return self.payload[0]

    @property
    def body(self) -> bytes:
        return self.payload[1:]

    @property
    def message(self) -> str:
        return self.payload[1:].decode()


def parse_reply(raw: bytes) -> Reply:
    assert len(raw) >= 11, raw.hex()
    version, command, sequence, length = HEADER.unpack_from(raw)
    assert len(raw) == 10 + length, raw.hex()
    assert struct.unpack_from("<I", raw, len(raw) - 4)[0] == zlib.crc32(raw[:-4])
    return Reply(version, command, sequence, raw[6:-4], raw)


class Device:
    """One firmware process; requests are stop-and-wait with increasing sequence numbers."""

    def __init__(self, exe, flash, timeout: float = 20.0):
        self.proc = subprocess.Popen([str(exe), "--stdio", "--flash", str(flash)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.timeout = timeout
        self.pending = bytearray()
        self.sequence = 0
        self.send(b"\x00")  # ends any partial frame, as the host client does

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_frame(self) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\x00" not in self.pending:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            assert ready, "the firmware did not answer in time"
            chunk = os.read(fd, 65536)
            assert chunk, f"the firmware closed its output: {self.stderr_text()}"
            self.pending += chunk
        end = self.pending.index(0)
        encoded = bytes(self.pending[:end])
        del self.pending[:end + 1]
        return encoded

    def read_reply(self) -> Reply:
        encoded = self.read_frame()
        assert encoded, "an empty frame from the device"
        return parse_reply(cobs_decode(encoded))

    def no_reply(self, wait: float = 0.3) -> bool:
        ready, _, _ = select.select([self.proc.stdout.fileno()], [], [], wait)
        return not ready and not self.pending

    def request(self, command: int, payload: bytes = b"", sequence: int | None = None) -> Reply:
        if sequence is None:
            self.sequence = (self.sequence + 1) & 0xFFFF
            sequence = self.sequence
        self.send(frame(packet(command, sequence, payload)))
        reply = self.read_reply()
        assert reply.version == 1 and reply.sequence == sequence
        assert reply.command == command | 0x80
        return reply

    def ok(self, command: int, payload: bytes = b"") -> bytes:
        reply = self.request(command, payload)
        assert reply.status == 0, f"status {reply.status}: {reply.message}"
        return reply.body

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        """End of input: the firmware exits 0 without a word on stderr (sanitizers quiet)."""
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert err == "", err

    def kill(self) -> None:
        """A power cut, as far as a process can have one."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()
