"""Which run a command uses when the user leaves RUN out (docs/run-directory.md, "RUN may
be omitted").

In a project folder, `drip-tiny export --board nrf52840` uses:

1. the run named in the project file `drip-tiny.toml` of the current folder, if there is
   one (`run = "runs/digits"`, relative to that folder); else
2. the newest complete run under `./runs`.

"Complete" is what the command needs: a *trained* run (`fit`) holds a valid run directory
(model.tflite, metadata.json, metrics.json, splits.npz: rundir.check_run); a *fitted* run
(`simulate`, `export`, `hil`) holds in addition a valid thresholds.json.

"Newest" is the modification time of the file that completes the run for the command:
metadata.json for a trained run (train writes the run, then renames it into place), and
thresholds.json for a fitted run (fit replaces it), so a run fitted again becomes the
newest fitted run. Equal times go to the name that sorts last (runs/b before runs/a).

Folders whose name starts with a dot (the staging folder `.NAME.staging-*` train writes
beside a run, left behind only if train is killed) and folders without that file are not
runs of that kind and are ignored. The newest candidate is checked in full; when it is
broken (invalid metadata or thresholds, a file missing) the search stops with an error
naming it rather than falling back to an older run, which would silently use a model the
user did not mean.

Raises errors only; the commands say which run they picked (commands/run_argument.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from drip_tiny.errors import ConfigError, RunDirError
from drip_tiny.run import directory as rundir

TRAINED = "trained"
FITTED = "fitted"
NEEDS = (TRAINED, FITTED)

RUNS_DIR = "runs"
PROJECT_FILE = "drip-tiny.toml"
PROJECT_KEYS = ("run",)
THRESHOLDS = rundir.THRESHOLDS

# The file whose presence makes a folder a candidate, and whose mtime dates the run.
MARKERS = {TRAINED: rundir.METADATA, FITTED: THRESHOLDS}

TRAIN_HINT = "`drip-tiny train --dataset digits --out runs/digits`"


@dataclass(frozen=True)
class FoundRun:
    path: Path
    reason: str  # why this run: "newest fitted run under ./runs", "named in drip-tiny.toml"


def _check_needs(needs: str) -> None:
    if needs not in NEEDS:
        raise ValueError(f"needs must be one of {NEEDS}, got {needs!r}")


def check_complete(run: Path, needs: str) -> Path:
    """Return `run` after checking it holds what a command needing a `needs` run reads."""
    _check_needs(needs)
    run = rundir.check_run(Path(run))
    if needs == FITTED:
        from drip_tiny.run.files import read_run_file

        if not (run / THRESHOLDS).is_file():
            raise RunDirError(f"{run} is not fitted: {THRESHOLDS} is missing; fit it with "
                              f"`drip-tiny fit {run}`")
        read_run_file(run / THRESHOLDS)
    return run


def read_project_file(path: Path) -> Path:
    """The run a project file names, as a path relative to the current folder when the
    file's `run` is relative (the file sits in the current folder)."""
    path = Path(path)
    example = 'run = "runs/digits"'
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} cannot be read ({e}); fix it or remove it") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML ({e}); it holds one line such as "
                          f"`{example}`") from None
    unknown = sorted(set(data) - set(PROJECT_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; the project file holds only "
                          f"`{example}`")
    run = data.get("run")
    if not isinstance(run, str) or not run.strip():
        found = "is missing" if run is None else f"is {run!r}, not a folder name"
        raise ConfigError(f"{path}: run {found}; name the run directory, e.g. `{example}`")
    return path.parent / run


def _candidates(runs: Path, marker: str) -> list[tuple[int, str, Path]]:
    """(mtime_ns of marker, name, folder) of every folder under runs holding marker."""
    found: list[tuple[int, str, Path]] = []
    if not runs.is_dir():
        return found
    for entry in runs.iterdir():
        if entry.name.startswith("."):  # staging folders, and hidden folders generally
            continue
        try:
            if entry.is_dir() and (entry / marker).is_file():
                found.append(((entry / marker).stat().st_mtime_ns, entry.name, entry))
        except OSError:  # unreadable or vanished meanwhile: not a run we can use
            continue
    return sorted(found, reverse=True)


def _newest(root: Path, needs: str) -> FoundRun:
    runs = root / RUNS_DIR
    shown = f"./{RUNS_DIR}"
    candidates = _candidates(runs, MARKERS[needs])
    if not candidates:
        if needs == FITTED:
            trained = _candidates(runs, MARKERS[TRAINED])
            if trained:
                run = trained[0][2]
                raise RunDirError(f"no fitted run found under {shown} ({run} is trained but "
                                  f"has no {THRESHOLDS}); fit it with `drip-tiny fit {run}`")
            raise RunDirError(f"no fitted run found under {shown}; train one with {TRAIN_HINT}, "
                              "then fit it with `drip-tiny fit runs/digits`")
        raise RunDirError(f"no run found under {shown}; train one with {TRAIN_HINT}")
    run = candidates[0][2]
    try:
        check_complete(run, needs)
    except RunDirError as e:
        raise RunDirError(f"the newest {needs} run under {shown}, {run}, cannot be used: {e} "
                          f"(or move it out of {shown}, or name the run to use)") from None
    return FoundRun(run, f"newest {needs} run under {shown}")


def find_run(needs: str, cwd: Path | None = None) -> FoundRun:
    """The run a command that needs a `needs` run (TRAINED or FITTED) uses when RUN is
    omitted, looked up from `cwd` (default: the current folder). Raises RunDirError when
    there is none or the one found is broken, ConfigError for a bad project file."""
    _check_needs(needs)
    root = Path(cwd) if cwd is not None else Path()
    project = root / PROJECT_FILE
    if project.exists():
        run = read_project_file(project)
        try:
            check_complete(run, needs)
        except RunDirError as e:
            raise RunDirError(f"{project} names run {run}, which cannot be used: {e}") from None
        return FoundRun(run, f"named in {project}")
    return _newest(root, needs)
