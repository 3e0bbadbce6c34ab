"""The report of a hil stream as one JSON-ready dict, and its terminal / Markdown text.

One record per sample (device and reference answers side by side), then the totals:
accuracy, agreement per field with each mismatch, retention and storage savings (overall
and per predicted class), latency per stage in cycles and in ms at the board's clock
(instructions and no ms under QEMU, whose clock is reported as 0) and link throughput.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypedDict

import numpy as np

from drip_tiny.hil.stream import FIELDS, StreamResult
from drip_tiny.link import protocol as p

STAGES = ("inference", "drip", "store")

# The report: the JSON object `drip-tiny hil --json` writes. The hil command adds keys
# (raw_link) and the writers read it back by key, so it is a plain JSON object here.
Report = dict[str, Any]


class StageCost(TypedDict):
    mean: float
    min: int
    max: int
    samples: int
    ms: float | None  # None: no clock (QEMU counts instructions)


# Per predicted class; retention None: no sample predicted as it. ("class" is a keyword,
# so the functional form.)
ClassRetention = TypedDict("ClassRetention", {"class": int, "samples": int, "kept": int,
                                              "retention": float | None})


def _record(i: int, got: p.Classification, result: StreamResult) -> dict[str, object]:
    # stream_samples set the reference answers
    assert (result.expected_predicted is not None and result.expected_logits is not None
            and result.expected_drips is not None and result.expected_keep is not None)
    return {
        "index": i,
        "label": None if result.labels is None else result.labels[i],
        "device": {"predicted": got.predicted, "logits": got.logits.tolist(),
                   "drips": got.drips, "keep": got.keep,
                   "store_result": got.store_result.name.lower(),
                   "store_index": got.store_index,
                   "cycles": {"inference": got.cycles_inference, "drip": got.cycles_drip,
                              "store": got.cycles_store}},
        "reference": {"predicted": int(result.expected_predicted[i]),
                      "logits": np.asarray(result.expected_logits[i]).tolist(),
                      "drips": float(result.expected_drips[i]),
                      "keep": bool(result.expected_keep[i])},
    }


def _stage(values: Iterable[int | None], clock_hz: int) -> StageCost | None:
    counted = [v for v in values if v is not None]
    if not counted:
        return None
    mean = float(np.mean(counted))
    return {"mean": mean, "min": int(min(counted)), "max": int(max(counted)),
            "samples": len(counted),
            "ms": 1e3 * mean / clock_hz if clock_hz else None}


def _per_class(predicted: np.ndarray, keep: np.ndarray, classes: int) -> list[ClassRetention]:
    out: list[ClassRetention] = []
    for c in range(classes):
        rows = predicted == c
        n = int(rows.sum())
        k = int(keep[rows].sum())
        out.append({"class": c, "samples": n, "kept": k, "retention": k / n if n else None})
    return out


def build_report(result: StreamResult, identity: p.Identity, *, source: str,
                 retransmissions: int | None = None) -> Report:
    """Everything `drip-tiny hil` writes; the keys of StreamResult.summary() included."""
    n = result.samples
    # stream_samples set the reference answers
    assert result.expected_predicted is not None and result.expected_keep is not None
    records = [_record(i, got, result) for i, got in enumerate(result.device)]
    dev_pred = np.array([c.predicted for c in result.device], dtype=int)
    dev_keep = np.array([c.keep for c in result.device], dtype=bool)
    ref_pred = np.asarray(result.expected_predicted[:n], dtype=int)
    ref_keep = np.asarray(result.expected_keep[:n], dtype=bool)
    wrong = {f: {m["index"] for m in result.mismatches if m["field"] == f} for f in FIELDS}
    clock = identity.clock_hz
    summary = result.summary()
    report: Report = dict(summary)
    seconds = result.seconds
    moved = result.bytes_sent + result.bytes_received
    stored_cycles = [c.cycles_store for c in result.device
                     if c.store_result is p.StoreResult.STORED]
    report.update({
        "source": source,
        "identity": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in vars(identity).items()},
        "records": records,
        "reference_accuracy": (float(np.mean(ref_pred == np.array(result.labels)))
                               if result.labels is not None and n else None),
        "agreement": {f: n - len(wrong[f]) for f in FIELDS},
        "retention": float(dev_keep.mean()) if n else None,
        "reference_retention": float(ref_keep.mean()) if n else None,
        "per_class_retention": _per_class(dev_pred, dev_keep, identity.num_classes),
        "reference_per_class_retention": _per_class(ref_pred, ref_keep, identity.num_classes),
        "latency": {
            "unit": "cycles" if clock else "instructions",
            "clock_hz": clock,
            "inference": _stage([c.cycles_inference for c in result.device], clock),
            "drip": _stage([c.cycles_drip for c in result.device], clock),
            # Only stored samples write to flash; a discarded one costs nothing here.
            "store": _stage(stored_cycles, clock),
        },
        "link": {
            "seconds": seconds,
            "samples_per_second": n / seconds if seconds else None,
            "bytes_sent": result.bytes_sent, "bytes_received": result.bytes_received,
            "bytes_per_second": moved / seconds if seconds else None,
            "retransmissions": result.retransmissions if retransmissions is None
            else retransmissions,
            "resets": len(result.resets),
            "window": result.window,
            "peak_in_flight": result.peak_in_flight,
            "mode": "stop-and-wait" if result.window == 1
            else f"pipelined, {result.window} in flight",
        },
    })
    return report


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _cost(stage: StageCost | None, unit: str) -> tuple[str, str, str]:
    if stage is None:
        return "-", "-", "-"
    ms = "-" if stage["ms"] is None else f"{stage['ms']:.3f}"
    return f"{stage['mean']:,.0f}", f"{stage['min']:,}..{stage['max']:,}", ms


def _table(rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return out + ["| " + " | ".join(r) + " |" for r in rows[1:]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    fmt: Callable[[list[str]], str] = lambda r: "  ".join(  # noqa: E731
        c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths)))
    return [fmt(rows[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows[1:]]


def render(report: Report, markdown: bool = False, max_mismatches: int = 10) -> str:
    """The report as terminal text (aligned tables) or Markdown."""
    ident = report["identity"]
    n = report["samples"]
    lines: list[str] = []
    h: Callable[[str], list[str]] = (
        (lambda t: ["", f"## {t}", ""]) if markdown else (lambda t: ["", t]))
    title = f"{ident['board']} ({ident['firmware']}): {n} samples of {report['source']}"
    lines.append(f"# drip-tiny hil: {title}" if markdown else title)
    ok = not report["mismatches"]
    lines.append("")
    lines.append(f"agree with the reference: {report['agree']}/{n}"
                 + (" (predicted class and int8 logits bit-exact, DRIPS, decision)" if ok
                    else f"; {len(report['mismatches'])} mismatching fields"))
    lines += h("Agreement")
    lines += _table([["field", "agree", "of"]]
                    + [[f, str(v), str(n)] for f, v in report["agreement"].items()], markdown)
    for m in report["mismatches"][:max_mismatches]:
        lines.append(f"- sample {m['index']}: {m['field']}: device {m['device']}, "
                     f"reference {m['reference']}")
    if len(report["mismatches"]) > max_mismatches:
        lines.append(f"- ... {len(report['mismatches']) - max_mismatches} more (see --json)")
    lines += h("Results")
    rows = [["", "device", "reference"],
            ["accuracy", _pct(report["accuracy"]), _pct(report["reference_accuracy"])],
            ["retention", _pct(report["retention"]), _pct(report["reference_retention"])],
            ["storage savings", _pct(report["storage_savings"]),
             _pct(None if report["reference_retention"] is None
                  else 1 - report["reference_retention"])]]
    lines += _table(rows, markdown)
    lines.append(f"kept {report['kept']}, discarded {report['discarded']}; stored "
                 f"{report['stored']}, store full {report['store_full']}, store errors "
                 f"{report['store_failures']}")
    lines += h("Retention per predicted class")
    rows = [["class", "samples", "kept", "retention", "reference"]]
    for d, r in zip(report["per_class_retention"], report["reference_per_class_retention"]):
        rows.append([str(d["class"]), str(d["samples"]), str(d["kept"]), _pct(d["retention"]),
                     _pct(r["retention"])])
    lines += _table(rows, markdown)
    lat = report["latency"]
    clock = lat["clock_hz"]
    lines += h("Latency per stage" + (f" ({lat['unit']}, ms at {clock / 1e6:g} MHz)" if clock
                                      else " (instructions: QEMU has no cycle clock)"))
    rows = [["stage", f"mean {lat['unit']}", "range", "ms"]]
    for stage in STAGES:
        rows.append([stage + (" (stored samples)" if stage == "store" else ""),
                     *_cost(lat[stage], lat["unit"])])
    lines += _table(rows, markdown)
    link = report["link"]
    lines += h("Link")
    if link["samples_per_second"]:
        lines.append(f"{link['samples_per_second']:.1f} samples/s, "
                     f"{link['bytes_per_second']:,.0f} bytes/s ({link['bytes_sent']:,} sent, "
                     f"{link['bytes_received']:,} received in {link['seconds']:.2f} s, "
                     f"{link['mode']}); {link['retransmissions']} retransmissions")
    if report.get("raw_link", {}).get("error"):
        lines.append(f"raw link not measured: {report['raw_link']['error']}")
    elif report.get("raw_link"):
        raw = report["raw_link"]
        lines.append(f"raw link on the same port: {raw['bytes_per_second']:,.0f} bytes/s "
                     f"({raw['frames_per_second']:.1f} sample-sized frames/s, "
                     f"{raw.get('window', 1)} in flight); the harness reaches "
                     f"{_pct(raw['harness_fraction'])} of it")
    for r in report["resets"]:
        lines.append(f"at sample {r['index']} ({r['context']}): {r['reason']}; "
                     "re-identified, hashes checked"
                     + (", samples in flight resent" if r["context"] == "no answer" else "")
                     + (f"; {r['duplicate_stores']} sample(s) stored twice"
                        if r.get("duplicate_stores") else ""))
    return "\n".join(lines) + "\n"
