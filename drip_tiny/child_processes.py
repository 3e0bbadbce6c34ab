"""Child processes that end when drip-tiny ends.

Every program drip-tiny runs (QEMU, the host firmware, make and the compilers, the size
and flash tools) is started here, so that none outlives the command that started it:

- Each child leads its own session (start_new_session), so its process group is its own:
  stop() signals the whole group (make's compilers with make), and a Ctrl-C typed in the
  terminal reaches drip-tiny alone, which then stops its children in order.
- On Linux the kernel kills the child (SIGKILL) when drip-tiny dies, even by SIGKILL
  (prctl PR_SET_PDEATHSIG). The death signal follows the *thread* that started the child,
  so long-lived children (start) must be started by a thread that outlives them; drip-tiny
  starts them from the main thread. It does not pass to grandchildren: the compilers make
  had started finish their file and exit by themselves.
- run() is subprocess.run that stops the group when it is interrupted (Ctrl-C, SIGTERM
  raised by the CLI as an exception) or times out, where subprocess.run kills only the
  process it started.

The CLI (drip_tiny/cli.py) turns SIGTERM and SIGHUP into an exception, so the with blocks
that own children unwind and stop them as on Ctrl-C; kill_all() is its last resort when a
second signal arrives during that unwinding.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, overload

# Popen[Any]: whether a child's pipes carry str or bytes depends on the caller's keyword
# arguments (text=..., encoding=...), as in typeshed's own fallback for subprocess.Popen;
# the overloads below give str for text=True, the way drip-tiny calls them.
_Process = subprocess.Popen[Any]

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
_PR_SET_PDEATHSIG = 1
_POLL = 0.02

_live: set[_Process] = set()  # started by start() and not yet stopped or reaped


def _find_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up now: the child calls it between fork and exec, where it
    should do as little as possible."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _find_prctl()


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when the thread that created it ends (Linux;
    elsewhere nothing). parent: that creator's pid, read before the fork; if it has
    already gone (the death signal came too late to fire), this process ends now."""
    if _PRCTL is None or _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # no death signal here: stop() and the CLI's signal handling remain
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _child_setup(parent: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        die_with_parent(parent)
    return setup


@overload
def start(command: Sequence[str], *, text: Literal[True],
          **popen_kwargs: Any) -> subprocess.Popen[str]: ...
@overload
def start(command: Sequence[str], **popen_kwargs: Any) -> _Process: ...
def start(command: Sequence[str], **popen_kwargs: Any) -> _Process:
    """subprocess.Popen(command, **popen_kwargs) in a session of its own, tied to this
    process's life; stdin is /dev/null unless given. End it with stop()."""
    if "start_new_session" in popen_kwargs or "preexec_fn" in popen_kwargs:
        raise TypeError("start() sets start_new_session and preexec_fn itself")
    popen_kwargs.setdefault("stdin", subprocess.DEVNULL)  # a tty would be shared with us
    process = subprocess.Popen(list(command), start_new_session=True,
                               preexec_fn=_child_setup(os.getpid()), **popen_kwargs)
    _live.add(process)
    return process


def _exited(process: _Process) -> bool:
    """True once the child has exited, without reaping it: while it is a zombie its pid,
    which names its process group, cannot be given to another process."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(process: _Process, signum: int) -> None:
    if process.returncode is not None:
        return  # reaped: its pid (the group's name) may belong to another process now
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone (PermissionError: macOS, for a group of zombies)


def stop(process: _Process, grace: float = STOP_GRACE) -> int:
    """End the child and every process in its group: SIGTERM, then SIGKILL after `grace`
    seconds; return the child's exit status. Safe to call again."""
    if process.returncode is None:
        _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while not _exited(process) and time.monotonic() < deadline:
            time.sleep(_POLL)
        # What is left of the group: the child if it ignored SIGTERM, and whatever it
        # started that did not follow it (make's compilers).
        _signal_group(process, signal.SIGKILL)
    status = process.wait()
    _live.discard(process)
    return status


def kill_all() -> None:
    """SIGKILL every child start() started and no one stopped yet, with its group. For a
    forced exit: it does not wait."""
    for process in list(_live):
        _signal_group(process, signal.SIGKILL)


@contextmanager
def stopping_leftovers() -> Iterator[None]:
    """Children started inside the block and still running when it ends are stopped:
    the CLI's net under the with blocks that should have stopped them."""
    before = set(_live)
    try:
        yield
    finally:
        for process in list(_live - before):
            stop(process)


@overload
def run(command: Sequence[str], *, timeout: float | None = None, capture_output: bool = False,
        input: str | None = None, check: bool = False, text: Literal[True],
        **popen_kwargs: Any) -> subprocess.CompletedProcess[str]: ...
@overload
def run(command: Sequence[str], *, timeout: float | None = None, capture_output: bool = False,
        input: str | bytes | None = None, check: bool = False,
        **popen_kwargs: Any) -> subprocess.CompletedProcess[Any]: ...
def run(command: Sequence[str], *, timeout: float | None = None, capture_output: bool = False,
        input: str | bytes | None = None, check: bool = False,
        **popen_kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """subprocess.run(command, ...) through start(): on a timeout, or any exception while
    waiting (Ctrl-C, a stop signal), the child's whole group is stopped before it goes on.
    Raises subprocess.TimeoutExpired (with the output so far) and, with check,
    CalledProcessError, as subprocess.run does."""
    if capture_output:
        popen_kwargs["stdout"] = popen_kwargs["stderr"] = subprocess.PIPE
    if input is not None:
        popen_kwargs["stdin"] = subprocess.PIPE
    process = start(command, **popen_kwargs)
    with process:  # closes the pipes
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            stop(process)
            e.stdout, e.stderr = process.communicate()  # what it wrote before it ended
            raise
        except BaseException:
            stop(process)
            raise
        _live.discard(process)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result
