"""Stream a run's samples to a device and check every answer against the Python reference.

The reference is the one the thresholds were fitted on: TFLM's interpreter for the
predicted class and the raw int8 logits (bit-exact), the int8 Grad-CAM in Python for the
DRIPS (the C kernel computes it in float32 exactly as the reference does, so equal bits
are expected; a relative tolerance of 1e-5 is allowed) and the decision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import rundir
from ..drip.thresholds import Thresholds
from ..errors import LinkError
from . import protocol as p
from .client import Device, check_identity

DRIPS_RTOL = 1e-5


@dataclass(frozen=True)
class RunReference:
    """What the device must answer for a run, and the hashes that identify it."""
    model_hash: int  # DRIP_MODEL_HASH: the first 4 bytes of the .tflite's sha256
    thresholds_hash: int  # DRIP_THRESHOLDS_HASH
    thresholds: Thresholds
    variant: str


def run_reference(run: Path) -> RunReference:
    import hashlib

    from ..codegen.drips_kernel import thresholds_hash

    run = rundir.check_run(run)
    thresholds = Thresholds.load(run / "thresholds.json")
    digest = hashlib.sha256((run / rundir.MODEL_TFLITE).read_bytes()).digest()
    return RunReference(model_hash=int.from_bytes(digest[:4], "big"),
                        thresholds_hash=thresholds_hash(thresholds), thresholds=thresholds,
                        variant=thresholds.variant)


@dataclass
class StreamResult:
    samples: int = 0
    labels: list[int] = field(default_factory=list)
    device: list[p.Classification] = field(default_factory=list)
    expected_predicted: np.ndarray | None = None
    expected_logits: np.ndarray | None = None
    expected_drips: np.ndarray | None = None
    expected_keep: np.ndarray | None = None
    mismatches: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    bytes_sent: int = 0

    def summary(self) -> dict:
        kept = sum(c.keep for c in self.device)
        stored = sum(c.store_result is p.StoreResult.STORED for c in self.device)
        failures = sum(c.store_result is p.StoreResult.ERROR for c in self.device)
        predicted = np.array([c.predicted for c in self.device])
        labels = np.array(self.labels)

        def mean(values):
            values = [v for v in values if v is not None]
            return float(np.mean(values)) if values else None

        n = max(1, self.samples)
        return {
            "samples": self.samples,
            "agree": self.samples - len({m["index"] for m in self.mismatches}),
            "mismatches": self.mismatches,
            "accuracy": float(np.mean(predicted == labels)) if self.samples else None,
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
        }


def expected_answers(run: Path, q: np.ndarray, reference: RunReference):
    """(predicted, logits, drips, keep) of the Python int8 reference for int8 samples q."""
    from ..drip.run_scores import int8_gradcam_for_run

    scored = int8_gradcam_for_run(run).score(q, reference.variant)
    keep = reference.thresholds.decide(scored.predicted, scored.drips)
    return scored.predicted, scored.logits, scored.drips.astype(np.float32), keep


def _compare(i: int, got: p.Classification, predicted, logits, drips, keep) -> list[dict]:
    out = []
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


def stream_split(device: Device, run: Path, split: str = "production",
                 limit: int | None = None, progress=None,
                 check_thresholds: bool = True) -> StreamResult:
    """Identify (refusing another model or other thresholds), then send every sample of the
    split (the first `limit`), comparing each answer with the reference."""
    from ..reference.tflm import quantize

    reference = run_reference(run)
    ident = device.identify()
    check_identity(ident, reference.model_hash,
                   reference.thresholds_hash if check_thresholds else None)
    x, y = rundir.load_split(run, split)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    q = quantize(np.asarray(x, dtype=np.float32), ident.input_scale,
                 ident.input_zero_point).reshape(len(x), -1)
    if q.shape[1] != ident.input_bytes:
        raise LinkError(f"the run's samples have {q.shape[1]} values; the device takes "
                        f"{ident.input_bytes}")
    predicted, logits, drips, keep = expected_answers(run, q.reshape((len(x), *ident.input_shape)),
                                                      reference)
    result = StreamResult(expected_predicted=predicted, expected_logits=logits,
                          expected_drips=drips, expected_keep=keep)
    start = time.perf_counter()
    for i in range(len(q)):
        got = device.classify(q[i].tobytes())
        result.device.append(got)
        result.labels.append(int(y[i]))
        result.samples += 1
        result.bytes_sent += len(p.frame(p.encode_packet(p.Command.CLASSIFY, 1, q[i].tobytes())))
        result.mismatches += _compare(i, got, predicted[i], logits[i], drips[i], keep[i])
        if progress is not None:
            progress(1)
    result.seconds = time.perf_counter() - start
    return result
