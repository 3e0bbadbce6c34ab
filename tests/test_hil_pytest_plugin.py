"""The pytest plugin (entry point pytest11 `drip_tiny`) run by pytester against the host
board: the drip_device fixture connects, checks the run's hashes, and is skipped with a
clear reason when no device is given."""

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from firmware_build import exported, fitted_copy

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

USER_TESTS = """
import numpy as np

def test_identity(drip_device):
    assert drip_device.identity.board == "host"

def test_classify_a_split_sample(drip_device, drip_run):
    from drip_tiny.hil.stream import stream_samples, split_inputs
    x, _ = split_inputs(drip_run, "production", 5)
    result = stream_samples(drip_device, drip_run, x)
    assert result.samples == 5 and result.mismatches == []
"""


def _plugin_args() -> list[str]:
    # Installed (pip install .), pytest loads it by its entry point; from a source tree
    # that is not installed yet, name it with -p.
    names = {e.name for e in entry_points(group="pytest11")}
    return [] if "drip_tiny" in names else ["-p", "drip_tiny.hil.pytest_plugin"]


def test_pyproject_declares_the_entry_point():
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"drip_tiny": "drip_tiny.hil.pytest_plugin"}


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("plugin") / "run")


@pytest.fixture(scope="module")
def host_export(run, tmp_path_factory):
    return exported(run, "host", tmp_path_factory)


def test_drip_device_on_the_host_board(pytester, run, host_export):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*_plugin_args(), "--drip-board", "host", "--drip-image",
                                str(host_export), "--drip-run", str(run))
    result.assert_outcomes(passed=2)


def test_without_a_device_the_tests_are_skipped_with_the_reason(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*_plugin_args(), "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*no device: pass --drip-port URL*"])


def test_a_device_with_another_run_fails_the_session_clearly(pytester, run, host_export,
                                                              tmp_path):
    import shutil

    from drip_tiny.drip.fit_run import fit_run

    other = tmp_path / "refit"
    shutil.copytree(run, other)
    fit_run(other, dpw=40)
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*_plugin_args(), "--drip-board", "host", "--drip-image",
                                str(host_export), "--drip-run", str(other))
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*thresholds*re-export*"])
