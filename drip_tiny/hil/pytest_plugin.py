"""pytest plugin (entry point pytest11 `drip_tiny`): hardware tests in a few lines.

    pytest --drip-port /dev/ttyACM0 --drip-run runs/digits tests_hw/
    pytest --drip-board host --drip-image build/host --drip-run runs/digits tests_hw/

    def test_a_zero_sample_is_classified(drip_device):
        answer = drip_device.classify(bytes(drip_device.identity.input_bytes))
        assert 0 <= answer.predicted < drip_device.identity.num_classes

`drip_device` is a connected drip_tiny.link.Device, shared by the session; with
--drip-board the emulated board is started once and stopped at the end of the session.
With --drip-run the device must run that run's model and thresholds (checked once).
Without --drip-port or --drip-board, tests using the fixtures are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from drip_tiny.emulator.launch import EmulatedBoard
    from drip_tiny.link.client import Device

SKIP_REASON = ("no device: pass --drip-port URL (a connected board) or --drip-board "
               "host|mps2-an386 --drip-image DIR (an emulated one)")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drip_tiny", "drip-tiny hardware in the loop")
    group.addoption("--drip-port", default=None, metavar="URL",
                    help="serial port or pyserial URL of a board running drip-tiny firmware")
    group.addoption("--drip-board", default=None, metavar="BOARD",
                    help="start this emulated board (host or mps2-an386) for the session")
    group.addoption("--drip-image", default=None, metavar="DIR",
                    help="with --drip-board: export folder or image (default build/BOARD)")
    group.addoption("--drip-run", default=None, metavar="RUN",
                    help="run directory the device must match (model and thresholds hash)")
    group.addoption("--drip-baud", type=int, default=1_000_000)
    group.addoption("--drip-timeout", type=float, default=2.0,
                    help="seconds to wait for each answer before resending")


@pytest.fixture(scope="session")
def drip_run(request: pytest.FixtureRequest) -> Path:
    """The --drip-run directory (skips the test without it)."""
    run = request.config.getoption("--drip-run")
    if run is None:
        pytest.skip("no run: pass --drip-run RUN")
    return Path(run)


@pytest.fixture(scope="session")
def drip_device(request: pytest.FixtureRequest) -> Iterator[Device]:
    """A connected drip_tiny.link.Device, identified (and checked against --drip-run)."""
    from drip_tiny.link.client import Device, open_port

    config = request.config
    port, board = config.getoption("--drip-port"), config.getoption("--drip-board")
    if port and board:
        raise pytest.UsageError("give --drip-port or --drip-board, not both")
    if not port and not board:
        pytest.skip(SKIP_REASON)
    timeout = config.getoption("--drip-timeout")
    emulated: EmulatedBoard | None = None
    if board:
        from drip_tiny.boards import load_board
        from drip_tiny.emulator.images import default_image_dir, resolve_image
        from drip_tiny.emulator.launch import start_emulated

        spec = load_board(board)
        image = config.getoption("--drip-image") or default_image_dir(spec.name)
        emulated = start_emulated(spec.name, resolve_image(Path(image), spec))
        device = emulated.connect(timeout=timeout)
    else:
        device = Device(open_port(port, config.getoption("--drip-baud")), timeout=timeout)
    try:
        device.identify()
        run = config.getoption("--drip-run")
        if run is not None:
            from drip_tiny.hil.stream import handshake, run_reference

            handshake(device, run_reference(Path(run)))
        yield device
    finally:
        device.close()
        if emulated is not None:
            emulated.stop()
