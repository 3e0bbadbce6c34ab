"""`drip-tiny send-thresholds`: a refit run's thresholds reach a running device (the host
board and QEMU's mps2-an386, each started once and reached with --port, as a user
reaches a board) and `hil` then agrees with it on every sample; a run for another model
is refused with nothing written; the thresholds survive a reboot; a power cut during
the write fails the command with one line, leaves the old or the new thresholds, and a
rerun succeeds."""

import json
import shutil

import power_loss as pl
import pytest
from firmware_build import exported, fitted_copy

from drip_tiny.cli import main
from drip_tiny.emulator.launch import HostBoard, start_emulated
from drip_tiny.hil.thresholds_update import load_run_thresholds
from drip_tiny.link import protocol as p


@pytest.fixture(scope="module")
def run(digits_ptq_run, tmp_path_factory):
    return fitted_copy(digits_ptq_run, tmp_path_factory.mktemp("sendthr") / "run")


@pytest.fixture(scope="module")
def refit(run, tmp_path_factory):
    """The same model with thresholds fitted at another DPW, as a user refits."""
    other = tmp_path_factory.mktemp("refit") / "run"
    shutil.copytree(run, other)
    assert main(["fit", str(other), "--dpw", "40", "--quiet"]) == 0
    return other


@pytest.fixture(scope="module")
def hashes(run, refit):
    """(the image's compiled-in thresholds hash, the refit run's), which must differ."""
    old, new = load_run_thresholds(run).hash, load_run_thresholds(refit).hash
    assert old != new
    return old, new


@pytest.fixture(scope="module")
def host_exe(run, tmp_path_factory):
    return exported(run, "host", tmp_path_factory) / "build" / "firmware"


def _identify(url):
    from drip_tiny.link.client import Device, open_port

    with Device(open_port(url)) as device:
        return device.identify()


def _hil(run, url, out, *extra):
    """hil against the device at url; (exit status, JSON report)."""
    code = main(["hil", str(run), "--port", url, "--json", str(out), *extra])
    return code, json.loads(out.read_text()) if out.exists() else None


def test_refit_thresholds_reach_a_running_host_board_and_hil_agrees(
        run, refit, hashes, host_exe, tmp_path, capsys):
    old, new = hashes
    with start_emulated("host", host_exe, flash_file=tmp_path / "flash.bin") as board:
        code, before = _hil(run, board.url, tmp_path / "before.json")
        assert code == 0 and before["mismatches"] == []
        capsys.readouterr()

        assert main(["send-thresholds", str(refit), "--port", board.url]) == 0
        printed = capsys.readouterr().out
        assert f"thresholds {old:08x} -> {new:08x}" in printed
        assert "DPW 40%" in printed and "confirmed by IDENTIFY" in printed
        assert _identify(board.url).thresholds_hash == new
        code, after = _hil(refit, board.url, tmp_path / "after.json")
        assert code == 0, capsys.readouterr()
        assert after["mismatches"] == [] and after["samples"] == before["samples"] > 500
        # The same samples on the same device now get the refit run's decisions: a wider
        # window discards more.
        assert after["kept"] < before["kept"]
        # The old run's thresholds are not what it runs any more.
        assert main(["hil", str(run), "--port", board.url, "--limit", "3"]) == 1
        assert "send-thresholds" in capsys.readouterr().err

        # Nothing to do the second time.
        assert main(["send-thresholds", str(refit), "--port", board.url]) == 0
        assert "nothing sent" in capsys.readouterr().out


def test_a_run_for_another_model_is_refused_and_nothing_is_written(
        run, digits_qat_run, hashes, host_exe, tmp_path, capsys):
    other = fitted_copy(digits_qat_run, tmp_path / "other")
    other_hash = load_run_thresholds(other).model_hash
    flash = tmp_path / "flash.bin"
    with start_emulated("host", host_exe, flash_file=flash) as board:
        ident = _identify(board.url)
        assert ident.model_hash != other_hash
        written = flash.read_bytes()
        assert main(["send-thresholds", str(other), "--port", board.url]) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1
        assert "model hash mismatch" in err
        assert f"{ident.model_hash:08x}" in err and f"{other_hash:08x}" in err
        assert "export" in err and "Nothing was sent" in err
        assert _identify(board.url).thresholds_hash == hashes[0]
        assert flash.read_bytes() == written  # not a byte of the settings pages changed


def test_thresholds_the_device_cannot_use_are_refused(run, hashes, host_exe, tmp_path,
                                                     capsys):
    """Another DRIPS variant (refused after IDENTIFY, nothing written); no thresholds, float-
    path thresholds or thresholds of another model than the run's (refused before the port
    is opened: the port given does not exist)."""
    other_variant = tmp_path / "max"
    shutil.copytree(run, other_variant)
    assert main(["fit", str(other_variant), "--variant", "max", "--quiet"]) == 0
    flash = tmp_path / "flash.bin"
    with start_emulated("host", host_exe, flash_file=flash) as board:
        _identify(board.url)
        written = flash.read_bytes()
        capsys.readouterr()
        assert main(["send-thresholds", str(other_variant), "--port", board.url]) == 1
        err = capsys.readouterr().err
        assert "the device computes minmax DRIPS" in err and "--variant minmax" in err
        assert _identify(board.url).thresholds_hash == hashes[0]
        assert flash.read_bytes() == written

    nowhere = str(tmp_path / "no-such-port")
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    thresholds = json.loads((broken / "thresholds.json").read_text())
    for change, message in [({"path": "float"}, "float path"),
                            ({"model_sha256": "0" * 64}, "another model"),
                            (None, "drip-tiny fit")]:
        if change is None:
            (broken / "thresholds.json").unlink()
        else:
            (broken / "thresholds.json").write_text(json.dumps({**thresholds, **change}))
        assert main(["send-thresholds", str(broken), "--port", nowhere]) == 1
        err = capsys.readouterr().err
        assert message in err and "serial port" not in err, err


def test_thresholds_survive_a_restart_and_reset_goes_back(run, refit, hashes, host_exe,
                                                          tmp_path, capsys):
    old, new = hashes
    flash = tmp_path / "flash.bin"
    with start_emulated("host", host_exe, flash_file=flash) as board:
        assert main(["send-thresholds", str(refit), "--port", board.url]) == 0
    # The host board's reboot: a new process on the same flash file.
    with start_emulated("host", host_exe, flash_file=flash) as board:
        assert _identify(board.url).thresholds_hash == new
        code, report = _hil(refit, board.url, tmp_path / "r.json", "--limit", "50")
        assert code == 0 and report["mismatches"] == []
        capsys.readouterr()
        assert main(["send-thresholds", str(refit), "--port", board.url, "--reset"]) == 0
        printed = capsys.readouterr().out
        assert f"thresholds {new:08x} -> {old:08x} (the image's compiled-in ones" in printed
    with start_emulated("host", host_exe, flash_file=flash) as board:
        assert _identify(board.url).thresholds_hash == old


def test_board_host_keeps_them_in_the_exports_flash_file(run, refit, hashes, tmp_path,
                                                         tmp_path_factory, capsys):
    """--board host starts and stops the board; its flash.bin keeps the thresholds for the
    next `hil --board host`."""
    export = exported(run, "host", tmp_path_factory)
    assert main(["send-thresholds", str(refit), "--board", "host", "--image",
                 str(export)]) == 0
    printed = capsys.readouterr().out
    assert f"kept in {export / 'build' / 'flash.bin'}" in printed
    assert main(["hil", str(refit), "--board", "host", "--image", str(export),
                 "--limit", "20"]) == 0
    assert main(["hil", str(run), "--board", "host", "--image", str(export),
                 "--limit", "3"]) == 1


def _flash_operations(exe, flash, requests=()) -> int:
    """Flash operations the host firmware counts (--cut-at 0) booting on a copy of flash
    and serving the requests."""
    copy = flash.with_name("count.bin")
    shutil.copy(flash, copy)
    fw = pl.Firmware(exe, copy, cut="0")
    for command, payload in requests:
        fw.ok(command, payload)
    return int(fw.close().split("flash operations:")[1].split()[0])


@pytest.mark.parametrize("mode", pl.MODES)
def test_a_power_cut_during_the_write_fails_the_command_and_a_rerun_succeeds(
        mode, refit, hashes, host_exe, tmp_path, capsys):
    old, new = hashes
    base = tmp_path / "base.bin"
    with start_emulated("host", host_exe, flash_file=base) as board:
        assert _identify(board.url).thresholds_hash == old  # a board that has run once
    sent = load_run_thresholds(refit)
    request = (pl.SET_THRESHOLDS, p.set_thresholds_request(sent.record,
                                                        len(sent.thresholds.classes)))
    booted = _flash_operations(host_exe, base)
    written = _flash_operations(host_exe, base, [request])
    assert written - booted >= 1 + len(sent.record) // 4  # one erase, a program per word
    # The erase, the first word, a word in the middle, the last word (the record's CRC).
    cuts = sorted({booted + 1, booted + 2, (booted + written) // 2, written})
    outcomes = []
    for cut in cuts:
        flash = tmp_path / f"cut{cut}.bin"
        shutil.copy(base, flash)
        with HostBoard(host_exe, flash, args=["--cut-at", f"{cut},{mode}"]) as board:
            code = main(["send-thresholds", str(refit), "--port", board.url,
                         "--timeout", "1"])
            assert board.process.wait(timeout=10) == pl.CUT_EXIT
        err = capsys.readouterr().err
        assert code == 1, (cut, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "SET_THRESHOLDS was not acknowledged" in err and "went away" in err
        with start_emulated("host", host_exe, flash_file=flash) as board:
            outcomes.append(_identify(board.url).thresholds_hash)
            assert main(["send-thresholds", str(refit), "--port", board.url]) == 0
            assert _identify(board.url).thresholds_hash == new
        capsys.readouterr()
    assert set(outcomes) <= {old, new}, [f"{h:08x}" for h in outcomes]


@pytest.fixture(scope="module")
def mps2_elf(run, tmp_path_factory):
    return exported(run, "mps2-an386", tmp_path_factory) / "build" / "firmware.elf"


def test_on_qemu_the_refit_thresholds_reach_the_device_and_survive_a_reset(
        run, refit, hashes, mps2_elf, tmp_path, capsys):
    """One QEMU start: hil, send-thresholds and hil again as separate connections to the
    same running device, then a system reset (the settings live in RAM that survives it)."""
    from drip_tiny.link.client import Device, open_port

    old, new = hashes
    with start_emulated("mps2-an386", mps2_elf) as board:
        code, before = _hil(run, board.url, tmp_path / "before.json", "--limit", "100")
        assert code == 0 and before["mismatches"] == []
        assert main(["send-thresholds", str(refit), "--port", board.url]) == 0
        assert f"thresholds {old:08x} -> {new:08x}" in capsys.readouterr().out
        code, after = _hil(refit, board.url, tmp_path / "after.json", "--limit", "100")
        assert code == 0 and after["mismatches"] == [] and after["samples"] == 100
        assert after["kept"] < before["kept"]
        with Device(open_port(board.url)) as device:
            assert device.reset().thresholds_hash == new
        assert main(["send-thresholds", str(refit), "--port", board.url, "--reset"]) == 0
        assert _identify(board.url).thresholds_hash == old
