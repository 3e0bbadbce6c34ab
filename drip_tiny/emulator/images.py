"""Find the firmware image of an exported project (drip-tiny export --out DIR)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from drip_tiny.errors import ConfigError

if TYPE_CHECKING:
    from drip_tiny.boards import Board

# Where `drip-tiny export` puts the built image, per toolchain (export/makefile.py), for
# folders without an export.json (a project built by hand).
IMAGE_NAMES = {"arm-none-eabi": ("build/firmware.elf",), "host": ("build/firmware",)}


def default_image_dir(board: str) -> Path:
    """The export folder the README's commands use: build/<board>."""
    return Path("build") / board


def resolve_image(path: Path, board: Board) -> Path:
    """path is the image itself or an export folder; return the image to run."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise ConfigError(f"{path} does not exist: export a run first with `drip-tiny export "
                          f"RUN --board {board.name} --out {path}`")
    meta = path / "export.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text())
        except json.JSONDecodeError as e:
            raise ConfigError(f"{meta} is not valid JSON ({e}): export again") from e
        exported = data.get("board")
        if exported and exported != board.name:
            raise ConfigError(f"{path} was exported for {exported}, not {board.name}: pass "
                              f"--board {exported} or export for {board.name}")
        image: str | None = (data.get("build") or {}).get("images", {}).get("elf")
        if image and (path / image).is_file():
            return path / image
    for name in IMAGE_NAMES[board.toolchain]:
        if (path / name).is_file():
            return path / name
    raise ConfigError(f"{path} has no built image ({' or '.join(IMAGE_NAMES[board.toolchain])}):"
                      f" run `make -C {path}` (or export again with the toolchain installed)")
