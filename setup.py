"""Copies the top-level templates/, boards/ and firmware/ into the wheel.

They sit at the repository's top level (where a reader looks for them), but `drip-tiny
export` must find them after a plain `pip install .`, so the build puts a copy under
drip_tiny/_data/. drip_tiny.resources looks there first, then in the source tree.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_DIRS = ("templates", "boards", "firmware")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "drip_tiny" / "_data"
        for name in SHIPPED_DIRS:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.o", "build"))


setup(cmdclass={"build_py": BuildPyWithData})
