"""Static memory plan for the activation arena: offsets for buffers with known lifetimes.

Pure Python, no model types: a buffer is a size and an inclusive lifetime [first, last] in
operator steps. Two buffers may share bytes only if their lifetimes do not intersect. An
operator's inputs and outputs are all alive at its step, so an output never lands on an
input unless the graph builder merged them on purpose (aliases, in-place ops).

The planner is greedy, like TFLM's GreedyMemoryPlanner: place buffers one by one at the
lowest offset where they overlap no placed buffer that is alive at the same time. Groups of
buffers with fixed relative offsets (an operator's output overlapping its own input, which
overlap.py proves safe) are placed as one unit. Instead of
one order it tries a few (largest first, longest-lived first, largest size x lifetime first,
earliest first) and keeps the smallest arena; the result is checked before it is returned.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # a buffer's key: whatever the caller finds it by


@dataclass(frozen=True)
class Buffer(Generic[K]):
    key: K  # whatever the caller uses to find its tensor again
    size: int
    first: int  # first step the buffer must hold its data (inclusive)
    last: int  # last step (inclusive)

    def overlaps_in_time(self, other: Buffer[K]) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Plan(Generic[K]):
    offsets: dict[K, int]  # key -> byte offset in the arena
    arena_bytes: int


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _place(units: list[dict[K, int]], by_key: dict[K, Buffer[K]],
           alignment: int) -> dict[K, int]:
    """First fit: each unit (buffers at fixed offsets relative to each other) goes to the
    lowest base where no member overlaps a placed buffer alive at the same time."""
    placed: list[tuple[int, int, Buffer[K]]] = []  # (offset, end, buffer)
    offsets: dict[K, int] = {}
    for unit in units:
        members = [(by_key[k], rel) for k, rel in unit.items()]
        candidates = {0}
        for _start, end, _ in placed:
            for _, rel in members:
                candidates.add(max(0, _align(end - rel, alignment)))
        for base in sorted(candidates):
            if all(not (start < base + rel + buf.size and base + rel < end)
                   or not buf.overlaps_in_time(other) or not buf.size
                   for buf, rel in members for start, end, other in placed):
                break
        for buf, rel in members:
            offsets[buf.key] = base + rel
            placed.append((base + rel, base + rel + buf.size, buf))
    return offsets


def _arena(buffers: list[Buffer[K]], offsets: dict[K, int], alignment: int) -> int:
    end = max((offsets[b.key] + b.size for b in buffers), default=0)
    return _align(end, alignment)


def plan(buffers: list[Buffer[K]], alignment: int = 4,
         groups: Sequence[Mapping[K, int]] = ()) -> Plan[K]:
    """Offsets (multiples of `alignment`) for every buffer, and the arena size.

    groups: dicts {key: relative offset} of buffers that must sit at fixed distances from
    each other (an output overlapping its own input, see overlap.py); relative offsets
    must be multiples of `alignment`. Members of one group may share bytes even while alive
    together: the caller has proven that safe.
    """
    if alignment < 1:
        raise ValueError("alignment must be >= 1")
    keys = [b.key for b in buffers]
    if len(set(keys)) != len(keys):
        raise ValueError("buffer keys must be unique")
    by_key = {b.key: b for b in buffers}
    for b in buffers:
        if b.size < 0 or b.first > b.last:
            raise ValueError(f"bad buffer {b}")
    units: list[dict[K, int]] = []
    grouped: set[K] = set()
    for g in groups:
        low = min(g.values())
        if any(k not in by_key or k in grouped for k in g) or any(
                (r - low) % alignment for r in g.values()):
            raise ValueError(f"bad group {g}")
        grouped.update(g)
        units.append({k: r - low for k, r in g.items()})
    units += [{b.key: 0} for b in buffers if b.key not in grouped]

    def extent(u: dict[K, int]) -> int:
        return max(r + by_key[k].size for k, r in u.items())

    def first(u: dict[K, int]) -> int:
        return min(by_key[k].first for k in u)

    def span(u: dict[K, int]) -> int:
        return max(by_key[k].last for k in u) - first(u) + 1

    orders = [
        sorted(units, key=lambda u: (-extent(u), first(u))),
        sorted(units, key=lambda u: (-span(u), -extent(u))),
        sorted(units, key=lambda u: (-extent(u) * span(u), first(u))),
        sorted(units, key=lambda u: (first(u), -extent(u))),
    ]
    best: Plan[K] | None = None
    for order in orders:
        offsets = _place(order, by_key, alignment)
        size = _arena(buffers, offsets, alignment)
        if best is None or size < best.arena_bytes:
            best = Plan(offsets=offsets, arena_bytes=size)
    assert best is not None
    check(buffers, best, groups)
    return best


def lower_bound(buffers: Sequence[Buffer[K]]) -> int:
    """The most bytes alive at any one step: no plan can use less."""
    steps = {s for b in buffers for s in (b.first, b.last)}
    return max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps),
               default=0)


def check(buffers: list[Buffer[K]], result: Plan[K],
          groups: Sequence[Mapping[K, int]] = ()) -> None:
    """Raise AssertionError if two buffers alive at the same step share a byte (members of
    one group excepted), or a group's relative offsets were not kept."""
    group_of = {k: i for i, g in enumerate(groups) for k in g}
    for g in groups:
        base = {result.offsets[k] - r for k, r in g.items()}
        if len(base) != 1:
            raise AssertionError(f"group {g} was not placed as a unit")
    items = sorted(buffers, key=lambda b: result.offsets[b.key])
    for i, a in enumerate(items):
        a0 = result.offsets[a.key]
        if a0 < 0 or a0 + a.size > result.arena_bytes:
            raise AssertionError(f"{a.key!r} lies outside the arena")
        for b in items[i + 1:]:
            b0 = result.offsets[b.key]
            if b0 >= a0 + a.size:
                break
            same_group = a.key in group_of and group_of[a.key] == group_of.get(b.key)
            if a.size and b.size and a.overlaps_in_time(b) and not same_group:
                raise AssertionError(f"{a.key!r} and {b.key!r} overlap")
