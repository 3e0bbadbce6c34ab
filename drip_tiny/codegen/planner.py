"""Static memory plan for the activation arena: offsets for buffers with known lifetimes.

Pure Python, no model types: a buffer is a size and an inclusive lifetime [first, last] in
operator steps. Two buffers may share bytes only if their lifetimes do not intersect. An
operator's inputs and outputs are all alive at its step, so an output never lands on an
input unless the graph builder merged them on purpose (aliases, in-place ops).

The planner is greedy, like TFLM's GreedyMemoryPlanner: place buffers one by one at the
lowest offset where they overlap no placed buffer that is alive at the same time. Instead of
one order it tries a few (largest first, longest-lived first, largest size x lifetime first,
earliest first) and keeps the smallest arena; the result is checked before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    key: object  # whatever the caller uses to find its tensor again
    size: int
    first: int  # first step the buffer must hold its data (inclusive)
    last: int  # last step (inclusive)

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Plan:
    offsets: dict  # key -> byte offset in the arena
    arena_bytes: int


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _place(order: list[Buffer], alignment: int) -> dict:
    placed: list[tuple[int, int, Buffer]] = []  # (offset, end, buffer)
    offsets = {}
    for buf in order:
        busy = sorted((o, e) for o, e, b in placed if b.overlaps_in_time(buf))
        offset = 0
        for start, end in busy:
            if offset + buf.size <= start:
                break
            offset = max(offset, _align(end, alignment))
        offsets[buf.key] = offset
        placed.append((offset, offset + buf.size, buf))
    return offsets


def _arena(buffers: list[Buffer], offsets: dict, alignment: int) -> int:
    end = max((offsets[b.key] + b.size for b in buffers), default=0)
    return _align(end, alignment)


def plan(buffers: list[Buffer], alignment: int = 4) -> Plan:
    """Offsets (multiples of `alignment`) for every buffer, and the arena size."""
    if alignment < 1:
        raise ValueError("alignment must be >= 1")
    keys = [b.key for b in buffers]
    if len(set(keys)) != len(keys):
        raise ValueError("buffer keys must be unique")
    for b in buffers:
        if b.size < 0 or b.first > b.last:
            raise ValueError(f"bad buffer {b}")
    orders = [
        sorted(buffers, key=lambda b: (-b.size, b.first)),
        sorted(buffers, key=lambda b: (-(b.last - b.first), -b.size)),
        sorted(buffers, key=lambda b: (-b.size * (b.last - b.first + 1), b.first)),
        sorted(buffers, key=lambda b: (b.first, -b.size)),
    ]
    best = None
    for order in orders:
        offsets = _place(order, alignment)
        size = _arena(buffers, offsets, alignment)
        if best is None or size < best.arena_bytes:
            best = Plan(offsets=offsets, arena_bytes=size)
    assert best is not None
    check(buffers, best)
    return best


def lower_bound(buffers: list[Buffer]) -> int:
    """The most bytes alive at any one step: no plan can use less."""
    steps = {s for b in buffers for s in (b.first, b.last)}
    return max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps),
               default=0)


def check(buffers: list[Buffer], result: Plan) -> None:
    """Raise AssertionError if two buffers alive at the same step share a byte."""
    items = sorted(buffers, key=lambda b: result.offsets[b.key])
    for i, a in enumerate(items):
        a0 = result.offsets[a.key]
        if a0 < 0 or a0 + a.size > result.arena_bytes:
            raise AssertionError(f"{a.key!r} lies outside the arena")
        for b in items[i + 1:]:
            b0 = result.offsets[b.key]
            if b0 >= a0 + a.size:
                break
            if a.size and b.size and a.overlaps_in_time(b):
                raise AssertionError(f"{a.key!r} and {b.key!r} overlap")
