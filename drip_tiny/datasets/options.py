"""Options that only some loaders use, gathered so the registry passes one object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadOptions:
    image_size: tuple[int, int] = (32, 32)  # (height, width) for image-folder
    color: str = "rgb"  # image-folder: "rgb" or "grayscale"
    words: tuple[str, ...] | None = None  # speech-commands: the words to keep (default: all)
    max_per_class: int | None = None  # keep at most this many samples per class and split
