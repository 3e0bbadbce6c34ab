"""Smoke test of the one-command benchmark (benchmarks/results.py --quick): the table is
produced and its checks hold. The numbers themselves are the benchmark's, not a test's."""

import importlib.util
import json
from pathlib import Path

from boards_common import require_tools
from firmware_build import fitted_copy

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "results.py"


def test_quick_results_table(digits_ptq_run, tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    run = fitted_copy(digits_ptq_run, tmp_path / "run")
    spec = importlib.util.spec_from_file_location("bench_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--quick", "--run", str(run), "--out", str(tmp_path / "out")]) == 0
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    (digits,) = result["models"]
    assert digits["deterministic"] and digits["drip_equals_host"]
    assert digits["instructions"] > digits["macs"] > 0
    assert digits["top_ops"][0]["name"] == "CONV_2D"
    assert 0 < digits["drip_fraction"] < 0.05
    assert digits["nrf52840"]["flash_used"] < digits["nrf52840"]["flash_capacity"]
    assert {s["board"] for s in result["serial"]} == {"host", "mps2-an386"}
    assert all(s["agree"] == s["samples"] > 0 for s in result["serial"])
    assert all(s["window"] == 8 and s["raw_frames_per_second"] > 0 for s in result["serial"])
    table = (tmp_path / "out" / "results.md").read_text()
    for heading in ("Instructions per inference", "Memory", "Where the instructions go",
                    "Serial link", "Python side"):
        assert f"## {heading}" in table
