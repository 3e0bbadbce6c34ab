"""RUN may be omitted in a project folder (issue 18: `drip-tiny export --board nrf52840`, as
the user typed it): the run named in drip-tiny.toml, else the newest complete run under
./runs, for export, fit, simulate and hil; staging folders ignored, a broken newest run
reported, and one error line when there is none. Real runs on disk, mtimes set by hand."""

import json
import os
import shutil

import pytest
from boards_common import require_tools
from firmware_build import fitted_copy

from drip_tiny.cli import main
from drip_tiny.errors import ConfigError, RunDirError
from drip_tiny.run.discovery import FITTED, TRAINED, find_run

T0 = 1_700_000_000  # a fixed past time: every marker's mtime is T0 + seconds, by hand


@pytest.fixture(scope="module")
def fitted(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("discovery") / "fitted")


def touch(path, seconds):
    os.utime(path, (T0 + seconds, T0 + seconds))


def add_run(root, name, source, *, trained_at, fitted_at=None):
    """A copy of `source` at root/runs/name; metadata.json dated trained_at, thresholds.json
    fitted_at (or removed when None: a trained, unfitted run)."""
    run = root / "runs" / name
    shutil.copytree(source, run)
    touch(run / "metadata.json", trained_at)
    if fitted_at is None:
        (run / "thresholds.json").unlink(missing_ok=True)
    else:
        touch(run / "thresholds.json", fitted_at)
    return run


@pytest.fixture
def project(fitted, tmp_path, monkeypatch):
    """A project folder, the current folder, whose runs/ holds:
    old (fitted at 100), new (fitted at 200: the newest fitted), unfitted (trained at 300:
    the newest trained), a staging folder fitted at 500 and a folder that is no run."""
    root = tmp_path / "project"
    add_run(root, "old", fitted, trained_at=0, fitted_at=100)
    add_run(root, "new", fitted, trained_at=50, fitted_at=200)
    add_run(root, "unfitted", fitted, trained_at=300)
    add_run(root, ".later.staging-x1y2", fitted, trained_at=500, fitted_at=500)
    (root / "runs" / "notes").mkdir()
    (root / "runs" / "notes" / "README").write_text("not a run\n")
    monkeypatch.chdir(root)
    return root


def one_error(capsys, argv, says=()):
    """Exit 1, one `drip-tiny CMD: error:` line holding `says`, no traceback."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1, err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith(f"drip-tiny {argv[0]}: error: "), err
    for text in says:
        assert text in lines[0], lines[0]
    return lines[0]


def using(err, command, run, reason):
    return f"drip-tiny {command}: using run runs/{run} ({reason})" in err.splitlines()


# --- the library: which run, and why ---------------------------------------------------------


def test_newest_per_need_skips_staging_and_non_runs(project):
    assert find_run(FITTED).path.as_posix() == "runs/new"
    assert find_run(TRAINED).path.as_posix() == "runs/unfitted"
    assert find_run(FITTED).reason == "newest fitted run under ./runs"
    # The same answer when asked for another folder than the current one.
    assert find_run(FITTED, cwd=project).path == project / "runs" / "new"


def test_a_refit_run_becomes_the_newest_fitted(project):
    touch(project / "runs" / "old" / "thresholds.json", 400)
    assert find_run(FITTED).path.as_posix() == "runs/old"
    # Re-training dates metadata.json, which a fitted run is not dated by.
    touch(project / "runs" / "new" / "metadata.json", 600)
    assert find_run(FITTED).path.as_posix() == "runs/old"
    assert find_run(TRAINED).path.as_posix() == "runs/new"


def test_equal_times_go_to_the_name_sorting_last(project):
    touch(project / "runs" / "old" / "thresholds.json", 200)
    assert find_run(FITTED).path.as_posix() == "runs/old"  # "old" > "new"
    shutil.copytree(project / "runs" / "old", project / "runs" / "zz")
    touch(project / "runs" / "zz" / "thresholds.json", 200)
    assert find_run(FITTED).path.as_posix() == "runs/zz"


def test_a_broken_newest_run_is_reported_not_skipped(project):
    meta = project / "runs" / "new" / "metadata.json"
    data = json.loads(meta.read_text())
    data["dataset"] = ["digits"]
    meta.write_text(json.dumps(data))
    touch(meta, 50)
    touch(project / "runs" / "new" / "thresholds.json", 200)
    with pytest.raises(RunDirError) as e:
        find_run(FITTED)
    message = str(e.value)
    assert "the newest fitted run under ./runs, runs/new, cannot be used" in message
    assert "runs/new/metadata.json: dataset" in message
    assert "runs/old" not in message
    # A run with broken thresholds is as broken for a command that needs them ...
    (project / "runs" / "unfitted" / "thresholds.json").write_text('{"format_version": 1}')
    touch(project / "runs" / "unfitted" / "thresholds.json", 900)
    with pytest.raises(RunDirError, match=r"runs/unfitted/thresholds\.json: variant is missing"):
        find_run(FITTED)
    # ... and none for one that does not read them.
    assert find_run(TRAINED).path.as_posix() == "runs/unfitted"


def test_a_run_with_a_file_missing_is_reported(project):
    (project / "runs" / "new" / "model.tflite").unlink()
    with pytest.raises(RunDirError, match=r"runs/new, cannot be used: .*model\.tflite missing"):
        find_run(FITTED)


@pytest.mark.parametrize("content, says", [
    ('run = "runs/old', "drip-tiny.toml is not valid TOML"),
    ('run = "runs/old"\nboard = "nrf52840"\n', "drip-tiny.toml: unknown key 'board'"),
    ("run = 3\n", "drip-tiny.toml: run is 3, not a folder name"),
    ("# no run\n", "drip-tiny.toml: run is missing"),
])
def test_a_bad_project_file_says_what_to_write(project, content, says):
    (project / "drip-tiny.toml").write_text(content)
    with pytest.raises(ConfigError) as e:
        find_run(FITTED)
    assert says in str(e.value) and 'run = "runs/digits"' in str(e.value)


# --- the commands ------------------------------------------------------------------------------


@pytest.mark.parametrize("command, needs", [("fit", "trained"), ("simulate", "fitted"),
                                            ("export", "fitted"), ("hil", "fitted")])
def test_help_says_run_may_be_omitted(command, needs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "[RUN]" in " ".join(out.split())  # optional in the usage line
    run_help = " ".join(out.split("positional arguments:")[1].split("options:")[0].split())
    assert run_help.endswith(f"when omitted: the run named in ./drip-tiny.toml "
                             f'(run = "runs/NAME"), else the newest {needs} run under ./runs')


def test_users_exact_command_builds_the_newest_fitted_run(project, capsys, monkeypatch,
                                                          tmp_path):
    require_tools("make", "arm-none-eabi-gcc")
    monkeypatch.setenv("DRIP_TINY_CACHE", str(tmp_path / "cache"))
    assert main(["export", "--board", "nrf52840"]) == 0
    captured = capsys.readouterr()
    assert using(captured.err, "export", "new", "newest fitted run under ./runs")
    out = project / "build" / "nrf52840"
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["run"] == str((project / "runs" / "new").resolve())
    assert (out / "build" / "firmware.hex").is_file()
    assert "Memory report for nrf52840" in captured.out and "fits" in captured.out


def test_fit_uses_the_newest_trained_run_then_export_follows(project, capsys):
    assert main(["fit", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert using(err, "fit", "unfitted", "newest trained run under ./runs")
    assert (project / "runs" / "unfitted" / "thresholds.json").is_file()
    # Now fitted last, it is what the next command uses: train, fit, export, no names typed.
    assert main(["export", "--board", "host", "--no-build", "--quiet"]) == 0
    assert using(capsys.readouterr().err, "export", "unfitted", "newest fitted run under ./runs")
    manifest = json.loads((project / "build" / "host" / "export.json").read_text())
    assert manifest["run"] == str((project / "runs" / "unfitted").resolve())


def test_simulate_reads_the_run_it_names(project, capsys):
    # A DPW no other run has (the field is a record of the fit, not used by the decision),
    # so the summary shows which thresholds were read.
    path = project / "runs" / "new" / "thresholds.json"
    data = json.loads(path.read_text())
    data["dpw"] = 37.5
    path.write_text(json.dumps(data))
    touch(path, 200)
    assert main(["simulate", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert using(captured.err, "simulate", "new", "newest fitted run under ./runs")
    assert "DPW 37.5%" in captured.out.splitlines()[0]


def test_simulate_with_a_thresholds_file_needs_only_a_trained_run(project, capsys):
    other = project / "runs" / "old" / "thresholds.json"
    assert main(["simulate", "--thresholds", str(other), "--quiet"]) == 0
    assert using(capsys.readouterr().err, "simulate", "unfitted",
                 "newest trained run under ./runs")


def test_hil_picks_the_run_before_opening_the_port(project, capsys):
    code = main(["hil", "--port", "socket://127.0.0.1:1", "--raw-link", "0"])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "drip-tiny hil: using run runs/new (newest fitted run under ./runs)"
    assert len(lines) == 2 and lines[1].startswith("drip-tiny hil: error: cannot open the "
                                                   "serial port 'socket://127.0.0.1:1'")


def test_send_thresholds_picks_the_run_before_opening_the_port(project, capsys):
    code = main(["send-thresholds", "--port", "socket://127.0.0.1:1"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 1
    assert lines[0] == ("drip-tiny send-thresholds: using run runs/new (newest fitted run "
                        "under ./runs)")
    assert len(lines) == 2 and "cannot open the serial port 'socket://127.0.0.1:1'" in lines[1]


def test_the_project_file_names_the_run(project, capsys):
    (project / "drip-tiny.toml").write_text('# the run this folder works on\nrun = "runs/old"\n')
    assert main(["export", "--board", "host", "--no-build", "--quiet"]) == 0
    assert using(capsys.readouterr().err, "export", "old", "named in drip-tiny.toml")
    manifest = json.loads((project / "build" / "host" / "export.json").read_text())
    assert manifest["run"] == str((project / "runs" / "old").resolve())


def test_a_project_file_naming_an_unfitted_run_stops_export(project, capsys):
    (project / "drip-tiny.toml").write_text('run = "runs/unfitted"\n')
    one_error(capsys, ["export", "--board", "host", "--no-build"],
              says=("drip-tiny.toml names run runs/unfitted, which cannot be used",
                    "thresholds.json is missing", "`drip-tiny fit runs/unfitted`"))
    assert not (project / "build").exists()
    (project / "drip-tiny.toml").write_text('run = "runs/gone"\n')
    one_error(capsys, ["simulate"], says=("runs/gone does not exist",))


def test_an_explicit_run_is_used_as_typed(project, capsys):
    assert main(["export", "runs/old", "--board", "host", "--no-build", "--quiet"]) == 0
    assert "using run" not in capsys.readouterr().err
    manifest = json.loads((project / "build" / "host" / "export.json").read_text())
    assert manifest["run"] == str((project / "runs" / "old").resolve())


def test_no_run_at_all_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    train = "`drip-tiny train --dataset digits --out runs/digits`"
    one_error(capsys, ["export", "--board", "nrf52840"],
              says=("no fitted run found under ./runs", train, "`drip-tiny fit runs/digits`"))
    one_error(capsys, ["fit"], says=("no run found under ./runs", train))
    (tmp_path / "runs" / ".digits.staging-abc").mkdir(parents=True)  # interrupted train
    one_error(capsys, ["hil", "--board", "host"], says=("no fitted run found under ./runs",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # nothing written


def test_only_unfitted_runs_names_the_fit_to_run(fitted, tmp_path, monkeypatch, capsys):
    add_run(tmp_path, "a", fitted, trained_at=0)
    add_run(tmp_path, "b", fitted, trained_at=10)
    monkeypatch.chdir(tmp_path)
    one_error(capsys, ["export", "--board", "nrf52840"],
              says=("no fitted run found under ./runs (runs/b is trained but has no "
                    "thresholds.json); fit it with `drip-tiny fit runs/b`",))
    assert not (tmp_path / "build").exists()


def test_a_broken_newest_run_stops_the_command(project, capsys):
    (project / "runs" / "new" / "thresholds.json").write_text("[1, 2")
    touch(project / "runs" / "new" / "thresholds.json", 200)
    one_error(capsys, ["export", "--board", "host", "--no-build"],
              says=("runs/new, cannot be used", "not valid JSON", "name the run to use"))
    assert not (project / "build").exists()
