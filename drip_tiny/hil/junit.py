"""JUnit XML of a hil report: one <testcase> per sample, a <failure> for each sample whose
answer differs from the reference or that was kept and not stored (a store error); device
resets go to <system-out>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drip_tiny.hil.report import Report


def junit_xml(report: Report) -> bytes:
    ident = report["identity"]
    by_index: dict[int, list[dict[str, Any]]] = {}  # the report's mismatches, from JSON
    for m in report["mismatches"]:
        by_index.setdefault(m["index"], []).append(m)
    lost = {r["index"] for r in report["records"] if r["device"]["store_result"] == "error"}
    seconds = report["link"]["seconds"] or 0.0
    per_sample = seconds / report["samples"] if report["samples"] else 0.0
    suites = ET.Element("testsuites", name="drip-tiny hil")
    suite = ET.SubElement(suites, "testsuite", {
        "name": f"drip-tiny hil {ident['board']}", "tests": str(report["samples"]),
        "failures": str(len(set(by_index) | lost)), "errors": "0", "skipped": "0",
        "time": f"{seconds:.3f}"})
    props = ET.SubElement(suite, "properties")
    for key in ("board", "firmware", "model_hash", "thresholds_hash", "clock_hz"):
        value = ident[key]
        if key.endswith("_hash"):
            value = f"{value:08x}"
        ET.SubElement(props, "property", name=key, value=str(value))
    ET.SubElement(props, "property", name="source", value=str(report["source"]))
    classname = f"drip_tiny.hil.{ident['board']}"
    for record in report["records"]:
        i = record["index"]
        case = ET.SubElement(suite, "testcase", classname=classname, name=f"sample_{i:06d}",
                             time=f"{per_sample:.6f}")
        if i in lost:
            failure = ET.SubElement(case, "failure", type="store_error",
                                    message="kept, but the device's store failed to write it")
            failure.text = f"sample {i}: kept and not stored: data lost"
        for m in by_index.get(i, []):
            failure = ET.SubElement(case, "failure", type="mismatch",
                                    message=f"{m['field']}: device {m['device']}, "
                                            f"reference {m['reference']}")
            failure.text = (f"sample {i}: {m['field']} differs from the reference\n"
                            f"device:    {m['device']}\nreference: {m['reference']}")
    if report["resets"]:
        out = ET.SubElement(suite, "system-out")
        out.text = "\n".join(f"at sample {r['index']} ({r['context']}): {r['reason']}"
                             for r in report["resets"])
    ET.indent(suites)
    xml: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"
