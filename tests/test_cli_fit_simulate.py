"""`drip-tiny fit` and `drip-tiny simulate` on real runs: files, consistency, errors."""

import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from drip_tiny.cli import main
from drip_tiny.drip.thresholds import Thresholds, fit_window
from drip_tiny.run.directory import load_split


@pytest.fixture(scope="module")
def fitted_run(digits_ptq_run, tmp_path_factory):
    run = tmp_path_factory.mktemp("fit") / "run"
    shutil.copytree(digits_ptq_run, run)
    assert main(["fit", str(run), "--dpw", "25", "--quiet"]) == 0
    return run


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_fit_writes_thresholds_scores_and_plot(fitted_run):
    t = Thresholds.load(fitted_run / "thresholds.json")
    assert (t.variant, t.dpw, t.path, t.group_by) == ("minmax", 25.0, "int8", "predicted")
    rows = _csv(fitted_run / "validation_scores.csv")
    _, y_val = load_split(fitted_run, "validation")
    assert len(rows) == len(y_val)
    assert [int(r["true_class"]) for r in rows] == y_val.tolist()
    assert sum(c.count for c in t.classes) == len(rows)
    with Image.open(fitted_run / "thresholds.png") as png:
        assert png.format == "PNG" and png.size[0] > 600
    # The thresholds are exactly what the window rule gives on the written scores.
    drips = np.array([float(r["drips"]) for r in rows])
    predicted = np.array([int(r["predicted_class"]) for r in rows])
    windows = 0
    for c in t.classes:
        mine = drips[predicted == c.label]
        w = fit_window(mine, 25)
        if w is None:  # a class the briefly trained model rarely predicts
            assert c.lower is None and c.count == len(mine)
            continue
        windows += 1
        assert (c.lower, c.upper) == (w.lower, w.upper)
        inside = np.sum((mine >= c.lower) & (mine <= c.upper))
        assert c.validation_discarded == inside >= c.window
    assert windows >= 8


def test_simulate_summary_agrees_with_its_samples(fitted_run, tmp_path, capsys):
    out = tmp_path / "sim.json"
    assert main(["simulate", str(fitted_run), "--json", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    s, samples = result["summary"], result["samples"]
    _, y_prod = load_split(fitted_run, "production")
    assert s["samples"] == len(samples) == len(y_prod)
    keep = np.array([x["keep"] for x in samples])
    correct = np.array([x["predicted_class"] == x["true_class"] for x in samples])
    assert s["kept"] == keep.sum() and s["discarded"] == (~keep).sum()
    assert s["storage_savings"] == pytest.approx((~keep).mean())
    assert s["accuracy_kept"] == pytest.approx(correct[keep].mean())
    assert f"storage savings {100 * s['storage_savings']:.1f}%" in printed
    # Every decision is the rule applied to the sample's own score.
    t = Thresholds.load(fitted_run / "thresholds.json")
    pred = np.array([x["predicted_class"] for x in samples])
    drips = np.array([x["drips"] for x in samples])
    np.testing.assert_array_equal(t.decide(pred, drips), keep)
    for c in s["per_class"]:
        assert c["kept"] == keep[pred == c["class"]].sum()
    # Something is discarded and something kept: the window is not degenerate.
    assert 0 < s["discarded"] < s["samples"]


def test_simulating_the_validation_split_reproduces_the_fit(fitted_run, tmp_path):
    out = tmp_path / "val.json"
    assert main(["simulate", str(fitted_run), "--split", "validation", "--json", str(out),
                 "--quiet"]) == 0
    samples = json.loads(out.read_text())["samples"]
    rows = _csv(fitted_run / "validation_scores.csv")
    assert [x["drips"] for x in samples] == [float(r["drips"]) for r in rows]  # bit for bit
    t = Thresholds.load(fitted_run / "thresholds.json")
    assert sum(not x["keep"] for x in samples) == sum(c.validation_discarded for c in t.classes)


def test_float_path_and_its_agreement_with_int8(fitted_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)
    int8_rows = _csv(run / "validation_scores.csv")
    assert main(["fit", str(run), "--path", "float", "--quiet"]) == 0
    float_rows = _csv(run / "validation_scores.csv")
    assert Thresholds.load(run / "thresholds.json").path == "float"
    a = np.array([float(r["drips"]) for r in int8_rows])
    b = np.array([float(r["drips"]) for r in float_rows])
    same_class = np.mean([x["predicted_class"] == y["predicted_class"]
                          for x, y in zip(int8_rows, float_rows)])
    assert same_class > 0.9
    assert np.corrcoef(a, b)[0, 1] > 0.8


def test_fit_works_on_the_1d_audio_model(speech_run, tmp_path):
    run = tmp_path / "speech"
    shutil.copytree(speech_run, run)
    assert main(["fit", str(run), "--dpw", "30", "--variant", "max", "--quiet"]) == 0
    t = Thresholds.load(run / "thresholds.json")
    assert t.variant == "max" and len(t.classes) == 3


def test_errors_name_the_problem_and_write_nothing(fitted_run, tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err
    run = tmp_path / "run"
    shutil.copytree(fitted_run, run)
    before = (run / "thresholds.json").read_bytes()
    assert main(["fit", str(run), "--dpw", "0"]) == 1
    assert "--dpw" in capsys.readouterr().err
    assert (run / "thresholds.json").read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary left behind
    # Thresholds of another model are refused.
    data = json.loads(before)
    data["model_sha256"] = "0" * 64
    (run / "thresholds.json").write_text(json.dumps(data))
    assert main(["simulate", str(run)]) == 1
    assert "another model" in capsys.readouterr().err
    (run / "thresholds.json").unlink()
    assert main(["simulate", str(run)]) == 1
    assert "drip-tiny fit" in capsys.readouterr().err
    assert main(["simulate", str(fitted_run), "--json", str(tmp_path / "no" / "x.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
