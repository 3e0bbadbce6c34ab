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


def test_a_group_keeps_its_relative_offsets_and_may_overlap_inside():
    # y is written over x, 8 bytes below it (as a convolution over its dying input).
    x, y, z = Buffer("x", 32, 0, 1), Buffer("y", 64, 1, 2), Buffer("z", 16, 0, 2)
    result = plan([x, y, z], alignment=4, groups=[{"y": 0, "x": 8}])
    assert result.offsets["x"] - result.offsets["y"] == 8
    assert result.arena_bytes == 64 + 16  # not 32 + 64 + 16
    with pytest.raises(AssertionError, match="overlap"):
        check([x, y, z], result)  # without the group the overlap is an error


@pytest.mark.parametrize("seed", range(20))
def test_random_groups_never_overlap_outside_the_group(seed):
    rng = np.random.default_rng(seed)
    buffers = _random_buffers(rng, int(rng.integers(2, 30)))
    keys = [b.key for b in buffers]
    rng.shuffle(keys)
    groups, i = [], 0
    while i + 1 < len(keys) and rng.random() < 0.7:
        groups.append({keys[i]: 0, keys[i + 1]: 4 * int(rng.integers(0, 20))})
        i += 2
    result = plan(buffers, alignment=4, groups=groups)  # plan() runs check() itself
    in_group = {k: n for n, g in enumerate(groups) for k in g}
    for a in buffers:
        for b in buffers:
            if a.key < b.key and in_group.get(a.key, -1) != in_group.get(b.key, -2) \
                    and a.size and b.size and a.overlaps_in_time(b):
                oa, ob = result.offsets[a.key], result.offsets[b.key]
                assert oa + a.size <= ob or ob + b.size <= oa


def test_overlap_gap_of_a_convolution_and_of_elementwise_reads():
    from drip_tiny.codegen.overlap import min_gap, min_reads

    # Element-wise reads: the output can sit exactly on the input.
    assert min_gap(np.arange(10), 10) == 0
    # A 3x3 SAME convolution 4x4x1 -> 4x4x2: output element j is written after reading
    # input rows above; the gap keeps every later window intact.
    p = {"batches": 1, "input_h": 4, "input_w": 4, "input_c": 1, "filter_h": 3, "filter_w": 3,
         "output_h": 4, "output_w": 4, "output_c": 2, "stride_h": 1, "stride_w": 1,
         "dilation_h": 1, "dilation_w": 1, "pad_h": 1, "pad_w": 1}
    reads = min_reads("dt_conv2d_s8", p)
    gap = min_gap(reads, 16)
    for j in range(reads.size - 1):
        assert j - gap < reads[j + 1:].min()
    assert 0 < gap < 32
