"""`drip-tiny hil RUN`: stream a split (or an .npy of inputs) to a device and check every
answer; report as a terminal table, JSON, Markdown, PNG and JUnit XML."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drip_tiny.commands.device_argument import add_device_arguments, connected_device
from drip_tiny.commands.run_argument import FITTED, add_run_argument, resolve_run
from drip_tiny.run.splits import SPLIT_NAMES

if TYPE_CHECKING:
    import numpy as np

    from drip_tiny.link.client import Device

NAME = "hil"
HELP = "stream a split to a device (real or emulated) and check every answer bit for bit"
DESCRIPTION = (
    "Hardware in the loop: identify the device (refusing one that runs another model or "
    "other thresholds), send every sample of a split (or of --samples FILE.npy) over the "
    "serial protocol, and compare each answer with the Python reference: predicted class and "
    "raw int8 logits with TFLM's interpreter, DRIPS and keep/drop with the int8 Grad-CAM. "
    "Exits 1 on any disagreement. --port talks to a connected board; --board "
    "mps2-an386|host starts the exported image on an emulated board and stops it afterwards. "
    "See docs/hil.md.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser, needs=FITTED)
    add_device_arguments(parser)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--split", choices=SPLIT_NAMES, default="production")
    data.add_argument("--samples", type=Path, default=None, metavar="FILE.npy",
                      help="stream these inputs instead of a split: float (the dataset's "
                           "scale, quantized with the device's input quantization) or int8 "
                           "(sent as they are); unlabelled, so no accuracy")
    parser.add_argument("--limit", type=int, default=None, help="send only the first N samples")
    parser.add_argument("--window", type=int, default=None, metavar="N",
                        help="CLASSIFY requests in flight (default 8, capped by the device's "
                             "replay depth, which IDENTIFY reports; 1: stop-and-wait)")
    parser.add_argument("--raw-link", type=int, default=100, metavar="N",
                        help="after the stream, time N sample-sized frames the device rejects "
                             "without computing: the link's own rate on this port, reported "
                             "next to the harness's (0: skip)")
    parser.add_argument("--erase", action="store_true",
                        help="erase the device's sample store before streaming")
    out = parser.add_argument_group("reports")
    out.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                     help="one record per sample and the totals")
    out.add_argument("--markdown", type=Path, default=None, metavar="OUT.md")
    out.add_argument("--png", type=Path, default=None, metavar="OUT.png",
                     help="retention per class and DRIPS, device vs reference")
    out.add_argument("--junit", type=Path, default=None, metavar="OUT.xml",
                     help="JUnit XML: one testcase per sample, a failure per mismatch")


def _inputs(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray | None, str]:
    from drip_tiny.hil.stream import load_samples, split_inputs

    if args.samples is not None:
        x = load_samples(args.samples)
        if args.limit is not None:
            x = x[:args.limit]
        return x, None, f"{args.samples.name} ({len(x)} samples)"
    x, y = split_inputs(args.run, args.split, args.limit)
    return x, y, f"the {args.split} split"


# The report is a JSON object: dict[str, Any], its values whatever build_report put there.
def _stream(device: Device, args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from drip_tiny.hil.report import build_report
    from drip_tiny.hil.stream import measure_raw_link, stream_samples

    x, y, source = _inputs(args)
    if args.erase:
        device.store_erase()
    with tqdm(total=len(x), desc="hil", unit="sample",
              disable=not sys.stderr.isatty()) as bar:
        result = stream_samples(device, args.run, x, y, progress=bar.update,
                                window=args.window)
    assert device.identity is not None  # stream_samples identifies it (again after a reset)
    report = build_report(result, device.identity, source=source)
    if args.raw_link and result.samples:
        from drip_tiny.errors import LinkError

        assert result.inputs is not None  # stream_samples records every sample it sent
        try:
            raw = measure_raw_link(device, result.inputs[0].tobytes(), args.raw_link,
                                   window=result.window)
        except LinkError as e:
            # Every sample was checked already: a link that falters while being timed
            # costs the measurement, not the verdict.
            report["raw_link"] = {"error": str(e)}
            return report
        harness = report["link"]["samples_per_second"]
        raw["harness_fraction"] = harness / raw["frames_per_second"] if harness else None
        report["raw_link"] = raw
    return report


def _writers(args: argparse.Namespace,
             report: dict[str, Any]) -> dict[Path, Callable[[Path], object]]:
    from drip_tiny.hil.junit import junit_xml
    from drip_tiny.hil.plot import write_png
    from drip_tiny.hil.report import render

    files: dict[Path, Callable[[Path], object]] = {}
    if args.json is not None:
        files[args.json] = lambda p: p.write_text(json.dumps(report, indent=1) + "\n")
    if args.markdown is not None:
        files[args.markdown] = lambda p: p.write_text(render(report, markdown=True))
    if args.png is not None:
        files[args.png] = lambda p: write_png(report, p)
    if args.junit is not None:
        files[args.junit] = lambda p: p.write_bytes(junit_xml(report))
    return files


def run(args: argparse.Namespace) -> int:
    from drip_tiny.errors import ConfigError
    from drip_tiny.hil.report import render
    from drip_tiny.run.directory import replace_files

    if args.raw_link < 0:
        raise ConfigError("--raw-link must be 0 (skip) or a number of frames")
    if args.window is None:
        from drip_tiny.hil.stream import DEFAULT_WINDOW

        args.window = DEFAULT_WINDOW
    if args.window < 1:
        raise ConfigError("--window must be at least 1 (1: one request at a time)")
    if args.limit is not None and args.limit <= 0:
        raise ConfigError("--limit must be a positive number of samples")
    for path in (args.json, args.markdown, args.png, args.junit):
        if path is not None and not path.absolute().parent.is_dir():
            raise ConfigError(f"cannot write {path}: the folder {path.absolute().parent} "
                              "does not exist")
    resolve_run(args, needs=FITTED)
    from drip_tiny.hil.stream import run_reference

    run_reference(args.run)  # a missing or unfitted run fails before any port is opened
    with connected_device(args) as link:
        report = _stream(link.device, args)
    print(render(report), end="")
    files = _writers(args, report)
    if files:
        replace_files({p.absolute(): write for p, write in files.items()})
        for path in files:
            print(f"wrote {path}")
    if report["store_failures"]:
        # A kept sample the store could not write is data lost, even when every answer
        # agrees; a store that is full under the stop policy is reported above, not here.
        print(f"drip-tiny hil: error: {report['store_failures']} kept sample(s) were not "
              "stored: the device's store answered an error (data lost); the records with "
              "store_result \"error\" in --json name them, and docs/hil.md says what to check",
              file=sys.stderr)
    return 1 if report["mismatches"] or report["store_failures"] else 0
