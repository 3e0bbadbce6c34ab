"""Strict mypy over the whole package (configuration in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MYPY = Path(sys.executable).with_name("mypy")


def test_strict_mypy_finds_nothing():
    result = subprocess.run([str(MYPY), "--no-incremental", "-p", "drip_tiny"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_strict_here(tmp_path):
    (tmp_path / "untyped.py").write_text("def f(x):\n    return x\n")
    result = subprocess.run([str(MYPY), "--no-incremental", "--config-file",
                             str(ROOT / "pyproject.toml"), str(tmp_path / "untyped.py")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and "no-untyped-def" in result.stdout
