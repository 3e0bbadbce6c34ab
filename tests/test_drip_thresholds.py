"""The DPW window fit and the keep/drop rule, on handmade score lists with known answers."""

import json

import numpy as np
import pytest

from drip_tiny.drip.thresholds import (
    MIN_WINDOW,
    Thresholds,
    check_dpw,
    fit_thresholds,
    fit_window,
    window_size,
)
from drip_tiny.errors import ConfigError, RunDirError


def test_window_size_rounds_half_up_exactly():
    assert window_size(40, 25) == 10
    assert window_size(30, 25) == 8  # 7.5 -> 8 (half up, not banker's 8 by luck)
    assert window_size(26, 25) == 7  # 6.5 -> 7 (numpy's round would give 6)
    assert window_size(10, 15) == 2  # 1.5 -> 2
    assert window_size(9, 15) == 1  # 1.35 -> 1
    assert window_size(3, 10) == 0
    assert window_size(1000, 0.1) == 1  # 0.1 is not exact in binary; the Fraction is
    assert window_size(7, 100) == 7


def test_known_answer_tight_cluster():
    # 12 scores, DPW 25 -> window of 3. The tight cluster 0.50, 0.51, 0.52 wins.
    scores = [0.1, 0.9, 0.52, 0.3, 0.5, 0.7, 0.51, 0.2, 0.95, 0.4, 0.6, 0.8]
    w = fit_window(np.array(scores), 25)
    assert (w.size, w.lower, w.upper) == (3, 0.5, 0.52)
    assert w.start == 4  # position in the sorted list
    assert w.std == pytest.approx(np.std([0.5, 0.51, 0.52]))


def test_window_is_the_minimal_std_of_all_positions():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=57)
    w = fit_window(scores, 20)
    s = np.sort(scores)
    size = window_size(57, 20)
    stds = [np.std(s[i:i + size]) for i in range(57 - size + 1)]
    assert w.start == int(np.argmin(stds)) and w.size == size
    assert w.lower == s[w.start] and w.upper == s[w.start + size - 1]


def test_ties_pick_the_first_window():
    # Two equally tight pairs: [1, 1] and [5, 5]: the lower-scoring one wins.
    w = fit_window(np.array([5.0, 1.0, 9.0, 1.0, 5.0, 3.0, 7.0, 11.0]), 25)
    assert (w.lower, w.upper, w.start) == (1.0, 1.0, 0)


def test_ddof_does_not_change_the_choice():
    rng = np.random.default_rng(7)
    s = np.sort(rng.exponential(size=40))
    size = window_size(40, 25)
    windows = np.lib.stride_tricks.sliding_window_view(s, size)
    assert np.argmin(windows.std(axis=1, ddof=0)) == np.argmin(windows.std(axis=1, ddof=1))


def test_tiny_classes_get_no_window_and_keep_everything():
    drips = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.5, 0.55])
    classes = np.array([0] * 10 + [1] * 2)  # class 1: 2 * 25% = 0.5 -> window 1 < MIN_WINDOW
    t = fit_thresholds(drips, classes, ["a", "b", "c"], 25, variant="minmax", path="int8",
                       group_by="true")
    a, b, c = t.classes
    assert a.window == 3 and a.lower is not None  # 2.5 rounds half up
    assert (b.count, b.window, b.lower, b.upper) == (2, 0, None, None)
    assert (c.count, c.window, c.lower) == (0, 0, None)  # a class never seen
    keep = t.decide(np.array([1, 1, 2]), np.array([0.5, 0.55, 0.0]))
    assert keep.tolist() == [True, True, True]
    assert MIN_WINDOW == 2


def test_decision_is_inclusive_at_both_limits():
    drips = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 10.0])
    t = fit_thresholds(drips, np.zeros(8, int), ["only"], 50, variant="raw", path="int8",
                       group_by="predicted")
    cls = t.classes[0]
    assert (cls.lower, cls.upper) == (2.0, 2.0)
    assert cls.validation_discarded == 4  # ties inside the window all count
    keep = t.decide(np.zeros(5, int), np.array([2.0, 1.999, 2.001, 0.0, 2.0]))
    assert keep.tolist() == [False, True, True, True, False]


def test_ties_at_the_window_edge_discard_more_than_dpw():
    # Ten identical scores: the window (25% = 3 of 12) is [1, 1], and all ten are inside.
    drips = np.array([1.0] * 10 + [0.0, 5.0])
    t = fit_thresholds(drips, np.zeros(12, int), ["x"], 25, variant="max", path="int8",
                       group_by="predicted")
    assert t.classes[0].validation_discarded == 10


def test_json_round_trip_and_schema(tmp_path):
    t = fit_thresholds(np.linspace(0, 1, 40), np.repeat([0, 1], 20), ["cat", "dog"], 25,
                       variant="minmax", path="float", group_by="true", model_sha256="ab" * 32)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(t.to_json()))
    back = Thresholds.load(path)
    assert back == t
    data = json.loads(path.read_text())
    assert set(data) >= {"variant", "dpw", "path", "classes", "group_by", "format_version"}
    assert set(data["classes"][0]) >= {"lower", "upper", "count"}


def test_bad_dpw_and_bad_files_are_clear_errors(tmp_path):
    for bad in (0, -5, 100.5):
        with pytest.raises(ConfigError, match="--dpw"):
            check_dpw(bad)
    with pytest.raises(RunDirError, match="drip-tiny fit"):
        Thresholds.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RunDirError, match="not valid JSON"):
        Thresholds.load(tmp_path / "bad.json")
    t = fit_thresholds(np.linspace(0, 1, 8), np.zeros(8, int), ["a"], 25, variant="raw",
                       path="int8", group_by="true")
    with pytest.raises(ConfigError, match="classes"):
        t.decide(np.array([3]), np.array([0.5]))
