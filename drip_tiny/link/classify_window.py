"""CLASSIFY requests pipelined: up to `window` in flight, so the link carries the next
samples while the device computes (docs/protocol.md, "Pipelining").

Why resending stays safe: the device keeps the replies of its last `replay_depth`
CLASSIFY requests (IDENTIFY reports it) and the window never exceeds that, so every
request still in flight is either unseen by the device or answered from its stored reply:
nothing runs twice. The device runs requests in the order it receives them and its replies
travel in that order, so a reply to a request sent after one still waiting means the
earlier request or its reply was lost: that one is resent at once. When no reply arrives
for `timeout` seconds (plus the time the requests in flight need to cross a slow link),
every request in flight is resent; a request sent `retries` times more without an answer
is a LinkError. Large requests shrink the window (MAX_BYTES_IN_FLIGHT): a link that a few
of them fill gains nothing from more, and a timeout would resend them all.

A STATISTICS request may travel in the pipeline too (send_statistics): the device answers
it in order, after every CLASSIFY sent before it, so its `classified` counter can be
checked without stopping the stream. It is never resent (running it later would count
more); a lost one is dropped and counted in `probes_lost`. Anything else waits until the
pipeline is drained.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from drip_tiny.errors import LinkError
from drip_tiny.link import protocol as p
from drip_tiny.link.client import Device, with_cycles

# Statuses that say the request arrived damaged: nothing ran, send it again.
DAMAGED = {p.Status.ERR_CRC, p.Status.ERR_LENGTH, p.Status.ERR_TOO_LONG}

# Large samples (a 16,000-byte audio clip) fill a slow link on their own: more than this
# many request bytes in flight only queue up, and after a timeout every one of them goes
# again, behind the copies still in transit. The window shrinks to fit (at least 1).
MAX_BYTES_IN_FLIGHT = 32 * 1024
# The silence that means "lost" grows with the bytes still to cross the link, at this
# slowest rate expected (QEMU's UART on a loaded machine; a real 1 Mbaud link is 100 KB/s).
SLOWEST_LINK_BYTES_PER_SECOND = 4096


def window_for(window: int, replay_depth: int, request_bytes: int) -> int:
    """Requests in flight: as asked, within the device's replay depth and, for large
    requests, within MAX_BYTES_IN_FLIGHT."""
    return max(1, min(window, replay_depth, MAX_BYTES_IN_FLIGHT // max(1, request_bytes)))


@dataclass
class _InFlight:
    index: int | None  # the caller's sample number; None for a STATISTICS probe
    wire: bytes
    sends: int = 1
    expected: int | None = None  # a probe's `classified` if every sample before it ran once


@dataclass(frozen=True)
class Answer:
    index: int | None  # the caller's number for the sample; None: a STATISTICS probe
    result: p.Classification | p.Statistics | None
    resent: bool  # the request went out more than once
    expected: int | None = None  # for a probe: as given to send_statistics


class ClassifyPipeline:
    """Send samples with send(index, data) while room() allows; take answers with
    next_answer(), in the order the device gives them."""

    def __init__(self, device: Device, window: int):
        ident = device.identity or device.identify()
        if window < 1:
            raise ValueError("window must be at least 1")
        self.device = device
        self.classes = ident.num_classes
        # Wire sizes of the replies, so a read can wait for a whole one (Device._read_some).
        self._classify_reply = p.reply_wire_bytes(p.classify_reply_payload(self.classes))
        self._probe_reply = p.reply_wire_bytes(p.STATISTICS_REPLY_PAYLOAD)
        request = len(p.frame(p.encode_packet(p.Command.CLASSIFY, 0,
                                              bytes(ident.input_bytes))))
        self.window = window_for(window, ident.replay_depth, request)
        # By sequence number, in the order of the latest transmission of each.
        self.in_flight: OrderedDict[int, _InFlight] = OrderedDict()
        self.peak_in_flight = 0  # the most CLASSIFY requests out at once (window reached?)
        self.retransmissions = 0
        self.probes_lost = 0
        self._last_progress = time.monotonic()
        # Cycles from an emulator come in execution order; after a resend that order is
        # no longer known until the pipeline drains (PluginCycles).
        self._cycles_in_order = True

    def room(self) -> bool:
        return len(self.in_flight) < self.window

    def empty(self) -> bool:
        return not self.in_flight

    def send(self, index: int, data: bytes) -> None:
        seq = self.device.next_sequence()
        wire = p.frame(p.encode_packet(p.Command.CLASSIFY, seq, bytes(data)))
        if not self.in_flight:
            self._last_progress = time.monotonic()
        self.in_flight[seq] = _InFlight(index, wire)
        self.peak_in_flight = max(self.peak_in_flight,
                                  sum(e.index is not None for e in self.in_flight.values()))
        self.device.send(wire, flush=False)

    def send_statistics(self, expected: int) -> None:
        """A STATISTICS probe behind the samples sent so far; `expected` comes back with
        its answer."""
        seq = self.device.next_sequence()
        wire = p.frame(p.encode_packet(p.Command.STATISTICS, seq))
        if not self.in_flight:
            self._last_progress = time.monotonic()
        self.in_flight[seq] = _InFlight(None, wire, expected=expected)
        self.device.send(wire, flush=False)

    def _resend(self, seq: int) -> None:
        entry = self.in_flight[seq]
        if entry.index is None:  # a probe is dropped, not resent
            del self.in_flight[seq]
            self.probes_lost += 1
            return
        if entry.sends > self.device.retries:
            raise LinkError(f"CLASSIFY of sample {entry.index}: no answer after "
                            f"{entry.sends} attempts ({len(self.in_flight)} requests in "
                            "flight); is the device running the drip-tiny firmware and "
                            "the port right?")
        entry.sends += 1
        self.retransmissions += 1
        self.device.retransmissions += 1
        self._cycles_in_order = False
        self.in_flight.move_to_end(seq)
        self.device.send(entry.wire, flush=False)

    def _patience(self) -> float:
        """Seconds of silence after which everything in flight is resent: the device's
        timeout, plus the time the requests in flight take to cross a slow link."""
        queued = sum(len(e.wire) for e in self.in_flight.values())
        return self.device.timeout + queued / SLOWEST_LINK_BYTES_PER_SECOND

    def resend_all(self) -> None:
        """After the device came back from silence (it may have rebooted, its stored
        replies gone): everything in flight again, with fresh attempt counts."""
        for entry in self.in_flight.values():
            entry.sends = 0
        for seq in list(self.in_flight):
            self._resend(seq)
        self._last_progress = time.monotonic()

    def next_answer(self) -> Answer:
        """The next answer; LinkError when the device stops answering; DeviceError for an
        error status other than a damaged request's. Answer(None, None, False) when the
        only requests left in flight were probes, now dropped."""
        if not self.in_flight:
            raise ValueError("no request in flight")
        while True:
            if not self.in_flight:
                return Answer(None, None, False)
            head = next(iter(self.in_flight.values()))  # replies come in sending order
            packet = self.device.next_packet(
                self._last_progress + self._patience(),
                expect=self._probe_reply if head.index is None else self._classify_reply)
            if packet is None:  # silence: everything in flight again
                for seq in list(self.in_flight):
                    self._resend(seq)
                self._last_progress = time.monotonic()
                continue
            seq = packet.sequence
            entry = self.in_flight.get(seq)
            command = p.Command.STATISTICS if entry and entry.index is None \
                else p.Command.CLASSIFY
            if entry is None or packet.command != command | p.REPLY_BIT:
                # A duplicate, an old reply, or ERR_TOO_LONG for frames merged by a lost
                # delimiter (sequence 0): the timeout resends whatever gets no answer.
                self.device.stale_replies += 1
                continue
            self._last_progress = time.monotonic()
            # Requests sent before this one and still waiting were lost on the way.
            for earlier in list(self.in_flight):
                if earlier == seq:
                    break
                self._resend(earlier)
            if packet.payload[:1] and packet.payload[0] in DAMAGED:
                self._resend(seq)
                continue
            if entry.index is None:
                del self.in_flight[seq]
                stats = p.parse_statistics(p.split_status(p.Command.STATISTICS, packet))
                return Answer(None, stats, False, entry.expected)
            entry = self.in_flight.pop(seq)
            result = p.parse_classify(p.split_status(p.Command.CLASSIFY, packet),
                                      self.classes)
            source = self.device.cycle_source
            if source is not None:
                if self._cycles_in_order:
                    result = with_cycles(result, source.next())
                if not self.in_flight:
                    source.discard()  # drained: what is left belongs to no request
                    self._cycles_in_order = True
            return Answer(entry.index, result, entry.sends > 1)
