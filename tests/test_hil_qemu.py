"""`drip-tiny hil` on QEMU (mps2-an386): 200 samples of the production split, bit-exact,
with instruction counts per stage, JUnit XML and the raw link rate of the same port."""

import json
import xml.etree.ElementTree as ET

import pytest

from boards_common import require_tools
from firmware_build import fitted_copy

from drip_tiny.cli import main


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("hilq") / "run")


@pytest.fixture(scope="module")
def mps2_export(run, tmp_path_factory):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    from drip_tiny.export import export_project

    out = tmp_path_factory.mktemp("export") / "mps2-an386"
    export_project(run, "mps2-an386", out)
    return out


def test_200_samples_on_qemu_agree(run, mps2_export, tmp_path, capsys):
    code = main(["hil", str(run), "--board", "mps2-an386", "--image", str(mps2_export),
                 "--limit", "200", "--erase", "--raw-link", "40",
                 "--json", str(tmp_path / "q.json"), "--junit", str(tmp_path / "q.xml")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "agree with the reference: 200/200" in printed
    report = json.loads((tmp_path / "q.json").read_text())
    assert report["samples"] == 200 and report["mismatches"] == []
    assert [r["index"] for r in report["records"]] == list(range(200))
    lat = report["latency"]
    assert lat["unit"] == "instructions" and lat["clock_hz"] == 0
    assert lat["inference"]["ms"] is None
    # The same model costs nearly the same instructions on every sample.
    assert lat["inference"]["max"] - lat["inference"]["min"] < 0.01 * lat["inference"]["min"]
    assert lat["store"]["samples"] == report["stored"] == report["kept"]
    raw = report["raw_link"]
    assert raw["frames"] == 40 and raw["frames_per_second"] > 0
    # No compute behind the probe frames: the link alone is faster than the harness.
    assert 0 < raw["harness_fraction"] < 1
    suite = ET.parse(tmp_path / "q.xml").getroot().find("testsuite")
    assert suite.get("tests") == "200" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 200
