"""drip-tiny flash: pyOCD's API calls (pyOCD replaced by a recording fake: there is no
probe here), nrfjprog's command lines, and the errors a user meets."""

import dataclasses
import json
import sys
import types

import pytest

from drip_tiny.boards import FlashMethod, load_board
from drip_tiny.cli import main
from drip_tiny.errors import FlashError
from drip_tiny.export import flash

HEX = ":0400000001020304F2\n:00000001FF\n"


def nrf_board():
    """An nRF52840-like board (pyOCD by default, nrfjprog as the alternative)."""
    return dataclasses.replace(load_board("mps2-an386"), name="nrf52840", qemu=None,
                               flash_method=FlashMethod("pyocd", "nrf52840", ("nrfjprog",)))


@pytest.fixture
def project(tmp_path):
    out = tmp_path / "nrf"
    (out / "build").mkdir(parents=True)
    (out / "build" / "firmware.hex").write_text(HEX)
    (out / "export.json").write_text(json.dumps({"board": "nrf52840"}))
    return out


class FakePyocd:
    """Stands in for pyocd.core.helpers.ConnectHelper and FileProgrammer; records calls."""

    def __init__(self, probes=("683512345",)):
        self.probes = [types.SimpleNamespace(unique_id=u) for u in probes]
        self.calls = []
        fake = self

        class Session:
            def __init__(self):
                self.target = types.SimpleNamespace(reset=lambda: fake.calls.append("reset"))

            def __enter__(self):
                fake.calls.append("open")
                return self

            def __exit__(self, *exc):
                fake.calls.append("close")
                return False

        class ConnectHelper:
            @staticmethod
            def get_all_connected_probes(blocking=True, unique_id=None):
                fake.calls.append(("list", blocking, unique_id))
                return [p for p in fake.probes if unique_id is None or unique_id in p.unique_id]

            @staticmethod
            def session_with_chosen_probe(**kwargs):
                fake.calls.append(("session", kwargs))
                return Session()

        class FileProgrammer:
            def __init__(self, session):
                self.session = session

            def program(self, path, file_format=None):
                fake.calls.append(("program", path, file_format))

        self.ConnectHelper, self.FileProgrammer = ConnectHelper, FileProgrammer

    def install(self, monkeypatch):
        helpers = types.ModuleType("pyocd.core.helpers")
        helpers.ConnectHelper = self.ConnectHelper
        programmer = types.ModuleType("pyocd.flash.file_programmer")
        programmer.FileProgrammer = self.FileProgrammer
        for name, module in (("pyocd", types.ModuleType("pyocd")),
                             ("pyocd.core", types.ModuleType("pyocd.core")),
                             ("pyocd.core.helpers", helpers),
                             ("pyocd.flash", types.ModuleType("pyocd.flash")),
                             ("pyocd.flash.file_programmer", programmer)):
            monkeypatch.setitem(sys.modules, name, module)
        return self


def test_pyocd_programs_the_projects_hex_then_resets(project, monkeypatch):
    fake = FakePyocd().install(monkeypatch)
    result = flash.flash_image(nrf_board(), project)
    hex_file = project / "build" / "firmware.hex"
    assert result.tool == "pyocd" and result.image == hex_file and result.probe == "683512345"
    assert fake.calls[0] == ("list", False, None)
    kind, kwargs = fake.calls[1]
    assert kind == "session" and kwargs["unique_id"] == "683512345"
    assert kwargs["target_override"] == "nrf52840" and kwargs["blocking"] is False
    assert fake.calls[2:] == ["open", ("program", str(hex_file), "hex"), "reset", "close"]


def test_pyocd_with_a_probe_id_and_a_hex_path(project, monkeypatch):
    fake = FakePyocd(probes=("111", "222")).install(monkeypatch)
    hex_file = project / "build" / "firmware.hex"
    result = flash.flash_image(nrf_board(), hex_file, probe="222")
    assert result.probe == "222" and fake.calls[0] == ("list", False, "222")
    assert fake.calls[1][1]["unique_id"] == "222"


def test_no_probe_and_several_probes_are_clear_errors(project, monkeypatch):
    FakePyocd(probes=()).install(monkeypatch)
    with pytest.raises(FlashError, match="no debug probe found: connect"):
        flash.flash_image(nrf_board(), project)
    with pytest.raises(FlashError, match="no debug probe found with unique id '999'"):
        flash.flash_image(nrf_board(), project, probe="999")
    FakePyocd(probes=("111", "222")).install(monkeypatch)
    with pytest.raises(FlashError, match=r"2 debug probes are connected \(111, 222\); "
                                         r"choose one with --probe"):
        flash.flash_image(nrf_board(), project)


def test_pyocd_failure_while_programming_is_wrapped(project, monkeypatch):
    fake = FakePyocd().install(monkeypatch)

    def broken(self, path, file_format=None):
        raise RuntimeError("flash algorithm timed out")

    monkeypatch.setattr(fake.FileProgrammer, "program", broken)
    with pytest.raises(FlashError, match=r"pyOCD failed to program .*timed out"):
        flash.flash_image(nrf_board(), project)
    assert fake.calls[-1] == "close"  # the session is closed even then


def test_missing_pyocd_says_how_to_install_it(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyocd", None)  # makes `import pyocd...` fail
    monkeypatch.setitem(sys.modules, "pyocd.core.helpers", None)
    with pytest.raises(FlashError, match=r"pip install drip-tiny\[flash\]"):
        flash.flash_image(nrf_board(), project)


def test_image_errors(project, tmp_path):
    board = nrf_board()
    with pytest.raises(FlashError, match="does not exist"):
        flash.resolve_image(board, tmp_path / "nowhere")
    (project / "build" / "firmware.hex").unlink()
    with pytest.raises(FlashError, match=r"has no build/firmware.hex: build the project first"):
        flash.resolve_image(board, project)
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(FlashError, match="not an Intel HEX"):
        flash.resolve_image(board, elf)
    (project / "export.json").write_text(json.dumps({"board": "mps2-an386"}))
    with pytest.raises(FlashError, match="exported for mps2-an386, not nrf52840"):
        flash.resolve_image(board, project)


def test_boards_without_a_flash_method_are_refused(project):
    mps2 = load_board("mps2-an386")
    with pytest.raises(FlashError, match=r"mps2-an386 cannot be flashed: it runs under an "
                                         r"emulator: `drip-tiny emulate --board mps2-an386`"):
        flash.flash_image(mps2, project)
    host = dataclasses.replace(mps2, name="host", toolchain="host", qemu=None)
    with pytest.raises(FlashError, match="host cannot be flashed: it runs on this machine"):
        flash.flash_image(host, project)
    assert main(["flash", "--board", "mps2-an386", "--image", str(project)]) == 1


def test_nrfjprog_command_lines(project):
    hex_file = project / "build" / "firmware.hex"
    assert flash.nrfjprog_commands(hex_file, "nrf52840", "683512345", "/opt/nrfjprog") == [
        ["/opt/nrfjprog", "-f", "NRF52", "--snr", "683512345", "--program", str(hex_file),
         "--sectorerase", "--verify"],
        ["/opt/nrfjprog", "-f", "NRF52", "--snr", "683512345", "--reset"]]
    assert flash.nrfjprog_commands(hex_file, "nrf52840", None)[1] == [
        "nrfjprog", "-f", "NRF52", "--reset"]
    with pytest.raises(FlashError, match="not one"):
        flash.nrfjprog_commands(hex_file, "stm32f401", None)


def test_nrfjprog_runs_and_reports_failures(project, monkeypatch):
    monkeypatch.setattr(flash.shutil, "which", lambda name: f"/usr/bin/{name}")
    ran = []

    def ok(command, **kwargs):
        ran.append(command)
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(flash.child_processes, "run", ok)
    result = flash.flash_image(nrf_board(), project, tool="nrfjprog", probe="42")
    assert result.tool == "nrfjprog" and [c[-1] for c in ran] == ["--verify", "--reset"]

    def no_probe(command, **kwargs):
        return types.SimpleNamespace(returncode=41, stdout="",
                                     stderr="ERROR: There are no debuggers connected to the PC.")

    monkeypatch.setattr(flash.child_processes, "run", no_probe)
    with pytest.raises(FlashError, match=r"exit 41\) \(no debug probe found"):
        flash.flash_image(nrf_board(), project, tool="nrfjprog")
    monkeypatch.setattr(flash.shutil, "which", lambda name: None)
    with pytest.raises(FlashError, match="nrfjprog is not on PATH"):
        flash.flash_image(nrf_board(), project, tool="nrfjprog")


def test_a_tool_the_board_does_not_offer_is_refused(project):
    board = dataclasses.replace(nrf_board(), flash_method=FlashMethod("pyocd", "nrf52840", ()))
    with pytest.raises(FlashError, match="--tool nrfjprog is not a flash method of this board"):
        flash.flash_image(board, project, tool="nrfjprog")


def test_the_nrf52840_board_is_flashed_with_pyocd(project, monkeypatch):
    board = load_board("nrf52840")
    assert board.flash_method.tool == "pyocd" and board.flash_method.target == "nrf52840"
    FakePyocd().install(monkeypatch)
    assert main(["flash", "--board", "nrf52840", "--image", str(project)]) == 0
