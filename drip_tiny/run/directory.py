"""The run directory: what `drip-tiny train` writes and every later command reads.

    RUN/model.tflite       int8 model: int8 input, outputs [logits, target activation]
    RUN/float_model.keras  the trained float Keras model (logits output)
    RUN/metadata.json      dataset, split, model, quantization parameters, versions
    RUN/metrics.json       float and int8 (TFLM) test accuracy, TFLM arena, sizes, timings
    RUN/history.json       per-epoch training curves
    RUN/splits.npz         the split indices (train/validation/production/test)

A run is written into a staging folder beside RUN and renamed into place at the end, so an
interrupted or failed command never leaves a half-written run behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drip_tiny.errors import RunDirError
from drip_tiny.run.file_names import (
    FLOAT_MODEL,
    HISTORY,
    METADATA,
    METRICS,
    MODEL_TFLITE,
    REQUIRED_FILES,
    SPLITS,
    THRESHOLDS,
)
from drip_tiny.run.staging import staged_directory

if TYPE_CHECKING:
    import numpy as np

    from drip_tiny.datasets import Dataset

__all__ = ["FLOAT_MODEL", "HISTORY", "METADATA", "METRICS", "MODEL_TFLITE", "REQUIRED_FILES",
           "SPLITS", "THRESHOLDS"]  # re-exported: callers say rundir.METADATA
FORMAT_VERSION = 1


def check_writable(out: Path, force: bool) -> None:
    """Refuse to overwrite a non-empty folder unless `force`; refuse a path that is a file."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise RunDirError(f"{out} already exists and is not empty; choose another --out, "
                          "or pass --force to replace it")
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise RunDirError(f"cannot create the run directory {out}: {ancestor} is not a writable "
                          "directory; choose an --out where you can write")


@contextmanager
def staged_run(out: Path, force: bool) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces `out`, on any error it is deleted."""
    out = Path(out)
    check_writable(out, force)
    with staged_directory(out, RunDirError, "the run directory") as staging:
        yield staging


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def load_json(run: Path, name: str) -> dict[str, Any]:
    """One of the run's JSON files, checked against its schema (run_files.py)."""
    from drip_tiny.run.files import SCHEMAS, read_run_file

    path = Path(run) / name
    if not path.is_file():
        raise RunDirError(f"{run} is not a drip-tiny run directory: {name} is missing; "
                          "create one with `drip-tiny train --out RUN`")
    if name in SCHEMAS:
        return read_run_file(path)
    try:
        data: dict[str, Any] = json.loads(path.read_text())  # a run's files are objects
        return data
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path} is corrupt ({exc}); re-run `drip-tiny train`") from exc


def check_run(run: Path) -> Path:
    """Return `run` as a Path after checking it holds every file a run must have."""
    run = Path(run)
    if not run.is_dir():
        raise RunDirError(f"run directory {run} does not exist; create it with "
                          "`drip-tiny train --out RUN`")
    missing = [name for name in REQUIRED_FILES if not (run / name).is_file()]
    if missing:
        raise RunDirError(f"{run} is not a complete drip-tiny run: {', '.join(missing)} missing; "
                          "re-run `drip-tiny train`")
    load_json(run, METADATA)  # the format version and every field the commands read
    load_json(run, METRICS)
    return run


def load_run_dataset(run: Path) -> Dataset:
    """Reload the dataset a run was trained on, with the same options; check it is unchanged."""
    from drip_tiny.datasets import LoadOptions, dataset_fingerprint, load_dataset

    info = load_json(check_run(run), METADATA)["dataset"]
    options = LoadOptions.from_json(info.get("load_options") or {})
    dataset = load_dataset(info["name"], info.get("data_dir"), options)
    recorded, found = info.get("fingerprint"), dataset_fingerprint(dataset)
    if recorded is not None and found != recorded:
        raise RunDirError(
            f"the {info['name']} data at {info.get('data_dir') or dataset.source} is not what run "
            f"{run} was trained on (sizes or labels differ: {found} vs {recorded}); its split "
            "indices would select other samples. Point the run at the original data or train "
            "a new run")
    return dataset


def load_split(run: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of split `name` ('train', 'validation', 'production' or 'test') of a run."""
    from drip_tiny.run.splits import Splits, split_arrays

    dataset = load_run_dataset(run)
    return split_arrays(dataset, Splits.load(Path(run) / SPLITS), name)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def replace_files(outputs: Mapping[Path, Callable[[Path], object]]) -> None:
    """Write every file to a temporary name beside it, then rename all into place: an error
    while writing leaves the old files untouched and no temporary file behind."""
    temps: dict[Path, Path] = {}
    try:
        for final, write in outputs.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix,
                                            dir=final.parent)
            os.close(fd)
            temps[final] = Path(tmp_name)
            write(Path(tmp_name))
            os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for final, tmp in temps.items():
        os.replace(tmp, final)
