"""`pip install .` builds a wheel that carries the shipped folders next to the package."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_templates_boards_and_firmware(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("drip_tiny-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "boards", "firmware"):
        shipped = {n for n in names if n.startswith(f"drip_tiny/_data/{folder}/")}
        in_repo = {f"drip_tiny/_data/{p.relative_to(ROOT).as_posix()}"
                   for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert in_repo and in_repo <= shipped, folder
    assert "drip_tiny/cli.py" in names and "drip_tiny/datasets/idx.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "drip-tiny = drip_tiny.cli:entrypoint" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_shipped_dir_finds_the_source_checkout():
    from drip_tiny.resources import shipped_dir

    assert (shipped_dir("templates") / "README.md").is_file()
