"""Both Cortex-M boards load through drip_tiny.boards, describe their store and settings
consistently, and their startup and drivers compile warning-free for the Cortex-M4F."""

import subprocess

import pytest
from boards_common import CORTEX_M_BOARDS, FIRMWARE_INCLUDES, WARNINGS, require_tools

from drip_tiny.boards import load_board


@pytest.mark.parametrize("name", CORTEX_M_BOARDS)
def test_board_json_loads_with_store_settings_and_drivers(name):
    board = load_board(name)
    assert board.name == name and board.toolchain == "arm-none-eabi"
    assert board.cpu == "cortex-m4"
    assert "-mfpu=fpv4-sp-d16" in board.cflags and "-mfloat-abi=hard" in board.cflags
    assert board.driver_sources and all(p.is_file() for p in board.driver_sources)
    assert board.startup_sources and board.linker_script.is_file()
    assert board.stack_bytes >= 4096
    assert board.store.page_bytes == board.settings.page_bytes == 4096
    assert board.settings.pages >= 2 and board.store.pages >= 2
    # The store and the settings do not overlap.
    assert (board.store.start + board.store.bytes <= board.settings.start
            or board.settings.start + board.settings.bytes <= board.store.start)
    assert "elf" in board.image_formats and board.uf2_family is None


def _inside(area, regions):
    return any(r.start <= area.start and area.start + area.bytes <= r.start + r.bytes
               for r in regions)


def test_nrf52840_specifics():
    board = load_board("nrf52840")
    assert board.clock_hz == 64_000_000
    flash, ram = board.region(flash=True), board.region(flash=False)
    assert (flash.start, flash.bytes, flash.access) == (0, 1 << 20, "rx")
    assert (ram.start, ram.bytes, ram.access) == (0x20000000, 256 << 10, "rwx")
    assert _inside(board.store, [flash]) and _inside(board.settings, [flash])
    # The settings pages are the very top of flash, the store right below them.
    assert board.settings.start + board.settings.bytes == flash.start + flash.bytes
    assert board.store.start + board.store.bytes == board.settings.start
    assert board.serial["interface"] == "UARTE0" and board.serial["baud"] == 1_000_000
    assert board.serial["flow_control"] == "rts-cts"
    assert set(board.image_formats) == {"elf", "hex"}
    assert board.flash_method.tool == "pyocd" and board.flash_method.target == "nrf52840"
    assert board.flash_method.alternatives == ("nrfjprog",)
    assert board.qemu is None


def test_mps2_an386_specifics():
    board = load_board("mps2-an386")
    assert board.clock_hz == 0
    nvram = [r for r in board.memory if r.name == "NVRAM"]
    assert nvram and _inside(board.store, nvram) and _inside(board.settings, nvram)
    assert not _inside(board.store, [board.region(flash=False)])  # not in the linker's RAM
    assert board.serial["interface"] == "CMSDK UART0"
    assert "DT_FLASH_SIM_NO_FILES" in board.defines
    # A runner's own -serial must become UART0: the board adds no -serial of its own.
    assert "-serial" not in board.qemu.args
    assert board.flash_method is None


@pytest.mark.parametrize("name", CORTEX_M_BOARDS)
def test_startup_and_drivers_compile_warning_free(name, tmp_path):
    require_tools("arm-none-eabi-gcc")
    board = load_board(name)
    includes = [*FIRMWARE_INCLUDES, *board.include_dirs]
    for source in [*board.startup_sources, *board.driver_sources]:
        for optimization in ("-Os", "-O2"):
            command = ["arm-none-eabi-gcc", *board.cflags, optimization, *WARNINGS,
                       *(f"-D{d}" for d in board.app_defines), *(f"-I{d}" for d in includes),
                       "-c", str(source), "-o", str(tmp_path / f"{source.stem}.o")]
            result = subprocess.run(command, capture_output=True, text=True)
            assert result.returncode == 0 and result.stderr == "", \
                f"{source.name} {optimization}:\n{result.stderr}"


def test_readme_documents_every_key_boards_py_reads():
    """boards/README.md's schema table names every key drip_tiny/boards.py reads."""
    import re

    from boards_common import ROOT

    source = (ROOT / "drip_tiny" / "boards.py").read_text()
    keys = set(re.findall(r'_field\(\w+, "(\w+)"', source))
    keys |= set(re.findall(r'(?:data|image)\.get\("(\w+)"\)', source))
    keys |= set(re.findall(r'_flash_area\(data, "(\w+)"', source))
    keys |= set(re.findall(r'region\["(\w+)"\]', source))
    assert {"name", "store", "settings", "linker_script", "plugin", "uf2_family"} <= keys
    readme = (ROOT / "boards" / "README.md").read_text()
    table = readme.split("## board.json", 1)[1].split("### Linker script contract", 1)[0]
    missing = sorted(k for k in keys if not re.search(rf"\b{k}\b", table))
    assert not missing, f"boards/README.md does not document {missing}"
