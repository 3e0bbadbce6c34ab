"""The one way drip-tiny writes C: the Jinja environment over templates/, and C literals.

Every generated file (the model, the DRIP kernel, the thresholds header, the app binding)
is rendered through `templates()`, and every float constant through `c_float`, so the
generated code is spelled the same way wherever it comes from.
"""

from __future__ import annotations

import functools
import math
from typing import SupportsInt

import jinja2
import numpy as np

from drip_tiny.errors import CodegenError
from drip_tiny.resources import shipped_dir


@functools.cache
def templates() -> jinja2.Environment:
    """templates/ with undefined names as errors (a typo in a template fails, not renders
    empty), blocks trimmed so control lines leave no blank lines, and files kept ending in
    a newline."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(shipped_dir("templates"))),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def c_float(x: float) -> str:
    """A float32 literal that reads back as exactly the same float32: 9 significant digits
    always round-trip (FLT_DECIMAL_DIG), and decimal also compiles as C++ before C++17.
    NaN and infinity have no literal: refused, never written as some other number."""
    with np.errstate(over="ignore"):  # a float32 overflow becomes inf, refused below
        v = float(np.float32(x))
    if math.isnan(v) or math.isinf(v):
        raise CodegenError(f"cannot emit the float {x} as a C constant (not finite)")
    text = f"{v:.9g}"
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def c_int(x: SupportsInt) -> str:
    """An int32 literal; INT32_MIN spelled so that C does not read it as -(2147483648)."""
    v = int(x)
    if v == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(v)
