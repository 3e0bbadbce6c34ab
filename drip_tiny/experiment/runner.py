"""Run the protocol `runs` times in parallel worker processes, saving each run as it ends.

OUT/config.json             the experiment's config (a resume must match it)
OUT/runs/run_000.json ...   one file per finished run, written atomically
A second call with the same OUT and config skips the finished runs: an interrupted
experiment resumes where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import active_children, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drip_tiny import child_processes
from drip_tiny.errors import ConfigError, RunDirError
from drip_tiny.experiment.config import ExperimentConfig
from drip_tiny.run.directory import replace_files

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from drip_tiny.datasets import Dataset

# Configs and run results travel as JSON objects: dict[str, Any], values of several types.

CONFIG_FILE = "config.json"
RUNS_DIR = "runs"


def run_file(out: Path, index: int) -> Path:
    return out / RUNS_DIR / f"run_{index:03d}.json"


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    replace_files({path: lambda p: p.write_text(json.dumps(data, indent=1) + "\n")})


def _load_dataset(config: ExperimentConfig) -> Dataset:
    from drip_tiny.datasets import load_dataset

    return load_dataset(config.dataset, config.data_dir, config.load_options)


_WORKER_DATASET: Dataset | None = None


# One TensorFlow thread per worker, whatever the machine: Eigen splits a matmul's sums by
# thread count, so a run's float results would depend on how many runs were still to do (a
# resumed experiment has fewer, hence fewer workers and more threads each) and on the host.
WORKER_THREADS = 1


def _worker_init(config_json: dict[str, Any], parent: int) -> None:
    global _WORKER_DATASET
    # A worker left behind by a killed experiment would wait for work forever.
    child_processes.die_with_parent(parent)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(WORKER_THREADS)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from drip_tiny.tf_seam import tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(WORKER_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised in this process
    _WORKER_DATASET = _load_dataset(ExperimentConfig.from_json(config_json))


def _worker_run(config_json: dict[str, Any], index: int, out: str) -> int:
    from drip_tiny.experiment.paper_protocol import run_protocol

    assert _WORKER_DATASET is not None  # _worker_init, the pool's initializer, loaded it
    result = run_protocol(ExperimentConfig.from_json(config_json), index, _WORKER_DATASET)
    _write_atomic(run_file(Path(out), index), result)
    return index


def _stop_workers(pool: ProcessPoolExecutor, others: set[BaseProcess]) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    workers = set(active_children()) - others
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join()


def prepare_out(out: Path, config: ExperimentConfig, force: bool) -> list[int]:
    """Create OUT, check a resumed config matches; return the run indices still to do."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} exists and is not a directory; choose another --out")
    saved = out / CONFIG_FILE
    if saved.is_file() and not force:
        previous = json.loads(saved.read_text())
        current = config.to_json()
        differ = sorted(k for k in set(previous) | set(current)
                        if k != "runs" and previous.get(k) != current.get(k))
        if differ:
            raise ConfigError(f"{out} holds an experiment with other settings ({', '.join(differ)}"
                              f" differ); resume it with the same options, choose another --out, "
                              "or pass --force to start over")
    elif out.is_dir() and any(out.iterdir()) and not saved.is_file() and not force:
        raise RunDirError(f"{out} is not empty and holds no experiment; choose another --out")
    if force and out.is_dir():
        for old in (out / RUNS_DIR).glob("run_*.json"):
            old.unlink()
    (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    _write_atomic(saved, config.to_json())
    return [i for i in range(config.runs) if not run_file(out, i).is_file()]


def run_experiment(config: ExperimentConfig, out: Path, jobs: int | None = None,
                   force: bool = False, on_done: Callable[[int, int], None] | None = None
                   ) -> list[dict[str, Any]]:
    """Run every missing run; return all runs' results in run order."""
    config.validate()
    data_dir = config.resolved_data_dir()
    config = ExperimentConfig(**{**config.__dict__, "data_dir": data_dir})
    _load_dataset(config)  # a bad dataset fails here, before any worker starts
    todo = prepare_out(Path(out), config, force)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    done = config.runs - len(todo)
    if todo:
        payload = config.to_json()
        others = set(active_children())
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                                 initializer=_worker_init,
                                 initargs=(payload, os.getpid())) as pool:
            try:
                futures = [pool.submit(_worker_run, payload, i, str(out)) for i in todo]
                for future in as_completed(futures):
                    future.result()  # a failing run raises here, after the others are saved
                    done += 1
                    if on_done:
                        on_done(done, config.runs)
            except Exception:
                raise  # the with block waits for the other runs and saves them
            except BaseException:
                # Stopped (Ctrl-C, SIGTERM, SIGHUP): end the workers now, not after every
                # queued run; the runs they were doing are redone when the experiment resumes.
                _stop_workers(pool, others)
                raise
    return load_runs(Path(out), config.runs)


def load_runs(out: Path, runs: int) -> list[dict[str, Any]]:
    results = []
    for i in range(runs):
        path = run_file(out, i)
        if not path.is_file():
            raise RunDirError(f"{path} is missing; run the experiment again to finish it")
        results.append(json.loads(path.read_text()))
    return results
