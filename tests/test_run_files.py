"""Run files checked at the door (drip_tiny/run/files.py): a hand-edited or damaged
metadata.json, metrics.json or thresholds.json stops fit, simulate and export with one line
naming the file, the field and the fix; exit 1, no traceback, nothing written."""

import json
import shutil

import pytest
from firmware_build import fitted_copy
from test_reliability_cli import fails, snapshot

from drip_tiny.errors import RunDirError
from drip_tiny.run.files import read_run_file


@pytest.fixture(scope="module")
def fitted(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("files") / "run")


def _edit(run, name, change):
    path = run / name
    data = json.loads(path.read_text())
    changed = change(data)
    path.write_text(changed if isinstance(changed, str) else json.dumps(data))


def _set(*keys, value):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def _delete(*keys):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return change


def _nan_lower(data):
    # Python's json writes NaN as the bare word, as a hand edit would.
    data["classes"][3]["lower"] = float("nan")
    return json.dumps(data)


def _infinite_scale(data):
    data["int8"]["input"]["scale"] = float("inf")
    return json.dumps(data)


THRESHOLD_CASES = {
    "nan": (_nan_lower, "classes[3].lower is NaN, not a finite number"),
    "string": (_set("classes", 2, "upper", value="0.3"), "classes[2].upper"),
    "missing": (_delete("dpw"), "dpw is missing"),
    "version": (_set("format_version", value=2), "format_version 2 is not the format"),
    "variant": (_set("variant", value="median"), "variant"),
    "inverted": (_set("classes", 0, "lower", value=1e9), "classes[0]"),
    "half window": (_set("classes", 1, "upper", value=None), "classes[1]"),
    "labels": (_set("classes", 1, "label", value=7), "labels must be 0..9 in order"),
    "list": (lambda data: "[1, 2]", "the top level"),
    "not json": (lambda data: '{"dpw": 25,', "is not valid JSON"),
}

METADATA_CASES = {
    "no dataset": (_delete("dataset"), "metadata.json: dataset is missing"),
    "list": (lambda data: "[]", "metadata.json: the top level"),
    "class names": (_set("dataset", "class_names", value="0123456789"),
                    "dataset.class_names"),
    "version": (_set("format_version", value=99), "format_version 99 is not the format"),
    "infinite": (_infinite_scale, "int8.input.scale is Infinity, not a finite number"),
    "output index": (_set("int8", "target_output", value=1.5), "int8.target_output"),
}


@pytest.mark.parametrize("case", THRESHOLD_CASES)
def test_bad_thresholds_are_refused_by_simulate_and_export(case, fitted, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    change, says = THRESHOLD_CASES[case]
    _edit(run, "thresholds.json", change)
    before = snapshot(run)
    for argv in (["simulate", run, "--json", tmp_path / "sim.json"],
                 ["export", run, "--board", "host", "--out", tmp_path / "out"]):
        line = fails(capsys, *argv, says=("thresholds.json", says, "drip-tiny fit"))
        assert line.count("thresholds.json") == 1, line
    assert snapshot(run) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "sim.json").exists()


@pytest.mark.parametrize("case", METADATA_CASES)
def test_bad_metadata_is_refused_by_fit_simulate_and_export(case, fitted, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    change, says = METADATA_CASES[case]
    _edit(run, "metadata.json", change)
    before = snapshot(run)
    for argv in (["fit", run], ["simulate", run, "--json", tmp_path / "sim.json"],
                 ["export", run, "--board", "host", "--out", tmp_path / "out"]):
        fails(capsys, *argv, says=(says, "drip-tiny train"))
    assert snapshot(run) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "sim.json").exists()


def test_bad_metrics_are_refused(fitted, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    _edit(run, "metrics.json", _set("tflm_arena_bytes", "total", value=-1))
    fails(capsys, "export", run, "--board", "host", "--out", tmp_path / "out",
          says=("metrics.json: tflm_arena_bytes.total", "greater than or equal to 0"))
    assert not (tmp_path / "out").exists()


def test_a_thresholds_file_given_by_path_is_checked_too(fitted, tmp_path, capsys):
    other = tmp_path / "mine.json"
    data = json.loads((fitted / "thresholds.json").read_text())
    data["classes"][0]["std"] = -1.0
    other.write_text(json.dumps(data))
    fails(capsys, "simulate", fitted, "--thresholds", other,
          says=(f"{other}: classes[0].std", "greater than or equal to 0"))


def test_the_files_train_and_fit_write_pass(fitted):
    for name in ("metadata.json", "metrics.json", "thresholds.json"):
        assert isinstance(read_run_file(fitted / name), dict)


def test_unreadable_and_missing_files_name_the_path(tmp_path):
    with pytest.raises(RunDirError, match="does not exist; re-run `drip-tiny train`"):
        read_run_file(tmp_path / "metadata.json")
    (tmp_path / "thresholds.json").write_bytes(b"\xff\xfe")
    with pytest.raises(RunDirError, match="cannot be read"):
        read_run_file(tmp_path / "thresholds.json")
