"""Stream samples to a device and check every answer against the Python reference.

The reference is the one the thresholds were fitted on: TFLM's interpreter for the
predicted class and the raw int8 logits (bit-exact), the int8 Grad-CAM in Python for the
DRIPS (the C kernel computes it in float32 exactly as the reference does, so equal bits
are expected; a relative tolerance of 1e-5 is allowed) and the decision.

Pipelined (link/pipeline.py): up to `window` CLASSIFY requests in flight, capped by the
device's replay depth, so any of them can be resent without running twice. Every sample
gets exactly one entry in the result, in order.

Device resets during a stream (docs/hil.md): STATISTICS' `classified` counts the CLASSIFY
requests the device executed since it booted (a replayed reply is not counted). The host
knows how many distinct samples it got answers for, so after a baseline taken at the
start, `classified` must equal baseline + answered once nothing is in flight. Smaller
means the device rebooted (its counters restarted). The host drains the pipeline and
checks after any retransmission, every `check_every` samples and at the end; when
requests get no answer at all it waits for the device to answer IDENTIFY again, checks
both hashes again, resends the samples in flight, and records the event; a reset while a
kept sample was being stored can store it twice, which the event's `stored` counts show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, SupportsInt, TypedDict, cast

import numpy as np
import numpy.typing as npt

from drip_tiny.drip.thresholds import Thresholds
from drip_tiny.errors import ConfigError, DeviceError, LinkError
from drip_tiny.link import protocol as p
from drip_tiny.link.classify_window import SLOWEST_LINK_BYTES_PER_SECOND, window_for
from drip_tiny.link.client import Device, check_identity
from drip_tiny.run import directory as rundir

DRIPS_RTOL = 1e-5
CHECK_EVERY = 100  # samples between STATISTICS checks for a silent reset
DEFAULT_WINDOW = 8  # CLASSIFY in flight (the firmware keeps 8 replies; docs/hil.md)
RECOVER_SECONDS = 10.0  # how long a silent device may take to come back after a reset
FIELDS = ("predicted", "logits", "drips", "decision")

Progress = Callable[[int], object]  # told how many more samples were answered (tqdm.update)


class Mismatch(TypedDict):
    """One field of one answer that differs from the reference."""
    index: int
    field: str  # one of FIELDS
    device: object  # the field's value: an int, a list of logits, a float or a bool
    reference: object


class ResetEvent(TypedDict):
    """A device reset or a recovery during a stream (_on_reset)."""
    index: int
    context: str
    reason: str
    reset: bool
    classified: int
    expected_classified: int
    stored_before_stream: int
    stored_now: int
    stored_by_stream: int
    duplicate_stores: int | None  # None: the store does not stop when full


class Summary(TypedDict):
    """StreamResult.summary(): the short totals."""
    samples: int
    agree: int
    mismatches: list[Mismatch]
    accuracy: float | None
    kept: int
    discarded: int
    storage_savings: float
    stored: int
    store_failures: int
    store_full: int
    cycles_inference: float | None
    cycles_drip: float | None
    cycles_store_when_stored: float | None
    seconds: float
    samples_per_second: float | None
    resets: list[ResetEvent]


class RawLink(TypedDict):
    """measure_raw_link's rates."""
    frames: int
    window: int
    seconds: float
    cpu_seconds: float
    frames_per_second: float
    bytes_per_second: float
    bytes_sent: int
    bytes_received: int
    harness_fraction: NotRequired[float | None]  # the hil command adds it


@dataclass(frozen=True)
class RunReference:
    """What the device must answer for a run, and the hashes that identify it."""
    model_hash: int  # DRIP_MODEL_HASH: the first 4 bytes of the .tflite's sha256
    thresholds_hash: int  # DRIP_THRESHOLDS_HASH
    thresholds: Thresholds
    variant: str


def run_reference(run: Path) -> RunReference:
    import hashlib

    from drip_tiny.drip.kernel_codegen import thresholds_hash

    run = rundir.check_run(run)
    thresholds = Thresholds.load(run / rundir.THRESHOLDS)
    digest = hashlib.sha256((run / rundir.MODEL_TFLITE).read_bytes()).digest()
    return RunReference(model_hash=int.from_bytes(digest[:4], "big"),
                        thresholds_hash=thresholds_hash(thresholds), thresholds=thresholds,
                        variant=thresholds.variant)


def port_name(device: Device) -> str:
    port = device.port
    return str(getattr(port, "port", None) or getattr(port, "name", None) or port)


@dataclass
class StreamResult:
    samples: int = 0
    labels: list[int] | None = field(default_factory=list)  # None: unlabelled inputs
    inputs: np.ndarray | None = None  # the int8 samples sent, one row each
    device: list[p.Classification] = field(default_factory=list)
    expected_predicted: np.ndarray | None = None
    expected_logits: np.ndarray | None = None
    expected_drips: np.ndarray | None = None
    expected_keep: np.ndarray | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    resets: list[ResetEvent] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time while streaming (all its threads)
    window: int = 1  # CLASSIFY requests in flight (the device's replay depth caps it)
    peak_in_flight: int = 0  # the most that were out at once: the window, unless n is smaller
    bytes_sent: int = 0
    bytes_received: int = 0
    retransmissions: int = 0

    def summary(self) -> Summary:
        """The short totals (the full report is drip_tiny.hil.report.build_report)."""
        kept = sum(c.keep for c in self.device)
        stored = sum(c.store_result is p.StoreResult.STORED for c in self.device)
        failures = sum(c.store_result is p.StoreResult.ERROR for c in self.device)
        predicted = np.array([c.predicted for c in self.device])

        def mean(values: Iterable[int | None]) -> float | None:
            counted = [v for v in values if v is not None]
            return float(np.mean(counted)) if counted else None

        n = max(1, self.samples)
        accuracy = None
        if self.labels is not None and self.samples:
            accuracy = float(np.mean(predicted == np.array(self.labels)))
        return {
            "samples": self.samples,
            "agree": self.samples - len({m["index"] for m in self.mismatches}),
            "mismatches": self.mismatches,
            "accuracy": accuracy,
            "kept": kept, "discarded": self.samples - kept,
            "storage_savings": (self.samples - kept) / n,
            "stored": stored, "store_failures": failures,
            "store_full": sum(c.store_result is p.StoreResult.FULL for c in self.device),
            "cycles_inference": mean(c.cycles_inference for c in self.device),
            "cycles_drip": mean(c.cycles_drip for c in self.device),
            "cycles_store_when_stored": mean(c.cycles_store for c in self.device
                                             if c.store_result is p.StoreResult.STORED),
            "seconds": self.seconds,
            "samples_per_second": self.samples / self.seconds if self.seconds else None,
            "resets": self.resets,
        }


def expected_answers(run: Path, q: np.ndarray, reference: RunReference
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(predicted, logits, drips, keep) of the Python int8 reference for int8 samples q."""
    from drip_tiny.drip.run_model import int8_gradcam_for_run

    scored = int8_gradcam_for_run(run).score(q, reference.variant)
    keep = reference.thresholds.decide(scored.predicted, scored.drips)
    return scored.predicted, scored.logits, scored.drips.astype(np.float32), keep


def compare(i: int, got: p.Classification, predicted: SupportsInt, logits: npt.ArrayLike,
            drips: float | np.floating, keep: object) -> list[Mismatch]:
    """The fields of one answer that differ from the reference beyond tolerance."""
    out: list[Mismatch] = []
    if got.predicted != predicted:
        out.append({"index": i, "field": "predicted", "device": got.predicted,
                    "reference": int(predicted)})
    if not np.array_equal(got.logits, logits):
        out.append({"index": i, "field": "logits", "device": got.logits.tolist(),
                    "reference": np.asarray(logits).tolist()})
    ref = float(np.float32(drips))
    if not (got.drips == ref or abs(got.drips - ref) <= DRIPS_RTOL * abs(ref)):
        out.append({"index": i, "field": "drips", "device": got.drips, "reference": ref})
    if got.keep != bool(keep):
        out.append({"index": i, "field": "decision", "device": got.keep,
                    "reference": bool(keep)})
    return out


_compare = compare  # the name issue 7's callers used


def split_inputs(run: Path, split: str,
                 limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(float x, labels) of a run's split, the first `limit` samples."""
    x, y = rundir.load_split(run, split)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return np.asarray(x, dtype=np.float32), np.asarray(y)


def load_samples(path: Path) -> np.ndarray:
    """An .npy of inputs: float (the dataset's scale) or int8 (already quantized)."""
    path = Path(path)
    try:
        x: np.ndarray = np.load(path, allow_pickle=False)  # an .npy: one array
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read {path} as an .npy array: {e}") from e
    if x.dtype != np.int8 and not np.issubdtype(x.dtype, np.floating):
        raise ConfigError(f"{path} holds {x.dtype}; give float inputs (the dataset's scale) "
                          "or int8 samples already quantized with the model's input scale")
    if x.ndim < 1 or len(x) == 0:
        raise ConfigError(f"{path} holds no samples")
    return x


def quantize_inputs(x: np.ndarray, ident: p.Identity) -> np.ndarray:
    """int8 rows of input_bytes: int8 arrays as they are, floats with the device's input
    quantization."""
    from drip_tiny.tflite.tflm_reference import quantize

    q = x if x.dtype == np.int8 else quantize(np.asarray(x, dtype=np.float32),
                                              ident.input_scale, ident.input_zero_point)
    q = np.ascontiguousarray(q).reshape(len(q), -1)
    if q.shape[1] != ident.input_bytes:
        raise LinkError(f"the samples have {q.shape[1]} values each; the device takes "
                        f"{ident.input_bytes} (input shape {list(ident.input_shape)})")
    return q


def handshake(device: Device, reference: RunReference,
              check_thresholds: bool = True) -> p.Identity:
    ident = device.identify()
    check_identity(ident, reference.model_hash,
                   reference.thresholds_hash if check_thresholds else None)
    return ident


def stream_split(device: Device, run: Path, split: str = "production",
                 limit: int | None = None, progress: Progress | None = None,
                 check_thresholds: bool = True, window: int = DEFAULT_WINDOW) -> StreamResult:
    """Identify (refusing another model or other thresholds), then send every sample of the
    split (the first `limit`), comparing each answer with the reference."""
    x, y = split_inputs(run, split, limit)
    return stream_samples(device, run, x, y, progress=progress,
                          check_thresholds=check_thresholds, window=window)


def stream_samples(device: Device, run: Path, x: np.ndarray,
                   labels: Sequence[int] | np.ndarray | None = None, *,
                   progress: Progress | None = None,
                   check_thresholds: bool = True, check_every: int = CHECK_EVERY,
                   recover_seconds: float = RECOVER_SECONDS,
                   window: int = DEFAULT_WINDOW) -> StreamResult:
    """Send the samples x (float or int8, see quantize_inputs), up to `window` in flight
    (capped by the device's replay depth; 1 is stop-and-wait), and compare every answer
    with the reference. labels: one per sample, or None."""
    if labels is not None and len(labels) != len(x):
        raise ConfigError(f"{len(labels)} labels for {len(x)} samples")
    reference = run_reference(run)
    ident = handshake(device, reference, check_thresholds)
    q = quantize_inputs(x, ident)
    predicted, logits, drips, keep = expected_answers(
        run, q.reshape((len(q), *ident.input_shape)), reference)
    result = StreamResult(labels=None if labels is None else [int(v) for v in labels],
                          inputs=q, expected_predicted=predicted, expected_logits=logits,
                          expected_drips=drips, expected_keep=keep)
    written, read = device.bytes_written, device.bytes_read
    cpu = time.process_time()
    _stream(device, reference, q, result, progress, check_thresholds, check_every,
            recover_seconds, window)
    result.cpu_seconds = time.process_time() - cpu
    result.bytes_sent = device.bytes_written - written
    result.bytes_received = device.bytes_read - read
    return result


class _Tracker:
    """The reset rule: classified (since boot) == baseline + samples answered since."""

    def __init__(self, device: Device):
        self.baseline = device.statistics().classified
        self.answered = 0
        assert device.identity is not None  # _stream runs after the handshake
        self.stored = device.identity.stored

    def expected(self) -> int:
        return self.baseline + self.answered

    def rebase(self, classified: int) -> None:
        self.baseline = classified - self.answered


def _stream(device: Device, reference: RunReference, q: np.ndarray, result: StreamResult,
            progress: Progress | None, check_thresholds: bool, check_every: int,
            recover_seconds: float, window: int) -> None:
    from drip_tiny.link.classify_window import ClassifyPipeline

    ref_predicted, ref_logits = result.expected_predicted, result.expected_logits
    ref_drips, ref_keep = result.expected_drips, result.expected_keep
    # stream_samples sets the reference answers before it streams
    assert (ref_predicted is not None and ref_logits is not None and ref_drips is not None
            and ref_keep is not None)

    n = len(q)
    tracker = _Tracker(device)
    kept_stored = 0  # STORED answers since the stream began
    answers: list[p.Classification | None] = [None] * n
    start = time.perf_counter()
    retransmissions = device.retransmissions
    pipe = ClassifyPipeline(device, window)
    result.window = pipe.window
    sent = 0  # samples 0..sent-1 have gone out
    last_answered = -1
    check_due = False  # drain the pipeline, then compare STATISTICS with the tracker
    trouble: tuple[str, int] | None = None  # (context, sample) of a recovery to report
    probed = 0  # samples sent when the last STATISTICS probe went out
    probes_lost = 0
    while True:
        while not check_due and sent < n and pipe.room():
            if sent - probed >= check_every:
                # A probe in the stream: the device answers it after every sample sent
                # before it, so its counter must read baseline + sent (docs/hil.md).
                pipe.send_statistics(expected=tracker.baseline + sent)
                probed = sent
                continue
            pipe.send(sent, q[sent].tobytes())
            sent += 1
        if pipe.empty():
            if not check_due:
                break  # everything answered and checked
            classified = device.statistics().classified
            recovered = trouble is not None and trouble[0] == "no answer"
            if recovered or classified != tracker.expected():
                context, index = trouble or ("statistics check", last_answered)
                result.resets.append(_on_reset(device, reference, check_thresholds, index,
                                               context, tracker, kept_stored,
                                               classified=classified))
            check_due, trouble = False, None
            continue
        try:
            answer = pipe.next_answer()
        except DeviceError:
            raise  # the device answered, with an error: not a lost reply
        except LinkError as e:
            lost = min((entry.index for entry in pipe.in_flight.values()
                        if entry.index is not None), default=sent)
            if not _wait_for_device(device, recover_seconds):
                raise LinkError(f"the device stopped answering at sample {lost} (of {n}) "
                                f"on {port_name(device)}: {e}") from e
            # It answers IDENTIFY again (rebooted, or the link came back): the same model
            # and thresholds must be there before anything is resent. The samples in
            # flight go again; the check after the drain tells whether they had run.
            handshake(device, reference, check_thresholds)
            pipe.resend_all()
            check_due, trouble = True, ("no answer", lost)
            continue
        if pipe.probes_lost != probes_lost:  # a probe's reply was lost: check by draining
            probes_lost = pipe.probes_lost
            check_due = True
        if answer.index is None:
            # A probe's answer is its STATISTICS (None while it has none)
            if (isinstance(answer.result, p.Statistics)
                    and answer.result.classified != answer.expected):
                check_due = True  # a reset, or a lost sample: the drained check tells
            continue
        i, got = answer.index, answer.result
        assert isinstance(got, p.Classification)  # a sample's answer: its CLASSIFY reply
        answers[i] = got
        last_answered = max(last_answered, i)
        result.samples += 1
        tracker.answered += 1
        kept_stored += got.store_result is p.StoreResult.STORED
        result.mismatches += compare(i, got, ref_predicted[i], ref_logits[i], ref_drips[i],
                                     ref_keep[i])
        if answer.resent:
            check_due = True
            trouble = trouble or ("statistics check", i)  # where the loss showed
        if result.samples == n:
            check_due = True
        if progress is not None:
            progress(1)
    # The loop ends only once every sample was answered.
    result.device = cast("list[p.Classification]", answers)
    result.mismatches.sort(key=lambda m: m["index"])
    result.seconds = time.perf_counter() - start
    result.retransmissions = device.retransmissions - retransmissions
    result.peak_in_flight = pipe.peak_in_flight


def _wait_for_device(device: Device, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    device.resync()  # a rebooted device may hold a partial frame
    retries, device.retries = device.retries, 0
    try:
        while time.monotonic() < deadline:
            try:
                device.identify()
                return True
            except LinkError:
                time.sleep(0.05)
        return False
    finally:
        device.retries = retries


def _on_reset(device: Device, reference: RunReference, check_thresholds: bool, index: int,
              context: str, tracker: _Tracker, kept_stored: int,
              classified: int | None = None) -> ResetEvent:
    """Re-identify (the hashes must still match), rebase the counter, describe the event."""
    expected = tracker.expected()
    ident = handshake(device, reference, check_thresholds)
    if classified is None:
        classified = device.statistics().classified
    tracker.rebase(classified)
    if classified < expected:
        reason = "device reset: its CLASSIFY counter went back"
    elif classified > expected:
        reason = "the device executed requests whose answers were lost"
    else:
        reason = ("no answer for a while, but the device had not rebooted: every sample in "
                  "flight ran once")
    return {"index": index, "context": context, "reason": reason,
            "reset": classified < expected, "classified": classified,
            "expected_classified": expected,
            "stored_before_stream": tracker.stored, "stored_now": ident.stored,
            "stored_by_stream": kept_stored,
            # More stored than answered STORED: a sample was stored, then its reply lost.
            "duplicate_stores": max(0, ident.stored - tracker.stored - kept_stored)
            if ident.store_policy == "stop" else None}


def measure_raw_link(device: Device, sample: bytes, frames: int = 100,
                     window: int = DEFAULT_WINDOW) -> RawLink:
    """The link's own rate on this port, without the model: CLASSIFY frames one byte
    shorter than a sample, which the firmware rejects (ERR_SAMPLE_SIZE) before running
    anything, with an error reply about as long as a CLASSIFY reply, sent with the same
    number in flight as the harness keeps (window, capped by the device's replay depth).
    No counter and no store entry changes; the harness's rate divided by this one is the
    share of the link the harness keeps busy (docs/hil.md)."""
    ident = device.identity or device.identify()
    probe = bytes(sample[:-1])
    window = window_for(window, ident.replay_depth,
                        len(p.frame(p.encode_packet(p.Command.CLASSIFY, 0, probe))))
    in_flight: dict[int, bytes] = {}
    answered = sent = quiet = 0
    expect = 1  # the wire size of the replies, once one has come: read like the harness
    written, read = device.bytes_written, device.bytes_read
    cpu, start = time.process_time(), time.perf_counter()
    while answered < frames:
        while sent < frames and len(in_flight) < window:
            seq = device.next_sequence()
            wire = p.frame(p.encode_packet(p.Command.CLASSIFY, seq, probe))
            device.send(wire, flush=False)
            in_flight[seq] = wire
            sent += 1
        queued = sum(len(w) for w in in_flight.values())
        packet = device.next_packet(
            time.monotonic() + device.timeout + queued / SLOWEST_LINK_BYTES_PER_SECOND,
            expect=expect)
        if packet is None:
            # Lost on the way: the probes run nothing, so resending is harmless.
            quiet += 1
            if quiet > device.retries:
                raise LinkError(f"measuring the raw link: no answer within "
                                f"{device.timeout:g} s, {quiet} times ({answered} of "
                                f"{frames} frames answered)")
            for wire in in_flight.values():
                device.send(wire, flush=False)
            continue
        if in_flight.pop(packet.sequence, None) is None:
            continue
        quiet = 0
        status = packet.payload[0] if packet.payload else None
        if status == p.Status.OK:
            raise LinkError("the device accepted a sample of the wrong size")
        if status != p.Status.ERR_SAMPLE_SIZE:
            p.split_status(p.Command.CLASSIFY, packet)  # raises its DeviceError
        expect = p.reply_wire_bytes(len(packet.payload))
        answered += 1
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    sent_bytes, received = device.bytes_written - written, device.bytes_read - read
    return {"frames": frames, "window": window, "seconds": seconds, "cpu_seconds": cpu,
            "frames_per_second": frames / seconds,
            "bytes_per_second": (sent_bytes + received) / seconds,
            "bytes_sent": sent_bytes, "bytes_received": received}
