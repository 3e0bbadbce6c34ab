"""Capturing what C++ code (the TFLite converter, TFLM) prints on file descriptor 2."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def capture_fd2(fn: Callable[[], T]) -> tuple[T, str]:
    """Run `fn` with fd 2 redirected to a temporary file; return its result and the text.

    On an exception the text is attached to it as `captured_stderr`, so callers can show
    the native library's own explanation in their error message.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            result = fn()
        except BaseException as exc:
            os.dup2(saved, 2)
            tmp.seek(0)
            exc.captured_stderr = tmp.read().decode(errors="replace")  # type: ignore[attr-defined]
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return result, tmp.read().decode(errors="replace")
