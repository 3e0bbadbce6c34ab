"""The paper's audio use case end to end (issue 18): the 1D CNN on one-second 16 kHz
clips (16,000 int8 bytes, four flash pages each) on the emulated Cortex-M4F. Export states
how many clips the store holds, every clip the device keeps is stored and comes back from
`pull` byte for byte, and the application survives power cuts while writing clips."""

import contextlib
import io
import json

import numpy as np
import power_loss as pl
import pytest
from boards_common import require_tools
from firmware_build import fitted_copy

from drip_tiny.boards import load_board
from drip_tiny.cli import main
from drip_tiny.emulator.images import resolve_image
from drip_tiny.emulator.launch import start_emulated
from drip_tiny.hil.stream import split_inputs
from drip_tiny.tflite.tflm_reference import quantize


@pytest.fixture(scope="module")
def audio_run(speech_run, tmp_path_factory):
    return fitted_copy(speech_run, tmp_path_factory.mktemp("audio") / "run")


@pytest.fixture(scope="module")
def audio_export(audio_run, tmp_path_factory):
    """`drip-tiny export RUN --board mps2-an386`: the project folder and what it printed."""
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    out = tmp_path_factory.mktemp("audio-export") / "mps2"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["export", str(audio_run), "--board", "mps2-an386", "--out",
                     str(out)]) == 0
    return out, printed.getvalue()


def test_export_states_the_store_capacity_in_clips(audio_run, audio_export, tmp_path, capsys):
    out, printed = audio_export
    assert "sample store: 248 pages of 4,096 B hold 62 samples of 16,000 B\nfits" in printed
    report = json.loads((out / "memory-report.json").read_text())
    assert report["store"]["samples"] == 62 and report["fits"]
    # The real board's internal store holds 7 (the project is written, not built here).
    assert main(["export", str(audio_run), "--board", "nrf52840", "--no-build", "--out",
                 str(tmp_path / "nrf")]) == 0
    assert "sample store: 30 pages of 4,096 B hold 7 samples of 16,000 B" in \
        capsys.readouterr().out


def test_every_kept_clip_is_stored_and_pulled_back_byte_for_byte(audio_run, audio_export,
                                                                 tmp_path):
    image = resolve_image(audio_export[0], load_board("mps2-an386"))
    with start_emulated("mps2-an386", image) as board:
        url = board.url
        assert main(["hil", str(audio_run), "--port", url, "--erase", "--raw-link", "0",
                     "--json", str(tmp_path / "r.json")]) == 0
        assert main(["pull", "--port", url, "--out", str(tmp_path / "kept.npz")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    kept = [r for r in report["records"] if r["device"]["keep"]]
    assert report["mismatches"] == []
    assert len(kept) == report["kept"] == report["stored"] > 4  # more than a 64 KB store
    assert report["store_failures"] == 0 and report["store_full"] == 0
    assert report["link"]["window"] == 2  # two 16 KB clips in flight fill the link
    data = np.load(tmp_path / "kept.npz")
    assert data["x"].dtype == np.int8 and data["x"][0].size == 16000
    assert data["index"].tolist() == [r["device"]["store_index"] for r in kept]
    x, _ = split_inputs(audio_run, "production")
    sent = quantize(x[[r["index"] for r in kept]], float(data["input_scale"]),
                    int(data["input_zero_point"]))
    assert data["x"].tobytes() == sent.tobytes()


def test_clips_survive_power_cuts_while_they_are_written(audio_run, tmp_path):
    """The power-loss workload of tests/power_loss.py with clips on the host board's own
    store (16 pages of 4 KB: four clips, then overwrite-oldest wraps): a cut at 40 points
    spread over the 90,000-odd flash operations, in the three modes."""
    exe = pl.build(audio_run, tmp_path / "build", sanitize=False, store="audio")
    samples = pl.production_samples(audio_run)
    classes = pl.classes_of(audio_run)
    steps = pl.workload(samples, classes)
    ref = pl.reference_run(exe, tmp_path / "ref.bin", steps)
    assert max(len(p) for p in ref.present_after) == 4
    assert ref.operations > 23 * 4000  # every clip is 4,000 words and more
    points = [*range(1, 60, 19), *range(61, ref.operations, ref.operations // 37),
              ref.operations + 1]
    _, outcomes, _ = pl.sweep(exe, tmp_path / "sweep", samples, points=points,
                              classes=classes)
    bad = [o for o in outcomes if o.lost or o.corrupt or not o.works_after]
    assert bad == []
    kinds = {steps[o.died_at_step][0] for o in outcomes if o.died_at_step is not None}
    assert {pl.SET_THRESHOLDS, pl.CLASSIFY} <= kinds
    assert sum(o.guaranteed for o in outcomes) > 100
