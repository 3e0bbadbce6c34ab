"""Options that only some loaders use, gathered so the registry passes one object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class LoadOptions:
    image_size: tuple[int, int] = (32, 32)  # (height, width) for image-folder
    color: str = "rgb"  # image-folder: "rgb" or "grayscale"
    words: tuple[str, ...] | None = None  # speech-commands: the words to keep (default: all)
    max_per_class: int | None = None  # keep at most this many samples per class and split

    # JSON objects are dict[str, Any]: their values are whatever json.loads produced.
    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (tuples as lists), as recorded in a run's metadata."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadOptions:
        """The inverse of to_json; keys missing from older metadata keep their defaults."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v)
                                  for k, v in data.items() if k in known}
        return cls(**values)
