"""The paper's protocol: selection rules (unit), and a small real experiment end to end."""

import csv
import json

import numpy as np
import pytest

from drip_tiny.cli import main
from drip_tiny.errors import ConfigError
from drip_tiny.experiment import ExperimentConfig
from drip_tiny.experiment.selection import priority, reservoir, select

LOGITS = np.array([[5.0, 0.0, 0.0],    # confident
                   [1.0, 0.9, 0.0],    # small margin
                   [0.1, 0.0, 0.05],   # nearly uniform: highest entropy, lowest logit
                   [3.0, 2.0, -1.0]])


def test_score_rules_keep_the_expected_samples():
    rng = np.random.default_rng(0)
    assert select("entropy", 1, LOGITS, rng).tolist() == [False, False, True, False]
    assert select("margin", 1, LOGITS, rng).tolist() == [False, False, True, False]
    assert select("margin", 2, LOGITS, rng).tolist() == [False, True, True, False]
    assert select("least_confidence", 2, LOGITS, rng).tolist() == [False, True, True, False]
    assert select("logit", 2, LOGITS, rng).tolist() == [False, True, True, False]
    assert np.argmax(priority("entropy", LOGITS)) == 2


@pytest.mark.parametrize("rule", ["random", "reservoir", "entropy", "margin",
                                  "least_confidence", "logit"])
def test_every_rule_keeps_exactly_the_budget(rule):
    logits = np.random.default_rng(1).normal(size=(200, 10))
    for budget in (0, 1, 57, 200):
        assert select(rule, budget, logits, np.random.default_rng(2)).sum() == budget


def test_reservoir_sampling_is_uniform_over_the_stream():
    counts = np.zeros(50)
    rng = np.random.default_rng(3)
    for _ in range(4000):
        counts[reservoir(50, 10, rng)] += 1
    # Each item is kept with probability 10/50: 800 of 4000 draws, binomial sd 25.
    assert np.all(np.abs(counts - 800) < 6 * 25)
    assert counts[:10].mean() == pytest.approx(800, rel=0.1)  # early items are not favoured


def test_config_errors_name_the_option():
    for kwargs, flag in (({"runs": 0}, "--runs"), ({"dpw": 0}, "--dpw"),
                         ({"rules": ("bogus",)}, "bogus"), ({"label_noise": (120,)}, "--label-noise"),
                         ({"retrain": "x"}, "--retrain")):
        with pytest.raises(ConfigError, match=flag):
            ExperimentConfig(**kwargs).validate()


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def small_experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "digits"
    args = ["experiment", "--dataset", "digits", "--runs", "2", "--epochs", "4",
            "--rules", "random,entropy", "--sweep-dpw", "50", "--label-noise", "0,50",
            "--jobs", "2", "--out", str(out), "--quiet"]
    assert main(args) == 0
    return out, args


def test_experiment_writes_results_tables_and_plots(small_experiment):
    out, _ = small_experiment
    for name in ("config.json", "results.csv", "sweep_dpw.csv", "label_noise.csv", "table.md",
                 "summary.json", "accuracy.png", "sweep_dpw.png", "label_noise.png"):
        assert (out / name).is_file(), name
    rows = _rows(out / "results.csv")
    models = {"baseline", "all_data", "drip", "random", "entropy"}
    assert {r["model"] for r in rows} == models and len(rows) == 2 * len(models)
    table = (out / "table.md").read_text()
    assert "| DRIP Acc. |" in table and "Storage Savings" in table and "## DPW sweep" in table


def test_each_run_is_consistent(small_experiment):
    out, _ = small_experiment
    runs = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("run_*.json"))]
    assert [r["seed"] for r in runs] == [0, 1]
    for r in runs:
        prod = r["sizes"]["production"]
        assert r["storage_savings"] == pytest.approx(1 - r["kept"] / prod)
        assert 0 < r["kept"] < prod
        for m in r["models"].values():
            assert 0 <= m["macro_f1"] <= 1 and 0 <= m["accuracy"] <= 1
        noise0, noise50 = r["label_noise"]
        # Same data, same seed: the 0% noise models are the all-data and DRIP models again.
        assert noise0["unfiltered"] == r["models"]["all_data"]
        assert noise0["drip"] == r["models"]["drip"]
        assert noise50["flipped"] == round(prod * 0.5)
        assert r["sweep_dpw"][0]["kept"] < r["kept"]  # DPW 50 discards more than DPW 25
        assert r["seconds_per_decision"] > 0
        assert len(r["retention_per_class"]["by_predicted"]) == 10


def test_an_interrupted_experiment_resumes(small_experiment):
    out, args = small_experiment
    keep = out / "runs" / "run_000.json"
    lost = out / "runs" / "run_001.json"
    before, lost_before = keep.read_text(), json.loads(lost.read_text())
    stamp = keep.stat().st_mtime_ns
    lost.unlink()
    assert main(args) == 0
    assert keep.stat().st_mtime_ns == stamp and keep.read_text() == before  # not rerun
    again = json.loads(lost.read_text())
    assert again["models"] == lost_before["models"]  # seeded: the rerun gives the same results


def test_other_settings_in_the_same_out_are_refused(small_experiment, capsys):
    _out, args = small_experiment
    changed = [a if a != "4" else "5" for a in args]
    assert main(changed) == 1
    assert "epochs" in capsys.readouterr().err
