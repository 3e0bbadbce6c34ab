"""The nrf52840 board links a real image: the board self-test (tests/boards/board_selftest.c:
dt_board.h and the sample store only) with the startup, drivers and link.ld, and the ELF
has the layout board.json promises. No nRF52840 runs here; the NVMC flash driver runs
against QEMU's model of the nRF51's NVMC (machine microbit), which has the same
registers."""

import shutil
import struct
import subprocess

import pytest
from boards_common import (
    FIRMWARE_INCLUDES,
    ROOT,
    load_segments,
    require_tools,
    selftest_sources,
    symbols,
)

from drip_tiny.boards import load_board
from drip_tiny.emulator import EmulatorError, build_elf, elf_sizes

UARTE0_IRQ = 2


@pytest.fixture(scope="module")
def board():
    require_tools("arm-none-eabi-gcc", "arm-none-eabi-nm", "arm-none-eabi-readelf",
                  "arm-none-eabi-objcopy")
    return load_board("nrf52840")


@pytest.fixture(scope="module")
def elf(board, tmp_path_factory):
    out = tmp_path_factory.mktemp("nrf52840") / "selftest.elf"
    return build_elf(selftest_sources(board), out, board=board, optimization="-Os",
                     include_dirs=FIRMWARE_INCLUDES, defines=board.app_defines,
                     extra_flags=[f"-Wl,--defsym=DT_STACK_BYTES={board.stack_bytes}"],
                     with_bench_markers=False)


def _words_at_zero(elf, count):
    """The first `count` words of the image as the chip sees them at 0x0 (from the binary)."""
    binary = elf.with_suffix(".bin")
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(binary)],
                   check=True)
    return struct.unpack(f"<{count}I", binary.read_bytes()[:4 * count])


def test_vector_table_at_zero_starts_with_the_stack_top_and_reset(board, elf):
    table = symbols(elf)
    ram = board.region(flash=False)
    assert table["dt_vectors"] == 0
    words = _words_at_zero(elf, 16 + 48)
    assert words[0] == table["_estack"] == ram.start + ram.bytes  # stack at the end of RAM
    assert words[1] == table["dt_reset_handler"] | 1  # Thumb bit set
    assert words[16 + UARTE0_IRQ] == table["UARTE0_UART0_IRQHandler"] | 1
    unhandled = table["dt_unhandled_handler"] | 1
    assert words[16 + UARTE0_IRQ] != unhandled
    assert words[16 + 0] == words[16 + 47] == unhandled


def test_image_ends_below_the_store_and_regions_match_board_json(board, elf):
    table = symbols(elf)
    assert table["__dt_store_start"] == board.store.start
    assert table["__dt_store_end"] == board.store.start + board.store.bytes
    assert table["__dt_settings_start"] == board.settings.start
    assert table["__dt_settings_end"] == board.settings.start + board.settings.bytes
    flash_segments = [(a, f) for a, f, _ in load_segments(elf)]
    # Every loaded byte: code at 0x0 and .data's initial values, placed by their load
    # (physical) address below the store; objcopy's ihex uses those addresses.
    hex_file = elf.with_suffix(".hex")
    subprocess.run(["arm-none-eabi-objcopy", "-O", "ihex", str(elf), str(hex_file)],
                   check=True)
    highest = _ihex_highest_address(hex_file.read_text())
    assert table["__dt_image_end"] == highest + 1
    assert highest < board.store.start
    assert flash_segments[0][0] == 0
    sizes = elf_sizes(elf)  # arm-none-eabi-size
    assert sizes.text + sizes.data == table["__dt_image_end"]  # flash: code, constants, .data
    # RAM: the stack's reserve fits above .bss and the heap start.
    assert sizes.data + sizes.bss <= table["__heap_start"] - board.region(flash=False).start
    assert table["__heap_limit"] == table["_estack"] - board.stack_bytes
    assert table["__heap_start"] <= table["__heap_limit"]


def _ihex_highest_address(text):
    base, highest = 0, -1
    for line in text.split():
        count, address, kind = int(line[1:3], 16), int(line[3:7], 16), int(line[7:9], 16)
        if kind == 0 and count:
            highest = max(highest, base + address + count - 1)
        elif kind == 4:
            base = int(line[9:13], 16) << 16
        elif kind == 2:
            base = int(line[9:13], 16) << 4
    return highest


def test_an_image_reaching_into_the_store_fails_to_link(board, tmp_path):
    big = tmp_path / "big.c"
    # 900 KB of constants: more than the 896 KB below the store.
    big.write_text("#include <stdint.h>\n"
                   "const volatile uint8_t blob[900u * 1024u] = {1};\n"
                   "int main(void) { return blob[12345]; }\n")
    with pytest.raises(EmulatorError, match="reaches into the sample store"):
        build_elf([big], tmp_path / "big.elf", board=board, optimization="-Os",
                  with_bench_markers=False)


def test_a_stack_that_does_not_fit_fails_to_link(board, tmp_path):
    source = tmp_path / "small.c"
    source.write_text("int main(void) { return 0; }\n")
    with pytest.raises(EmulatorError, match="exceed the 256 KB of RAM"):
        build_elf([source], tmp_path / "small.elf", board=board, optimization="-Os",
                  extra_flags=["-Wl,--defsym=DT_STACK_BYTES=0x41000"],
                  with_bench_markers=False)


def test_drivers_use_no_vendor_header_and_no_heap(board, elf):
    for source in [*board.startup_sources, *board.driver_sources]:
        text = source.read_text()
        assert "nrf.h" not in text and "nrfx" not in text, source.name
    assert "malloc" not in symbols(elf)
    assert ROOT in board.directory.parents


def test_nvmc_driver_against_qemus_nvmc_model(board, tmp_path):
    """nvmc_flash.c on QEMU's micro:bit (nRF51, Cortex-M0): erase, program, the NOR
    refusals, read-only mode restored, and the sample store written and reopened through
    the driver (tests/boards/microbit/nvmc_selftest.c). The model ignores flash writes
    without CONFIG = WEN and erases without EEN, so the register sequence is exercised."""
    require_tools("qemu-system-arm")
    here = ROOT / "tests" / "boards" / "microbit"
    elf = tmp_path / "nvmc.elf"
    command = ["arm-none-eabi-gcc", "-mcpu=cortex-m0", "-mthumb", "-Os", "-std=c99", "-Wall",
               "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections",
               "-DDT_NVMC_PAGE_BYTES=1024u", *(f"-I{d}" for d in FIRMWARE_INCLUDES),
               f"-I{board.directory}", f"-I{ROOT / 'boards' / 'mps2-an386'}",
               str(here / "nvmc_selftest.c"), str(board.directory / "nvmc_flash.c"),
               str(ROOT / "boards" / "mps2-an386" / "semihosting.c"),
               str(ROOT / "firmware" / "store" / "dt_store.c"), "--specs=nano.specs",
               "-nostartfiles", "-Wl,--gc-sections", f"-T{here / 'link.ld'}", "-o", str(elf)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0 and built.stderr == "", built.stderr
    run = subprocess.run([shutil.which("qemu-system-arm"), "-M", "microbit", "-display", "none",
                          "-monitor", "none", "-serial", "null", "-semihosting-config",
                          "enable=on,target=native", "-kernel", str(elf)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    # Success is the image's own verdict: its last line and a semihosting exit status of 0
    # (a killed QEMU would also exit 0, but could not have printed ALL PASS).
    console = run.stderr  # the semihosting console
    assert console.rstrip().endswith("ALL PASS") and "FAIL" not in console, console
    assert console.count("PASS erase page") == 8 and console.count("PASS store read back") == 3
    assert run.returncode == 0
