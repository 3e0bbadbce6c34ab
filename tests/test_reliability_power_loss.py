"""Power loss at the application level (issue 9): the host firmware (ASan + UBSan, small
store, overwrite-oldest) cut at flash operation N of a workload that appends, fills, wraps
and erases, then restarted on the same flash file (tests/power_loss.py says what is
checked). CI runs every 7th cut point in the three cut modes; scripts/power-loss-sweep.py
runs them all (docs/reliability.md has its numbers)."""

import power_loss as pl
import pytest
from firmware_build import fitted_copy

from drip_tiny.export.store_capacity import samples_that_fit

SLICE = 7


@pytest.fixture(scope="module")
def setup(digits_ptq_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("power")
    run = fitted_copy(digits_ptq_run, base / "run")
    return pl.build(run, base / "build"), pl.production_samples(run), base


def test_cut_at_zero_counts_and_a_cut_exits_like_an_unplugged_board(setup, tmp_path):
    exe, samples, _ = setup
    steps = pl.workload(samples)
    ref = pl.reference_run(exe, tmp_path / "ref.bin", steps)
    # Every CLASSIFY writes at least its sample (64 bytes = 16 words) and the workload
    # wraps a 4-page store: the count is of that order, not zero or absurd.
    classifies = sum(1 for c, _ in steps if c == pl.CLASSIFY)
    assert 16 * classifies < ref.operations < 100 * classifies
    # Full: 4 pages of 228 bytes hold 10 records of 88 bytes (some span a page boundary).
    assert max(len(p) for p in ref.present_after) == samples_that_fit(256, 4, 64) == 10
    fw = pl.Firmware(exe, tmp_path / "cut.bin", cut="3,low")
    with pytest.raises(pl.PowerCut, match="power cut at flash operation 3"):
        fw.ok(pl.SET_THRESHOLDS, pl.keep_all_thresholds())
        fw.ok(pl.CLASSIFY, samples[0].tobytes())
    fw.kill()


def test_every_seventh_cut_point_loses_nothing_acknowledged(setup):
    exe, samples, base = setup
    steps = pl.workload(samples)
    ref = pl.reference_run(exe, base / "ref.bin", steps)
    points = [*range(1, ref.operations + 1, SLICE), ref.operations + 1]  # last: no cut
    _, outcomes, _ = pl.sweep(exe, base / "sweep", samples, points=points)
    assert len(outcomes) == 3 * len(points)
    bad = [o for o in outcomes if o.lost or o.corrupt or not o.works_after]
    assert bad == []
    # The slice did cut in the middle of every kind of step and had samples to protect.
    died = {o.died_at_step for o in outcomes}
    kinds = {steps[d][0] for d in died if d is not None}
    assert kinds == {pl.SET_THRESHOLDS, pl.CLASSIFY, pl.STORE_ERASE}
    assert sum(o.guaranteed for o in outcomes) > 500
    assert None in died  # the last point is past the workload: it ran to the end


def test_torn_cuts_leave_half_a_word_in_the_flash_file(setup, tmp_path):
    """The three modes at the same program operation leave files that differ in one word:
    clean leaves it erased, low and high program one half each."""
    exe, samples, _ = setup
    steps = pl.workload(samples)
    images = {}
    for mode in pl.MODES:
        flash = tmp_path / f"{mode}.bin"
        fw = pl.Firmware(exe, flash, cut=f"200,{mode}")
        with pytest.raises(pl.PowerCut):
            for command, payload in steps:
                fw.ok(command, payload)
        fw.kill()
        images[mode] = flash.read_bytes()
    clean = images["clean"]
    diffs = {m: [i for i in range(len(clean)) if images[m][i] != clean[i]] for m in ("low", "high")}
    for mode, where in diffs.items():
        assert where and where[-1] - where[0] < 2, (mode, where)  # within one half-word
        word = where[0] & ~3
        assert clean[word:word + 4] == b"\xff" * 4
        half = slice(word, word + 2) if mode == "low" else slice(word + 2, word + 4)
        assert images[mode][half] != b"\xff\xff"
    assert diffs["low"][0] & ~3 == diffs["high"][0] & ~3  # the same word


@pytest.fixture(scope="module")
def spanning(digits_ptq_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("power-span")
    run = fitted_copy(digits_ptq_run, base / "run")
    return pl.build(run, base / "build", store="spanning"), pl.production_samples(run), base


def test_samples_spanning_pages_lose_nothing_acknowledged(spanning):
    """The same workload with every sample spread over three 64-byte pages (store format 2,
    docs/storage-format.md): a cut at every 11th flash operation in the three modes."""
    exe, samples, base = spanning
    steps = pl.workload(samples)
    ref = pl.reference_run(exe, base / "ref.bin", steps)
    # 12 pages, three per sample: full at 4.
    assert max(len(p) for p in ref.present_after) == samples_that_fit(64, 12, 64) == 4
    points = [*range(1, ref.operations + 1, 11), ref.operations + 1]
    _, outcomes, _ = pl.sweep(exe, base / "sweep", samples, points=points)
    bad = [o for o in outcomes if o.lost or o.corrupt or not o.works_after]
    assert bad == []
    died = {o.died_at_step for o in outcomes}
    assert {steps[d][0] for d in died if d is not None} == {pl.SET_THRESHOLDS, pl.CLASSIFY,
                                                             pl.STORE_ERASE}
    assert sum(o.guaranteed for o in outcomes) > 300
    assert None in {o.died_at_step for o in outcomes}  # the last point: it ran to the end
