"""The arena planner on its own: no two buffers alive at the same step share a byte."""

import numpy as np
import pytest

from drip_tiny.codegen.planner import Buffer, Plan, check, lower_bound, plan


def _random_buffers(rng, count):
    buffers = []
    for i in range(count):
        first = int(rng.integers(0, 20))
        buffers.append(Buffer(key=i, size=int(rng.integers(0, 300)), first=first,
                              last=first + int(rng.integers(0, 6))))
    return buffers


@pytest.mark.parametrize("seed", range(40))
def test_random_lifetimes_never_overlap(seed):
    rng = np.random.default_rng(seed)
    buffers = _random_buffers(rng, int(rng.integers(1, 40)))
    alignment = int(rng.choice([1, 4, 16]))
    result = plan(buffers, alignment=alignment)
    # Brute force, independent of check(): byte ranges of time-overlapping buffers are disjoint.
    for a in buffers:
        assert result.offsets[a.key] % alignment == 0
        assert result.offsets[a.key] + a.size <= result.arena_bytes
        for b in buffers:
            if a.key < b.key and a.size and b.size and a.first <= b.last and b.first <= a.last:
                ra = range(result.offsets[a.key], result.offsets[a.key] + a.size)
                rb = range(result.offsets[b.key], result.offsets[b.key] + b.size)
                assert not set(ra) & set(rb), (a, b)
    assert result.arena_bytes >= lower_bound(buffers)
    assert result.arena_bytes % alignment == 0


def test_a_chain_reuses_memory_and_reaches_the_lower_bound():
    # x0 -> x1 -> x2 -> x3: only neighbours are alive together.
    buffers = [Buffer(i, size, i, i + 1) for i, size in enumerate((100, 200, 100, 50))]
    result = plan(buffers)
    assert result.arena_bytes == lower_bound(buffers) == 300


def test_buffers_alive_together_are_stacked():
    buffers = [Buffer("a", 10, 0, 5), Buffer("b", 10, 2, 3), Buffer("c", 10, 3, 9)]
    result = plan(buffers, alignment=1)
    assert result.arena_bytes == 30


def test_check_rejects_an_overlap():
    buffers = [Buffer("a", 8, 0, 1), Buffer("b", 8, 1, 2)]
    with pytest.raises(AssertionError, match="overlap"):
        check(buffers, Plan(offsets={"a": 0, "b": 4}, arena_bytes=12))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unique"):
        plan([Buffer("a", 1, 0, 0), Buffer("a", 1, 0, 0)])
    with pytest.raises(ValueError, match="bad buffer"):
        plan([Buffer("a", 1, 3, 2)])
    assert plan([]).arena_bytes == 0
