"""The host firmware and the Python side of the link together: drip_tiny.link's HostBoard
starts it on a pseudo-terminal, its Device client streams a production split and checks
every answer against the reference (stream_split), then lists, reads, resets."""

import numpy as np
import pytest
from firmware_build import build_host_firmware, fitted_copy


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("link") / "run")


def test_stream_a_split_through_the_link_client(run, tmp_path):
    from drip_tiny.emulator.launch import HostBoard
    from drip_tiny.hil.stream import stream_split

    exe = build_host_firmware(run, tmp_path / "build", optimize="-O2")
    flash = tmp_path / "flash.bin"
    with HostBoard(exe, flash) as board:
        device = board.connect()
        result = stream_split(device, run, limit=100)
        assert result.samples == 100 and result.mismatches == []
        kept = [i for i, got in enumerate(result.device) if got.keep]
        assert all(got.store_result == 0 for got in result.device if got.keep)
        assert all(got.cycles_inference > 0 for got in result.device)
        entries = device.store_list()
        assert len(entries) == len(kept) > 16  # more than one STORE_LIST page
        sample = device.store_read(len(kept) - 1)
        assert sample.id == entries[-1].id and sample.predicted == result.device[kept[-1]].predicted
        stats = device.statistics()
        assert (stats.classified, stats.kept) == (100, len(kept))
        assert device.reset().board == "host"
        assert device.statistics().classified == 0
        assert len(device.store_list()) == len(kept)
        device.close()
    # The flash file outlives the process: a new board has the same samples.
    with HostBoard(exe, flash) as board:
        device = board.connect()
        again = device.store_list()
        assert [(e.id, e.length) for e in again] == [(e.id, e.length) for e in entries]
        assert np.frombuffer(device.store_read(0).data, np.int8).size == 64
        device.close()
