"""Write a whole folder or nothing: build it in a staging folder beside its destination,
then rename it into place. Run directories (train) and firmware projects (export) use it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from drip_tiny.errors import DripTinyError


@contextmanager
def staged_directory(out: Path, error: type[DripTinyError], what: str) -> Iterator[Path]:
    """Yield an empty staging folder beside out; on success it replaces out, on any error
    (or interrupt) it is deleted and out is left as it was. `error` is raised, naming
    `what`, when the staging folder cannot be created."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    except OSError as e:
        raise error(f"cannot create {what} {out}: {e.strerror}; choose an --out where you "
                    "can write") from e
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
