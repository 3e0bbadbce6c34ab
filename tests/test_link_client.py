"""The Device client's stop-and-wait logic against a scripted fake port: resends with the
same sequence number, skips stale replies and line noise, gives up with a clear error.
The real firmware is exercised in tests/test_firmware_*.py and tests/test_emulated_*.py."""

import struct
import time

import pytest

from drip_tiny.emulator.launch import PluginCycles
from drip_tiny.errors import DeviceError, LinkError
from drip_tiny.link import client
from drip_tiny.link import protocol as p
from drip_tiny.link.client import Device


class FakePort:
    """Answers STATISTICS requests; `drop` lists request numbers whose reply is lost,
    `noise` bytes go out before each reply, `stale` sends an old reply first."""

    def __init__(self, drop=(), noise=b"", stale=False, status=0):
        self.drop = set(drop)
        self.noise = noise
        self.stale = stale
        self.status = status
        self.requests = []
        self.out = bytearray()
        self.reader = p.FrameReader()
        self.timeout = 0.01

    def write(self, data):
        for raw in self.reader.feed(bytes(data)):
            packet = p.decode_packet(p.cobs_decode(raw))
            self.requests.append(packet)
            if len(self.requests) in self.drop:
                continue
            body = bytes([self.status]) + (struct.pack("<9I", *range(9)) if not self.status
                                           else b"store broken")
            if self.stale:
                self.out += p.frame(p.encode_packet(packet.command | 0x80,
                                                    packet.sequence - 1, body))
            self.out += self.noise + p.frame(p.encode_packet(packet.command | 0x80,
                                                             packet.sequence, body))
        return len(data)

    def read(self, n=1):
        chunk = bytes(self.out[:n])
        del self.out[:n]
        return chunk

    def close(self):
        pass


def test_lost_reply_is_resent_with_the_same_sequence_number():
    port = FakePort(drop={1})
    device = Device(port, timeout=0.05, retries=2)
    stats = device.statistics()
    assert stats.kept == 1 and stats.unknown_commands == 7
    assert [r.sequence for r in port.requests] == [1, 1]
    assert device.retransmissions == 1
    device.statistics()
    assert port.requests[-1].sequence == 2


def test_noise_and_stale_replies_are_skipped():
    port = FakePort(noise=b"\x13\x37garbage\x00\x00", stale=True)
    device = Device(port, timeout=0.2)
    assert device.statistics().classified == 0
    assert device.retransmissions == 0 and device.stale_replies == 1


def test_silent_device_gives_a_clear_error():
    port = FakePort(drop=set(range(1, 10)))
    device = Device(port, timeout=0.02, retries=2)
    with pytest.raises(LinkError, match="STATISTICS: no answer after 3 attempts"):
        device.statistics()
    assert len(port.requests) == 3


def test_error_status_raises_device_error():
    device = Device(FakePort(status=p.Status.ERR_STORE), timeout=0.2)
    with pytest.raises(DeviceError, match=r"ERR_STORE.*store broken"):
        device.statistics()


def test_plugin_cycles_subtract_the_boot_calibration(tmp_path):
    out = tmp_path / "cycles.txt"
    cycles = PluginCycles(out)
    assert cycles.latest() is None  # no file yet
    out.write_text("boot\nregion 0 12\nregion 1 1012\nregion 2 512\nregion 3 212\n")
    assert cycles.latest() == (1000, 500, 200)
    assert cycles.latest() is None  # taken: a replayed reply ran nothing
    with open(out, "a") as f:  # a CLASSIFY, then half of the next one
        f.write("region 4 112\nregion 5 62\nregion 6 12\nregion 7 3")
    assert cycles.next() == (100, 50, 0)
    assert cycles.next() is None
    with open(out, "a") as f:
        f.write("12\nregion 8 12\nregion 9 12\n")
    assert cycles.next() == (300, 0, 0)
    cycles.close()


def test_plugin_cycles_queue_runs_in_order_and_a_boot_drops_the_unanswered(tmp_path):
    out = tmp_path / "cycles.txt"
    cycles = PluginCycles(out)
    out.write_text("boot\nregion 0 12\n" + "".join(
        f"region {1 + 3 * k} {112 + k}\nregion {2 + 3 * k} 62\nregion {3 + 3 * k} 12\n"
        for k in range(3)))
    assert [cycles.next()[0] for _ in range(2)] == [100, 101]
    with open(out, "a") as f:  # rebooted before the third reply went out
        f.write("region 10 50\nboot\nregion 11 10\nregion 12 110\nregion 13 60\n"
                "region 14 10\n")
    assert cycles.next() == (100, 50, 0)
    assert cycles.overhead == 10 and cycles.boots == 2
    assert cycles.next() is None
    with open(out, "a") as f:
        f.write("region 15 20\nregion 16 20\nregion 17 20\n")
    cycles.discard()
    assert cycles.next() is None
    cycles.close()

class TrickleServer:
    """A TCP device that answers every request with `reply_payload`, one byte per segment
    with `gap` seconds between them, the way QEMU's UART sends; close_after stops after
    that many replies and closes the connection."""

    def __init__(self, reply_payload: bytes, gap: float = 50e-6, close_after=None,
                 reset: bool = False):
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.reply_payload, self.gap, self.close_after = reply_payload, gap, close_after
        self.reset = reset  # close with a TCP reset (SO_LINGER 0) instead of an orderly end
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import select
        import socket
        import time

        with self.listener:  # one connection: stop listening once it is made
            conn, _ = self.listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, replies = p.FrameReader(), 0
        with conn:
            while self.close_after is None or replies < self.close_after:
                data = conn.recv(4096)
                if not data:
                    return
                for raw in reader.feed(data):
                    request = p.decode_packet(p.cobs_decode(raw))
                    wire = p.frame(p.encode_packet(request.command | p.REPLY_BIT,
                                                   request.sequence, self.reply_payload))
                    for byte in wire:
                        conn.sendall(bytes([byte]))
                        time.sleep(self.gap)
                    replies += 1
            if self.reset:
                # Reset only once the next request has arrived, unread: a reset that
                # overtook the last reply would make the kernel drop the reply too.
                select.select([conn], [], [], 10.0)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def device(self, **kwargs) -> Device:
        import serial

        return Device(serial.serial_for_url(f"socket://127.0.0.1:{self.port}", timeout=0.05),
                      **kwargs)


def _counting_reads(device):
    calls = []
    read_some = device._read_some

    def counted(remaining, want=1):
        data = read_some(remaining, want)
        calls.append(len(data))
        return data

    device._read_some = counted
    return calls


def test_a_tcp_reply_that_trickles_in_is_read_whole_in_few_wakeups():
    body = bytes([p.Status.OK]) + struct.pack("<9I", *range(9))
    server = TrickleServer(body)
    with server.device(timeout=2.0) as device:
        reads = _counting_reads(device)
        start = time.monotonic()
        device.send(p.frame(p.encode_packet(p.Command.STATISTICS, device.next_sequence())))
        expect = p.reply_wire_bytes(p.STATISTICS_REPLY_PAYLOAD)
        packet = device.next_packet(time.monotonic() + 2.0, expect=expect)
        elapsed = time.monotonic() - start
        assert packet is not None and packet.payload == body
        # 49 segments; waking on each would be 49 reads. A reply slower than the patience
        # is taken in parts, one per WHOLE_REPLY_PATIENCE: on a loaded machine the server's
        # 50 us sleeps can take milliseconds, so the bound allows for that.
        assert len(reads) < 10 + elapsed / client.WHOLE_REPLY_PATIENCE, (reads, elapsed)
        assert device.bytes_read == expect and device.bytes_read == sum(reads)
        assert device.bytes_written == 1 + len(p.frame(p.encode_packet(
            p.Command.STATISTICS, 1)))  # the first request goes after a lone 0x00

        # Without an expected size (stop-and-wait commands), it reads what comes.
        reads.clear()
        assert device.statistics().unknown_commands == 7
        assert len(reads) > 1


def test_a_tcp_reply_shorter_than_expected_is_not_held_back():
    body = bytes([p.Status.ERR_SAMPLE_SIZE]) + b"short"
    server = TrickleServer(body, gap=0)
    with server.device(timeout=2.0) as device:
        device.send(p.frame(p.encode_packet(p.Command.CLASSIFY, device.next_sequence())))
        start = time.monotonic()
        packet = device.next_packet(start + 2.0, expect=p.reply_wire_bytes(200))
        assert packet is not None and packet.payload == body
        assert time.monotonic() - start < 1.0  # the patience is 5 ms, not the timeout


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_a_closed_tcp_connection_is_a_link_error(reset):
    """An orderly close or a reset (what a peer that closes with a request unread sends,
    depending on timing) is a LinkError that says the other end is gone, not a traceback
    or a bare errno."""
    server = TrickleServer(bytes([p.Status.OK]) + bytes(36), gap=0, close_after=1,
                           reset=reset)
    with server.device(timeout=2.0, retries=0) as device:
        device.statistics()
        if not reset:
            server.thread.join(timeout=10)  # closed before the next request
        # The next request's write or its read finds the end, whichever comes first (the
        # reset comes once that request has reached the server, unread).
        with pytest.raises(LinkError, match=r"connection was closed|the device went away"):
            device.statistics()
        server.thread.join(timeout=10)


def test_large_samples_shrink_the_window_to_what_the_link_holds():
    """Eight 16,000-byte clips in flight only queue behind each other on a 35 KB/s link,
    and a timeout would resend them all behind the copies still in transit (a loaded CI
    machine did exactly that): the window keeps at most MAX_BYTES_IN_FLIGHT out."""
    from drip_tiny.link.classify_window import MAX_BYTES_IN_FLIGHT, window_for

    clip = len(p.frame(p.encode_packet(p.Command.CLASSIFY, 1, bytes(16000))))
    digits = len(p.frame(p.encode_packet(p.Command.CLASSIFY, 1, bytes(64))))
    assert window_for(8, 8, digits) == 8  # small samples: the window as asked
    assert window_for(8, 4, digits) == 4  # never beyond the device's replay depth
    assert window_for(8, 8, clip) == 2 == MAX_BYTES_IN_FLIGHT // clip
    assert window_for(8, 8, 40000) == 1  # one sample larger than the cap: stop-and-wait
    assert window_for(1, 8, digits) == 1
