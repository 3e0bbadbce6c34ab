"""ruff lints the package, the tests, the benchmarks and the scripts (rules and the few
ignores, each with its reason, in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_finds_nothing():
    result = subprocess.run([str(RUFF), "check", "--no-cache", "drip_tiny", "tests",
                             "benchmarks", "scripts"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_sees_a_problem(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = subprocess.run([str(RUFF), "check", "--no-cache", "--config",
                             str(ROOT / "pyproject.toml"), str(bad)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1 and "F401" in result.stdout
