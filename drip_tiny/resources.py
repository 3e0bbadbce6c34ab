"""Where the shipped data folders (templates/, boards/, firmware/) are on this install."""

from pathlib import Path

from drip_tiny.errors import DripTinyError

_PACKAGE_DIR = Path(__file__).resolve().parent
_SHIPPED = ("templates", "boards", "firmware")


def shipped_dir(name: str) -> Path:
    """Return the folder `name`: the wheel's copy first, else the source checkout's."""
    if name not in _SHIPPED:
        raise ValueError(f"unknown shipped folder {name!r}; expected one of {_SHIPPED}")
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise DripTinyError(
        f"the {name}/ folder is missing from this installation of drip-tiny; "
        "reinstall it with `pip install .` from a complete source checkout")


def cache_dir(name: str) -> Path:
    """drip-tiny's build cache for `name` (codegen, emulate, ...): $DRIP_TINY_CACHE/name, or
    the XDG cache (~/.cache/drip-tiny/name). Not created here."""
    import os

    env = os.environ.get("DRIP_TINY_CACHE")
    if env:
        return Path(env) / name
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drip-tiny" / name
