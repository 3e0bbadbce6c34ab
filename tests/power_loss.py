"""Power loss at the application level on the host board (issue 9).

The host firmware, built with a small store and the overwrite-oldest policy, runs a fixed
workload (keep-everything thresholds, CLASSIFY until the store fills and wraps, STORE_ERASE,
more CLASSIFY, another erase, more CLASSIFY) with `--cut-at N[,clean|low|high]`: at the
N-th flash operation the process writes what the flash holds and dies (exit 3). It is
then restarted on the same flash file and checked:

- every sample acknowledged as stored (CLASSIFY store result 0) and neither erased by an
  acknowledged STORE_ERASE nor evicted by the policy (in the uncut reference run, it is
  still there after the request that was cut) is listed and read back byte-exact;
- STORE_READ never returns wrong bytes for any listed index; ERR_STORE is accepted only
  for a sample that was not guaranteed (the one being written, or being evicted);
- the store keeps working: a new CLASSIFY is stored and read back exact.

Used by tests/test_reliability_power_loss.py (a slice) and scripts/power-loss-sweep.py
(every N)."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from firmware_build import build_host_firmware
from firmware_device import cobs_decode, frame, packet, parse_reply

from drip_tiny.link.protocol import Command, Status, StoreResult

# The command codes come from the host's protocol module (checked against dt_wire.h).
IDENTIFY, CLASSIFY, STORE_LIST, STORE_READ, STORE_ERASE = (
    Command.IDENTIFY, Command.CLASSIFY, Command.STORE_LIST, Command.STORE_READ,
    Command.STORE_ERASE)
SET_THRESHOLDS = Command.SET_THRESHOLDS
ERR_STORE = Status.ERR_STORE
CUT_EXIT = 3
MODES = ("clean", "low", "high")

# 4 pages of 256 bytes: two digits samples a page, so the workload fills and wraps often.
SMALL_STORE = ["DT_HOST_STORE_PAGES=4", "DT_HOST_PAGE_BYTES=256",
               "DT_APP_STORE_POLICY=DT_STORE_FULL_OVERWRITE_OLDEST"]
# 12 pages of 64 bytes (36 for records): each 64-byte digits sample spans three pages, four
# fill the store, and wrapping drops pages that hold the heads of samples. The settings
# pages stay 256 bytes, room for a thresholds record.
SPANNING_STORE = ["DT_HOST_STORE_PAGES=12", "DT_HOST_PAGE_BYTES=64",
                  "DT_HOST_SETTINGS_PAGE_BYTES=256",
                  "DT_APP_STORE_POLICY=DT_STORE_FULL_OVERWRITE_OLDEST"]
# The host board's own store (16 pages of 4 KB): a one-second audio clip of 16,000 bytes
# spans four pages, four clips fill it.
AUDIO_STORE = ["DT_APP_STORE_POLICY=DT_STORE_FULL_OVERWRITE_OLDEST"]
STORES = {"small": SMALL_STORE, "spanning": SPANNING_STORE, "audio": AUDIO_STORE}


class PowerCut(Exception):
    """The firmware process died at its cut (exit 3)."""


def build(run, out_dir, sanitize=True, store: str = "small") -> Path:
    return build_host_firmware(run, out_dir, defines=STORES[store], sanitize=sanitize)


def keep_all_thresholds(classes: int = 10) -> bytes:
    """Thresholds that keep every sample (no class has thresholds), so each CLASSIFY writes."""
    import zlib
    record = b"".join(struct.pack("<ffB", 0.0, 0.0, 0) for _ in range(classes))
    return struct.pack("<HI", classes, zlib.crc32(record)) + record


def workload(samples: np.ndarray, classes: int = 10) -> list[tuple[int, bytes]]:
    """The requests: thresholds, 14 samples (fill the store and wrap), erase, 5, erase, 4."""
    steps = [(SET_THRESHOLDS, keep_all_thresholds(classes))]
    k = 0

    def take(n):
        nonlocal k
        for _ in range(n):
            steps.append((CLASSIFY, samples[k % len(samples)].tobytes()))
            k += 1
    take(14)
    steps.append((STORE_ERASE, b""))
    take(5)
    steps.append((STORE_ERASE, b""))
    take(4)
    return steps


class Firmware:
    """One firmware process over pipes; unlike tests/firmware_device.Device it expects to
    die at its cut and reports that as PowerCut."""

    def __init__(self, exe, flash, cut: str | None = None, timeout: float = 20.0):
        args = [str(exe), "--stdio", "--flash", str(flash)]
        if cut is not None:
            args += ["--cut-at", cut]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.timeout = timeout
        self.pending = bytearray()
        self.sequence = 0
        self._send(b"\x00")

    def _send(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._died()

    def _died(self):
        code = self.proc.wait(timeout=self.timeout)
        err = self.proc.stderr.read().decode(errors="replace")
        self._close_pipes()
        if code == CUT_EXIT and "power cut" in err:
            raise PowerCut(err)
        raise AssertionError(f"firmware exited {code}: {err}")

    def request(self, command: int, payload: bytes = b""):
        self.sequence = (self.sequence + 1) & 0xFFFF
        self._send(frame(packet(command, self.sequence, payload)))
        fd = self.proc.stdout.fileno()
        while b"\x00" not in self.pending:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            assert ready, "the firmware did not answer in time"
            chunk = os.read(fd, 65536)
            if not chunk:
                self._died()
            self.pending += chunk
        end = self.pending.index(0)
        reply = parse_reply(cobs_decode(bytes(self.pending[:end])))
        del self.pending[:end + 1]
        assert reply.sequence == self.sequence and reply.command == command | 0x80
        return reply

    def ok(self, command: int, payload: bytes = b"") -> bytes:
        reply = self.request(command, payload)
        assert reply.status == 0, f"command {command:#x}: status {reply.status}: {reply.message}"
        return reply.body

    def close(self) -> str:
        """End of input: exit 0; returns stderr (empty unless --cut-at 0 was given)."""
        self.proc.stdin.close()
        code = self.proc.wait(timeout=self.timeout)
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert code == 0, f"firmware exited {code}: {err}"
        return err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=self.timeout)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except BrokenPipeError:
                pass  # stdin's unflushed bytes had nowhere to go: the process is gone


def classify_index(body: bytes) -> tuple[int, int]:
    """(store result, store index) of a CLASSIFY reply body (docs/protocol.md): 23 bytes
    and one logit per class."""
    classes = len(body) - 23
    return struct.unpack_from("<BI", body, 1 + classes + 5)


def listed(fw: Firmware) -> dict[int, int]:
    """STORE_LIST paged through: {index (position now): sample id}."""
    entries: dict[int, int] = {}
    while True:
        body = fw.ok(STORE_LIST, struct.pack("<IH", len(entries), 1000))
        (n,) = struct.unpack_from("<H", body)
        if n == 0:
            return entries
        for i in range(n):
            index, sample_id = struct.unpack_from("<II", body, 2 + 17 * i)
            entries[index] = sample_id


@dataclass
class Reference:
    """The uncut run: what each step stores and what is present after each step."""
    stored: dict[int, bytes] = field(default_factory=dict)   # sample id -> sample bytes
    step_index: list[int | None] = field(default_factory=list)  # CLASSIFY step -> index
    step_id: list[int | None] = field(default_factory=list)     # CLASSIFY step -> id
    present_after: list[set[int]] = field(default_factory=list)  # ids
    present_before: set[int] = field(default_factory=set)
    operations: int = 0


def reference_run(exe, flash: Path, steps) -> Reference:
    flash.unlink(missing_ok=True)
    ref = Reference()
    fw = Firmware(exe, flash, cut="0")
    ref.present_before = set(listed(fw).values())
    for command, payload in steps:
        body = fw.ok(command, payload)
        entries = listed(fw)
        index = sample_id = None
        if command == CLASSIFY:
            result, index = classify_index(body)
            assert result == StoreResult.STORED, f"the keep-everything workload did not store (result {result})"
            sample_id = entries[index]
            assert sample_id not in ref.stored
            ref.stored[sample_id] = payload
        ref.step_index.append(index)
        ref.step_id.append(sample_id)
        ref.present_after.append(set(entries.values()))
    err = fw.close()
    ref.operations = int(err.split("flash operations:")[1].split()[0])
    return ref


@dataclass
class Outcome:
    cut: str
    died_at_step: int | None      # the step that was running when power went; None: no cut
    guaranteed: int               # acknowledged samples that had to survive
    lost: list[int]               # guaranteed sample ids missing or unreadable
    corrupt: list[int]            # sample ids whose read returned wrong bytes
    unreadable_ok: list[int]      # ERR_STORE on a sample that was not guaranteed
    works_after: bool


def run_cut(exe, flash: Path, steps, ref: Reference, n: int, mode: str) -> Outcome:
    flash.unlink(missing_ok=True)
    cut = f"{n},{mode}"
    fw = Firmware(exe, flash, cut=cut)
    acked: dict[int, bytes] = {}
    died_at = None
    try:
        for step, (command, payload) in enumerate(steps):
            died_at = step
            body = fw.ok(command, payload)
            if command == CLASSIFY:
                result, index = classify_index(body)
                assert result == StoreResult.STORED and index == ref.step_index[step], (cut, step, result, index)
                acked[ref.step_id[step]] = payload
            elif command == STORE_ERASE:
                acked.clear()
        died_at = None
        fw.close()
    except PowerCut:
        pass
    if died_at is None:
        return Outcome(cut, None, 0, [], [], [], True)
    # Which acknowledged samples must have survived: present both before the cut step and
    # after it in the uncut run (the step may erase or evict the rest by design).
    before = ref.present_after[died_at - 1] if died_at > 0 else ref.present_before
    must = {i for i in acked if i in before and i in ref.present_after[died_at]}
    fw = Firmware(exe, flash)
    try:
        on_flash = listed(fw)
        lost, corrupt, unreadable = [], [], []
        for index, listed_id in on_flash.items():
            reply = fw.request(STORE_READ, struct.pack("<I", index))
            if reply.status == ERR_STORE:
                (lost if listed_id in must else unreadable).append(listed_id)
                continue
            assert reply.status == 0, (cut, index, reply.status, reply.message)
            sample_id = struct.unpack_from("<I", reply.body)[0]
            if sample_id != listed_id or reply.body[9:] != ref.stored.get(sample_id):
                corrupt.append(sample_id)
        lost += sorted(must - set(on_flash.values()))
        # The store keeps working: thresholds again (the cut may have hit them), one more.
        fw.ok(SET_THRESHOLDS, steps[0][1])
        sample = steps[1][1]
        result, index = classify_index(fw.ok(CLASSIFY, sample))
        works = False
        if result == StoreResult.STORED:
            reply = fw.request(STORE_READ, struct.pack("<I", index))
            works = reply.status == 0 and reply.body[9:] == sample
        fw.close()
    except BaseException:
        fw.kill()
        raise
    return Outcome(cut, died_at, len(must), lost, corrupt, unreadable, works)


def sweep(exe, work: Path, samples: np.ndarray, points=None, modes=MODES, progress=None,
          classes: int = 10):
    """Runs the cuts; returns (reference, outcomes, seconds)."""
    work.mkdir(parents=True, exist_ok=True)
    steps = workload(samples, classes)
    start = time.monotonic()
    ref = reference_run(exe, work / "reference.bin", steps)
    points = range(1, ref.operations + 1) if points is None else points
    outcomes = []
    for n in points:
        for mode in modes:
            outcomes.append(run_cut(exe, work / "cut.bin", steps, ref, n, mode))
            if progress:
                progress(outcomes[-1])
    return ref, outcomes, time.monotonic() - start


def classes_of(run) -> int:
    import json

    return len(json.loads((Path(run) / "metadata.json").read_text())["dataset"]["class_names"])


def production_samples(run, count: int = 16) -> np.ndarray:
    """The run's first production samples, quantized to the model's int8 input."""
    from drip_tiny.run.directory import load_split
    from drip_tiny.tflite.tflm_reference import TflmModel, quantize

    inp = TflmModel((Path(run) / "model.tflite").read_bytes()).info.inputs[0]
    x, _ = load_split(Path(run), "production")
    return quantize(x[:count], inp.scale, inp.zero_point).reshape(count, -1).astype(np.int8)
