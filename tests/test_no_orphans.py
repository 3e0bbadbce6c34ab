"""No process drip-tiny starts outlives it (drip_tiny/child_processes.py; the table of
what happens on each signal is in docs/reliability.md).

`drip-tiny emulate` and `drip-tiny hil --board` are stopped mid-stream by SIGINT, SIGTERM
and SIGHUP on the host board and on QEMU (mps2-an386): every child they had is gone by
the time they exit, and the serial port (QEMU's TCP port, the host board's pseudo-terminal)
is free. SIGKILL, which drip-tiny cannot handle, is followed by the kernel's death signal.
A second signal while stopping kills at once. `drip-tiny export` stopped while make runs
takes make and the compilers with it; `drip-tiny experiment` its worker processes.

The children are read from /proc (Linux). Waits poll with generous limits, as hang
guards only; where a child could end by itself before the signal reaches it, the test
freezes it (SIGSTOP) first.
"""

import errno
import fcntl
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from firmware_build import exported, fitted_copy

from drip_tiny import child_processes
from drip_tiny.hil.stream import split_inputs
from drip_tiny.link import Device, open_port

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 120.0
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
BOARD_PROGRAMS = {"host": "firmware", "mps2-an386": "qemu-system-arm"}

pytestmark = [pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                 reason="Linux only: reads processes from /proc"),
              pytest.mark.may_skip_in_ci("Linux only, not a missing tool")]

# `python -m drip_tiny ...` with SIGINT, SIGTERM and SIGHUP handled as a terminal would
# deliver them, even when this test runs where one is ignored (a background job, nohup).
_DRIP_TINY = ("import runpy, signal, sys\n"
              "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
              "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
              "signal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
              "sys.argv[0] = 'drip-tiny'\n"
              "runpy.run_module('drip_tiny', run_name='__main__', alter_sys=True)\n")


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("orphans") / "run")


@pytest.fixture(scope="module")
def host_export(run, tmp_path_factory):
    return exported(run, "host", tmp_path_factory)


@pytest.fixture(scope="module")
def mps2_export(run, tmp_path_factory):
    return exported(run, "mps2-an386", tmp_path_factory)


def _export(board, request):
    return request.getfixturevalue("host_export" if board == "host" else "mps2_export")


# ---- processes, from /proc ----

def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


class Proc:
    """A process as it was seen: pid and start time, so a reused pid is not taken for it."""

    def __init__(self, pid: int):
        fields = _stat(pid)
        assert fields is not None, f"process {pid} is gone"
        self.pid, self.started = pid, fields[19]
        try:
            self.argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            self.argv = [b""]
        self.program = os.path.basename(self.argv[0].decode(errors="replace"))

    def alive(self) -> bool:
        """Running, or dead but not yet reaped by anyone (a zombie counts as alive here:
        drip-tiny reaps what it stops)."""
        fields = _stat(self.pid)
        return fields is not None and fields[19] == self.started

    def running(self) -> bool:
        fields = _stat(self.pid)
        return fields is not None and fields[19] == self.started and fields[0] != "Z"

    def __repr__(self):
        return f"{self.program}[{self.pid}]"


def descendants(pid: int) -> list[Proc]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                found.append(Proc(child))
            except AssertionError:
                continue  # ended while we looked
            todo.append(child)
    return found


def wait_until(predicate, what: str, timeout: float = HANG_GUARD):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"hang guard: {what} after {timeout:g} s"
        time.sleep(0.02)


def the_board(proc: subprocess.Popen, board: str) -> Proc:
    """The one emulated-board process under drip-tiny (it may also be running a tool)."""
    def find():
        boards = [p for p in descendants(proc.pid) if p.program == BOARD_PROGRAMS[board]]
        assert proc.poll() is None, "drip-tiny ended before its board started"
        return boards
    boards = wait_until(find, f"no {BOARD_PROGRAMS[board]} under drip-tiny")
    assert len(boards) == 1, boards
    return boards[0]


# ---- the serial port ----

class Port:
    """The board's serial port: QEMU's TCP port (from its command line) or the host
    board's pseudo-terminal (from its open files)."""

    def __init__(self, board: Proc):
        self.tcp = self.pty = None
        for arg in board.argv:
            m = re.match(rb"tcp:127\.0\.0\.1:(\d+),server=on", arg)
            if m:
                self.tcp = int(m.group(1))
        if self.tcp is None:
            for fd in os.listdir(f"/proc/{board.pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{board.pid}/fd/{fd}")
                except OSError:
                    continue
                if re.fullmatch(r"/dev/pts/\d+", target):
                    self.pty, self.pty_created = target, os.stat(target).st_ctime_ns
        assert self.tcp or self.pty, f"no serial port found for {board}"
        assert not self.free(), "the board's port is free while it runs"

    def free(self) -> bool:
        if self.tcp is not None:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", self.tcp))
                except OSError as e:
                    assert e.errno == errno.EADDRINUSE, e
                    return False
                return True
        try:  # the pty's node goes when its last holder closes it; a new one is another pty
            return os.stat(self.pty).st_ctime_ns != self.pty_created
        except FileNotFoundError:
            return True

    def __repr__(self):
        return f"tcp:{self.tcp}" if self.tcp else self.pty


# ---- drip-tiny as a subprocess ----

def drip_tiny(*args, log: Path | None = None, **popen) -> subprocess.Popen:
    """`drip-tiny ARGS...`; with log, its stderr goes to that file (not to a pipe: a child
    that outlived drip-tiny would hold a pipe open, and reading it would hang the test
    rather than fail it)."""
    command = [sys.executable, "-c", _DRIP_TINY, *map(str, args)]
    if log is None:
        return subprocess.Popen(command, cwd=ROOT, **popen)
    with open(log, "wb") as f:
        proc = subprocess.Popen(command, cwd=ROOT, stderr=f, **popen)
    proc.log = log
    return proc


def said(proc: subprocess.Popen) -> str:
    return proc.log.read_text(errors="replace")


def read_line(stream, proc, timeout: float = HANG_GUARD) -> str:
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        assert time.monotonic() < deadline, f"hang guard: no line after {timeout:g} s"
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            byte = os.read(stream.fileno(), 1)
            assert byte, f"drip-tiny ended ({proc.poll()}) before printing a line"
            line += byte
    return line.decode()


def wait_exit(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def expected_exit(command: str, sig: int) -> int:
    if sig == signal.SIGINT:
        return 0 if command == "emulate" else 130  # Ctrl-C is how emulate is meant to end
    return 128 + sig


def assert_stopped_everything(children: list[Proc], port: Port) -> None:
    """Right as drip-tiny has exited: it stopped and reaped every child itself (the death
    signal, which would catch them later, is for when it cannot), and the port is free."""
    assert children
    assert [c for c in children if c.alive()] == []
    assert port.free(), f"{port} is still held"


@pytest.fixture
def leftovers():
    """Processes a test saw: whatever still runs at its end is killed, so that a failing
    test leaves no orphan either."""
    seen: list = []
    yield seen
    for p in seen:
        if isinstance(p, subprocess.Popen):
            p.kill()
            p.wait()
            for pipe in (p.stdin, p.stdout, p.stderr):
                if pipe is not None:
                    pipe.close()
        elif p.running():
            os.kill(p.pid, signal.SIGKILL)


# ---- emulate ----

def _emulate_mid_stream(board, export, tmp_path, leftovers):
    """drip-tiny emulate serving a client that has classified a sample, and is connected."""
    proc = drip_tiny("emulate", "--board", board, "--image", export,
                     log=tmp_path / "stderr.txt", stdout=subprocess.PIPE)
    leftovers.append(proc)
    line = read_line(proc.stdout, proc)
    assert line.startswith("serial "), line
    device = Device(open_port(line.split(" ", 1)[1].strip()))
    assert device.identify().board == board
    assert device.classify(bytes(device.identity.input_bytes)).logits.size == 10
    return proc, device


def _children(proc, board, leftovers) -> tuple[list[Proc], Port]:
    board_process = the_board(proc, board)
    children = descendants(proc.pid)
    leftovers.extend(children)
    return children, Port(board_process)


@pytest.mark.parametrize("board", ["host", "mps2-an386"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_emulate_stopped_by_a_signal_leaves_no_process_and_frees_the_port(board, sig, request,
                                                                           tmp_path, leftovers):
    proc, device = _emulate_mid_stream(board, _export(board, request), tmp_path, leftovers)
    with device:
        children, port = _children(proc, board, leftovers)
        proc.send_signal(sig)
        code = wait_exit(proc)
    assert_stopped_everything(children, port)
    assert code == expected_exit("emulate", sig), said(proc)
    if sig != signal.SIGINT:
        assert f"stopped by {sig.name}" in said(proc)


@pytest.mark.parametrize("board", ["host", "mps2-an386"])
def test_emulate_killed_takes_its_board_with_it(board, request, tmp_path, leftovers):
    proc, device = _emulate_mid_stream(board, _export(board, request), tmp_path, leftovers)
    with device:
        children, port = _children(proc, board, leftovers)
        proc.kill()  # SIGKILL: drip-tiny runs no code; the kernel's death signal acts
        assert wait_exit(proc) == -signal.SIGKILL
        wait_until(lambda: not any(c.running() for c in children), f"{children} still run")
        wait_until(port.free, f"{port} still held")


def test_a_second_signal_while_stopping_kills_the_board_at_once(host_export, tmp_path,
                                                                leftovers):
    proc, device = _emulate_mid_stream("host", host_export, tmp_path, leftovers)
    with device:
        children, _ = _children(proc, "host", leftovers)
        # Both signals wait while emulate is frozen; resumed, it takes one, and the other
        # arrives while that one unwinds (Python runs one handler per check).
        os.kill(proc.pid, signal.SIGSTOP)
        proc.terminate()
        proc.send_signal(signal.SIGHUP)
        os.kill(proc.pid, signal.SIGCONT)
        code = wait_exit(proc)
    second = {128 + signal.SIGTERM: "SIGTERM", 128 + signal.SIGHUP: "SIGHUP"}
    assert code in second, said(proc)
    assert f"{second[code]} while stopping; killed its processes" in said(proc)
    wait_until(lambda: not any(c.running() for c in children), f"{children} still run")


# ---- hil ----

def _hil_mid_stream(board, run, export, tmp_path, leftovers):
    """drip-tiny hil streaming to the board, once its progress bar shows a sample done;
    stderr is a pseudo-terminal, so the bar is drawn. Returns (proc, pty master, what it
    drew so far)."""
    if board == "host":
        # The host board answers ~1000 samples/s: stream enough that it is still going.
        x, _ = split_inputs(run, "production")
        samples = tmp_path / "many.npy"
        np.save(samples, np.concatenate([x] * 4))
        source = ["--samples", samples]
    else:
        source = ["--split", "production"]  # ~50 samples/s under QEMU
    master, slave = os.openpty()
    # A terminal 100 columns wide: tqdm draws nothing on one of width 0.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = drip_tiny("hil", run, "--board", board, "--image", export, *source,
                     "--raw-link", "0", "--timeout", "10",
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    leftovers.append(proc)
    os.close(slave)
    text = b""
    deadline = time.monotonic() + HANG_GUARD * 2  # the reference is computed first
    while True:
        assert time.monotonic() < deadline, f"hang guard: no progress in {text[-300:]!r}"
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                text += os.read(master, 4096)
            except OSError:  # EIO: drip-tiny closed its terminal
                os.close(master)
                pytest.fail(f"hil ended before streaming: {text.decode(errors='replace')}")
        done = _progress(text)
        if done and done[0] >= 1:
            return proc, master, text


def _progress(text: bytes) -> tuple[int, int] | None:
    found = re.findall(rb"hil:[^\r\n]*?(\d+)/(\d+) \[", text)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def _drain(master: int, proc: subprocess.Popen) -> bytes:
    """Everything drip-tiny still writes to its terminal, until it exits."""
    text = b""
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
        elif proc.poll() is not None:
            break
    return text


@pytest.mark.parametrize("board", ["host", "mps2-an386"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_hil_stopped_mid_stream_leaves_no_process_and_frees_the_port(board, sig, run, request,
                                                                      tmp_path, leftovers):
    proc, master, drawn = _hil_mid_stream(board, run, _export(board, request), tmp_path,
                                          leftovers)
    try:
        children, port = _children(proc, board, leftovers)
        proc.send_signal(sig)
        rest = _drain(master, proc)
        code = wait_exit(proc)
    finally:
        os.close(master)
    assert_stopped_everything(children, port)
    done, total = _progress(drawn + rest)
    assert done < total, "the stream had ended before the signal"
    message = rest.decode(errors="replace")
    assert code == expected_exit("hil", sig), message
    assert ("interrupted" if sig == signal.SIGINT else f"stopped by {sig.name}") in message


def test_hil_killed_takes_its_board_with_it(run, host_export, tmp_path, leftovers):
    proc, master, _ = _hil_mid_stream("host", run, host_export, tmp_path, leftovers)
    try:
        children, port = _children(proc, "host", leftovers)
        proc.kill()
        assert wait_exit(proc) == -signal.SIGKILL
    finally:
        os.close(master)
    wait_until(lambda: not any(c.running() for c in children), f"{children} still run")
    wait_until(port.free, f"{port} still held")


# ---- export: make and the compilers ----

def _export_while_make_runs(run, out, leftovers):
    """drip-tiny export once make builds the project: (proc, make, what make started)."""
    from boards_common import require_tools

    require_tools("make", "arm-none-eabi-gcc")
    proc = drip_tiny("export", run, "--board", "mps2-an386", "--out", out,
                     log=out.with_name("stderr.txt"), stdout=subprocess.DEVNULL)
    leftovers.append(proc)

    def building():
        assert proc.poll() is None, f"export ended before make was seen: {said(proc)}"
        tree = descendants(proc.pid)
        make = [p for p in tree if p.program == "make" and b"-C" in p.argv]
        below = [p for p in tree if make and p.pid != make[0].pid]
        return (make[0], below) if make and below else None
    make, below = wait_until(building, "no make compiling under drip-tiny export")
    leftovers.extend([make, *below])
    return proc, make, below


def test_export_stopped_by_sigterm_stops_make_and_the_compilers(run, tmp_path, leftovers):
    proc, make, compilers = _export_while_make_runs(run, tmp_path / "out", leftovers)
    # Frozen, the compilers cannot end by themselves: only the signal to make's group can.
    for p in compilers:
        if p.running():
            os.kill(p.pid, signal.SIGSTOP)
    proc.terminate()
    code = wait_exit(proc)
    assert code == 128 + signal.SIGTERM and "stopped by SIGTERM" in said(proc), said(proc)
    assert not make.alive()  # stopped and reaped by drip-tiny
    wait_until(lambda: not any(p.running() for p in compilers), f"{compilers} still run")
    # Nothing was written: neither the project nor the staging folder beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["stderr.txt"]


def test_export_killed_takes_make_with_it(run, tmp_path, leftovers):
    proc, make, _ = _export_while_make_runs(run, tmp_path / "out", leftovers)
    os.kill(make.pid, signal.SIGSTOP)  # so that make cannot finish by itself
    proc.kill()
    assert wait_exit(proc) == -signal.SIGKILL
    # The death signal reaches make; the compilers it had started finish their file.
    wait_until(lambda: not make.running(), f"{make} still runs")


# ---- child_processes.run ----

def test_stop_ends_the_childs_whole_group():
    shell = child_processes.start(["sh", "-c", "sleep 600 & echo $!; wait"],
                                  stdout=subprocess.PIPE)
    with shell:
        sleep = Proc(int(read_line(shell.stdout, shell)))
        assert sleep.running()
        assert child_processes.stop(shell) == -signal.SIGTERM
    wait_until(lambda: not sleep.running(), f"{sleep} still runs")
    assert shell not in child_processes._live


def test_run_that_times_out_stops_the_whole_group():
    # Until the shell has started its sleep within the time limit (a busy machine may
    # need longer): then the sleep must end with it.
    for timeout in (2, 10, 60):
        with pytest.raises(subprocess.TimeoutExpired) as caught:
            child_processes.run(["sh", "-c", "sleep 600 & echo $!; wait"],
                                capture_output=True, text=True, timeout=timeout)
        if caught.value.stdout:
            break
    sleep = int(caught.value.stdout.split()[0])  # the output so far comes with the error
    wait_until(lambda: _stat(sleep) is None or _stat(sleep)[0] == "Z", f"sleep {sleep} runs")


# ---- experiment: the worker processes ----

def _experiment_with_workers(out, leftovers, *, trained: bool):
    """drip-tiny experiment once its two workers run (trained: once they have TensorFlow
    loaded, so past the start where they ask for the death signal)."""
    proc = drip_tiny("experiment", "--dataset", "digits", "--runs", "4", "--epochs", "40",
                     "--jobs", "2", "--out", out, "--quiet",
                     log=out.with_name("stderr.txt"), stdout=subprocess.DEVNULL)
    leftovers.append(proc)

    def loaded(p: Proc) -> bool:
        try:
            return "tensorflow" in Path(f"/proc/{p.pid}/maps").read_text()
        except OSError:
            return False

    def started():
        assert proc.poll() is None, f"experiment ended: {said(proc)}"
        tree = descendants(proc.pid)
        workers = [p for p in tree if b"spawn_main" in b" ".join(p.argv)]
        ready = len(workers) == 2 and (not trained or all(loaded(w) for w in workers))
        return (tree, workers) if ready else None
    tree, workers = wait_until(started, "no two experiment workers")
    leftovers.extend(tree)
    return proc, tree, workers


def test_experiment_stopped_by_sigterm_ends_its_workers_at_once(tmp_path, leftovers):
    out = tmp_path / "exp"
    proc, tree, workers = _experiment_with_workers(out, leftovers, trained=False)
    proc.terminate()
    code = wait_exit(proc)
    assert code == 128 + signal.SIGTERM and "stopped by SIGTERM" in said(proc), said(proc)
    assert [w for w in workers if w.alive()] == []  # ended and reaped, not left to finish
    wait_until(lambda: not any(p.running() for p in tree), f"{tree} still run")
    assert len(list((out / "runs").glob("run_*.json"))) < 4  # the queued runs did not run


def test_experiment_killed_takes_its_workers_with_it(tmp_path, leftovers):
    proc, tree, _ = _experiment_with_workers(tmp_path / "exp", leftovers, trained=True)
    proc.kill()
    assert wait_exit(proc) == -signal.SIGKILL
    wait_until(lambda: not any(p.running() for p in tree), f"{tree} still run")
