"""drip-tiny export on the digits run, with a small stand-in firmware application.

The real application (firmware/app) and board drivers are built by
tests/test_export_boards.py; here a stand-in app (main runs the model and the DRIP kernel,
a protocol object holds two frame buffers) keeps these tests independent of them, through
export_project's firmware_root parameter. Everything else is real: the generated code,
the board's startup and linker script, make, arm-none-eabi-gcc, cc, QEMU.
"""

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drip_tiny.boards import FlashArea, MemoryRegion, load_board
from drip_tiny.cli import main
from drip_tiny.errors import ExportError
from drip_tiny.export import build as build_mod
from drip_tiny.export import export_project, memory
from drip_tiny.resources import shipped_dir

ARM = shutil.which("arm-none-eabi-gcc") is not None and shutil.which("make") is not None
# Skipped where the tools are missing (in CI the skip fails: tests/conftest.py).
needs_arm = pytest.mark.skipif(not ARM, reason="arm-none-eabi-gcc or make not installed")
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                                reason="qemu-system-arm not installed")

MAIN_C = """\
#include <stdint.h>

#include "drip_thresholds.h"
#include "drips_kernel.h"
#include "dt_app_model.h"
#include "dt_model.h"
#include "frames.h"

int main(void)
{
    static const drip_thresholds_t thresholds = DRIP_DEFAULT_THRESHOLDS;
    const int8_t *const head[] = DT_APP_HEAD_INIT;
    drip_decision_t decision;
    int8_t *input = DT_APP_INPUT();
    for (uint32_t i = 0; i < DT_APP_INPUT_BYTES; i++) {
        input[i] = (int8_t)(i & 0x7F);
    }
    dt_model_invoke();
    drip_decide(DT_APP_TARGET(), DT_APP_LOGITS(), head, &thresholds, &decision);
    return frames_echo((uint8_t)decision.predicted) == (uint8_t)decision.predicted ? 0 : 1;
}
"""
FRAMES_H = """\
#ifndef FRAMES_H
#define FRAMES_H
#include <stdint.h>
extern uint8_t frame_in[300];
extern uint8_t frame_out[212];
uint8_t frames_echo(uint8_t value);
#endif
"""
FRAMES_C = """\
#include "frames.h"

uint8_t frame_in[300];
uint8_t frame_out[212];

uint8_t frames_echo(uint8_t value)
{
    frame_in[0] = value;
    frame_out[211] = frame_in[0];
    return frame_out[211];
}
"""
FRAME_BYTES = 300 + 212
HOST_FLASH_C = """\
#include <stdint.h>

#include "dt_flash_sim.h"

static uint8_t host_flash_mem[4096 * 2];
static dt_flash_sim_t host_flash;

int host_flash_start(void)
{
    return dt_flash_sim_init(&host_flash, host_flash_mem, 4096, 2);
}
"""


def write_fake_firmware(root: Path, extra_app: dict | None = None) -> Path:
    """firmware/ with the real board contract and store, a stand-in app and protocol."""
    real = shipped_dir("firmware")
    shutil.copytree(real / "board", root / "board")
    shutil.copytree(real / "store", root / "store")
    (root / "app").mkdir(parents=True)
    (root / "protocol").mkdir()
    (root / "app" / "main.c").write_text(MAIN_C)
    (root / "protocol" / "frames.h").write_text(FRAMES_H)
    (root / "protocol" / "frames.c").write_text(FRAMES_C)
    for name, text in (extra_app or {}).items():
        (root / "app" / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def fitted_run(digits_ptq_run, tmp_path_factory):
    from drip_tiny.drip.fit_run import fit_run

    run = tmp_path_factory.mktemp("export") / "digits"
    shutil.copytree(digits_ptq_run, run)
    fit_run(run, dpw=25, variant="minmax")
    return run


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    return write_fake_firmware(tmp_path_factory.mktemp("fw") / "firmware")


STAND_IN_STACK = 8192
CODE = MemoryRegion("CODE", 0, 4 << 20, "rx")
RAM = MemoryRegion("RAM", 0x20000000, 256 << 10, "rwx")


def mps2(**changes):
    """The mps2-an386 board's startup and linker script without its drivers (the stand-in
    app needs none), with fixed limits: independent of how the real board evolves."""
    board = dataclasses.replace(load_board("mps2-an386"), driver_sources=(), defines=(),
                                stack_bytes=STAND_IN_STACK, store=None, settings=None,
                                memory=(CODE, RAM))
    return dataclasses.replace(board, **changes)


def host_board(tmp: Path):
    """A host board as board.json describes one: cc, no linker script, a driver that uses
    the flash simulator (so dt_flash_sim.c must be compiled in)."""
    d = tmp / "host-test"
    d.mkdir()
    (d / "board.json").write_text(json.dumps({"name": "host-test", "toolchain": "host"}))
    (d / "host_flash.c").write_text(HOST_FLASH_C)
    return mps2(name="host-test", directory=d, toolchain="host", cflags=(), memory=(),
                startup_sources=(), driver_sources=(d / "host_flash.c",), include_dirs=(d,),
                linker_script=None, defines=("_POSIX_C_SOURCE=200809L",), qemu=None,
                uf2_family=None, image_formats=("elf",), flash_method=None)


def _define(path: Path, name: str) -> int:
    return int(re.search(rf"#define {name} (\d+)", path.read_text()).group(1))


def _alloc_sections(elf: Path) -> dict[str, tuple[int, int]]:
    """{section: (size, address)} of the allocated sections, from arm-none-eabi-readelf:
    a reading independent of the report's pyelftools one."""
    out = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    sections = {}
    for m in re.finditer(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]{8})\s+[0-9a-f]+\s+([0-9a-f]+)\s+"
                         r"[0-9a-f]+\s+(\S*A\S*)\s", out):
        sections[m.group(1)] = (int(m.group(3), 16), int(m.group(2), 16))
    return sections


@pytest.fixture(scope="module")
def mps2_export(fitted_run, firmware, tmp_path_factory):
    if not ARM:
        pytest.skip("arm-none-eabi-gcc or make not installed")
    out = tmp_path_factory.mktemp("out") / "mps2"
    return export_project(fitted_run, mps2(), out, firmware_root=firmware)


@needs_arm
def test_project_tree_is_complete_and_builds(mps2_export, fitted_run):
    out = mps2_export.out
    assert mps2_export.built and mps2_export.notice is None
    for name in ("Makefile", "model.tflite", "model_tflite.c", "model_tflite.h",
                 "export.json", "memory-report.txt", "memory-report.json",
                 "generated/dt_model.c", "generated/dt_model_data.c", "generated/drips_kernel.c",
                 "generated/drip_thresholds.h", "generated/dt_app_model.h",
                 "firmware/app/main.c", "firmware/protocol/frames.c",
                 "firmware/board/dt_board.h", "firmware/store/dt_store.c",
                 "firmware/store/dt_store.h", "board/board.json", "board/startup.c",
                 "board/semihosting.c", "board/semihosting.h", "board/link.ld",
                 "build/firmware.elf", "build/firmware.map", "build/firmware.hex"):
        assert (out / name).is_file(), name
    assert (out / "model.tflite").read_bytes() == (fitted_run / "model.tflite").read_bytes()
    makefile = (out / "Makefile").read_text()
    # the simulator is for boards whose drivers use it; mps2's stand-in has none
    assert "dt_flash_sim.c" not in makefile and "firmware/store/dt_store.c" in makefile
    assert "-T board/link.ld" in makefile and "--specs=nosys.specs" in makefile
    assert not list(out.parent.glob(".mps2.staging-*"))
    # a second `make` has nothing to do: the project is self-contained and up to date
    again = subprocess.run(["make", "-C", str(out), "-q"], capture_output=True)
    assert again.returncode == 0


@needs_arm
@needs_qemu
def test_built_image_runs_the_model_on_qemu(mps2_export):
    from drip_tiny.emulator.insn_count import run_qemu

    run = run_qemu(mps2_export.images["elf"], board=mps2(), timeout=30)
    assert run.exit_status == 0


@needs_arm
def test_export_json_records_what_was_exported(mps2_export, fitted_run):
    from drip_tiny.drip.kernel_codegen import thresholds_hash
    from drip_tiny.drip.thresholds import Thresholds

    m = json.loads((mps2_export.out / "export.json").read_text())
    model = (fitted_run / "model.tflite").read_bytes()
    import hashlib

    assert m["board"] == "mps2-an386" and m["variant"] == "minmax"
    assert m["run"] == str(fitted_run.resolve())
    assert m["model"]["sha256"] == hashlib.sha256(model).hexdigest()
    assert m["model"]["bytes"] == len(model)
    t = Thresholds.load(fitted_run / "thresholds.json")
    assert m["thresholds"]["hash"] == f"0x{thresholds_hash(t):08x}"
    header = (mps2_export.out / "generated" / "drip_thresholds.h").read_text()
    assert f"#define DRIP_THRESHOLDS_HASH {m['thresholds']['hash']}u" in header
    assert m["build"]["built"] is True and m["build"]["images"]["hex"] == "build/firmware.hex"
    assert m["toolchain"]["arm-none-eabi-gcc"].startswith("arm-none-eabi-gcc")
    assert m["flash_simulated"] is False
    listed = set(m["files"])
    on_disk = {p.relative_to(mps2_export.out).as_posix() for p in mps2_export.out.rglob("*")
               if p.is_file() and p.relative_to(mps2_export.out).parts[0] != "build"}
    assert listed == on_disk


@needs_arm
def test_memory_report_parts_add_up_to_the_elf(mps2_export):
    out, report = mps2_export.out, mps2_export.report
    sections = _alloc_sections(out / "build/firmware.elf")
    assert ".text" in sections and ".bss" in sections
    code = sum(s for name, (s, a) in sections.items() if a < CODE.start + CODE.bytes)
    in_ram = {n: s for n, (s, a) in sections.items() if RAM.start <= a < RAM.start + RAM.bytes}
    data = in_ram.get(".data", 0)
    assert report.flash.used == sum(p.bytes for p in report.flash.parts) == code + data
    stack = report.ram.part(memory.STACK)
    assert stack == STAND_IN_STACK  # from --defsym DT_STACK_BYTES
    assert report.ram.used == sum(p.bytes for p in report.ram.parts) == sum(in_ram.values()) + stack
    assert in_ram[".bss"] > 0
    # sections in no region of the board (none here, or the real linker script's NVRAM)
    # are listed apart, not added to a limit
    others = {n: s for n, (s, a) in sections.items()
              if a >= CODE.start + CODE.bytes and n not in in_ram}
    assert {p.name: p.bytes for p in report.other} == others
    # the named parts are the right objects
    arena = _define(out / "generated/dt_model.h", "DT_MODEL_ARENA_BYTES")
    assert report.ram.part(memory.ARENA) == max(4, -(-arena // 4) * 4)
    assert report.ram.part(memory.DRIP_WORK) == _define(out / "generated/drips_kernel.h",
                                                        "DRIP_WORK_BYTES")
    assert report.ram.part(memory.APP_RAM) == FRAME_BYTES  # the stand-in's only variables
    weights = _define(out / "generated/dt_model.h", "DT_MODEL_WEIGHT_BYTES")
    assert weights <= report.flash.part(memory.WEIGHTS) < weights + 2048  # + layer params
    assert report.flash.part(memory.MODEL_CODE) > 0 and report.flash.part(memory.DRIP_KERNEL) > 0
    assert report.flash.capacity == CODE.bytes and report.ram.capacity == RAM.bytes
    assert report.fits
    saved = json.loads((out / "memory-report.json").read_text())
    assert saved["flash"]["used"] == report.flash.used and saved["ram"]["used"] == report.ram.used
    text = (out / "memory-report.txt").read_text()
    assert "model arena" in text and f"{report.flash.used:,}" in text


@needs_arm
def test_model_c_array_compiles_and_holds_the_model_bytes(mps2_export, tmp_path):
    out = mps2_export.out
    (tmp_path / "dump.c").write_text(
        '#include <stdint.h>\n#include <stdio.h>\n#include "model_tflite.h"\n'
        "int main(void) {\n"
        "    if (((uintptr_t)g_model) % 16 != 0) return 2;\n"
        "    return fwrite(g_model, 1, g_model_len, stdout) == g_model_len ? 0 : 1;\n}\n")
    exe = tmp_path / "dump"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{out}",
                    str(out / "model_tflite.c"), str(tmp_path / "dump.c"), "-o", str(exe)],
                   check=True)
    dumped = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert dumped == (out / "model.tflite").read_bytes()
    # and for the Cortex-M4F, warning-free
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16",
                    "-mfloat-abi=hard", "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c",
                    str(out / "model_tflite.c"), "-o", str(tmp_path / "m.o")], check=True)


@needs_arm
def test_refuses_to_overwrite_without_force(mps2_export, fitted_run, firmware, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["export", str(fitted_run), "--board", "mps2-an386", "--out", str(out)])
    assert code == 1 and (out / "keep.txt").read_text() == "mine"
    with pytest.raises(ExportError, match="--force"):
        export_project(fitted_run, mps2(), out, firmware_root=firmware)
    result = export_project(fitted_run, mps2(), out, firmware_root=firmware, force=True,
                            build=False)
    assert not (out / "keep.txt").exists() and (out / "Makefile").is_file()
    assert result.built is False and "--no-build" in result.notice


@needs_arm
def test_a_failed_build_leaves_no_partial_output(fitted_run, tmp_path):
    broken = write_fake_firmware(tmp_path / "fw", {"broken.c": "int broken(void) { return ; }\n"})
    out = tmp_path / "proj"
    with pytest.raises(ExportError, match=r"(?s)failed.*broken\.c"):
        export_project(fitted_run, mps2(), out, firmware_root=broken)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["fw"]  # no staging folder left
    # an existing project survives a failed --force export untouched
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(ExportError):
        export_project(fitted_run, mps2(), out, firmware_root=broken, force=True)
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_missing_toolchain_still_writes_the_project(fitted_run, firmware, tmp_path,
                                                     monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = export_project(fitted_run, mps2(), tmp_path / "p", firmware_root=firmware)
    assert result.built is False and result.report is None
    assert "gcc-arm-none-eabi" in result.notice and "make -C" in result.notice
    assert (tmp_path / "p" / "Makefile").is_file()
    assert not (tmp_path / "p" / "memory-report.txt").exists()
    manifest = json.loads((tmp_path / "p" / "export.json").read_text())
    assert manifest["build"]["built"] is False and manifest["build"]["notice"] == result.notice


def test_precheck_names_what_does_not_fit(fitted_run, firmware, tmp_path):
    flash = MemoryRegion("FLASH", 0, 4096, "rx")
    ram = MemoryRegion("RAM", 0x20000000, 64 * 1024, "rwx")
    with pytest.raises(ExportError, match=r"weights \(5,\d{3} bytes\) exceed the 4,096 bytes "
                                          r"of flash .* by 1,\d{3} bytes"):
        export_project(fitted_run, mps2(memory=(flash, ram)), tmp_path / "a",
                       firmware_root=firmware)
    small_ram = MemoryRegion("RAM", 0x20000000, 8192, "rwx")
    big_flash = MemoryRegion("FLASH", 0, 1 << 20, "rx")
    with pytest.raises(ExportError, match=r"model arena \(\d[\d,]* bytes\).*stack \(8,192\)"
                                          r".*more than the 8,192"):
        export_project(fitted_run, mps2(memory=(big_flash, small_ram)), tmp_path / "b",
                       firmware_root=firmware)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_sample_the_store_cannot_hold_is_refused_before_building(fitted_run, firmware,
                                                                     tmp_path):
    flash = MemoryRegion("FLASH", 0, 1 << 20, "rx")
    ram = MemoryRegion("RAM", 0x20000000, 64 * 1024, "rwx")
    # 2 pages of 64 bytes: a record of at most 1 x (64 - 28) - 24 = 12 bytes; digits has 64.
    tiny = mps2(memory=(flash, ram), store=FlashArea(0x80000, 128, 64))
    with pytest.raises(ExportError, match=r"a sample of this model \(64 bytes\) cannot be "
                                          r"stored: the sample store \(2 pages of 64 bytes\) "
                                          r"takes samples of at most 12 bytes"):
        export_project(fitted_run, tiny, tmp_path / "p", firmware_root=firmware,
                       build=False)
    assert not (tmp_path / "p").exists()
    # Two pages more hold one sample (spanning three pages), and the project says so.
    four = mps2(memory=(flash, ram), store=FlashArea(0x80000, 256, 64))
    result = export_project(fitted_run, four, tmp_path / "q", firmware_root=firmware,
                            build=False)
    assert result.store.samples == 1
    manifest = json.loads((tmp_path / "q" / "export.json").read_text())
    assert manifest["store"] == {"pages": 4, "page_bytes": 64, "sample_bytes": 64,
                                 "samples": 1, "max_sample_bytes": 84}


@needs_arm
def test_image_larger_than_flash_minus_store_does_not_fit(fitted_run, firmware, tmp_path):
    """Weights alone fit (the pre-check passes), the whole image does not once the store
    and settings pages are set aside: the memory report catches it after the build."""
    flash = MemoryRegion("FLASH", 0, 16 * 1024, "rx")
    ram = MemoryRegion("RAM", 0x20000000, 64 * 1024, "rwx")
    board = mps2(memory=(flash, ram), store=FlashArea(0x2000, 4096, 2048),
                 settings=FlashArea(0x3000, 4096, 2048))
    with pytest.raises(ExportError, match=r"does not fit on mps2-an386: flash: [\d,]+ bytes "
                                          r"used, 8,192 available, [\d,]+ bytes too many"):
        export_project(fitted_run, board, tmp_path / "p", firmware_root=firmware)
    assert not (tmp_path / "p").exists()


@needs_arm
def test_linker_region_overflow_becomes_a_does_not_fit_error(fitted_run, firmware, tmp_path):
    board_dir = tmp_path / "board"
    shutil.copytree(load_board("mps2-an386").directory, board_dir)
    script = board_dir / "link.ld"
    text, count = re.subn(r"(CODE\s*\(rx\)\s*:\s*ORIGIN\s*=\s*0x0+\s*,\s*LENGTH\s*=\s*)[^\n]+",
                          r"\g<1>8K", script.read_text())
    assert count == 1
    script.write_text(text)
    original = mps2()
    board = mps2(directory=board_dir, linker_script=script,
                 startup_sources=tuple(board_dir / p.name for p in original.startup_sources),
                 include_dirs=(board_dir,))
    with pytest.raises(ExportError, match=r"does not fit on mps2-an386: region CODE "
                                          r"overflowed by [\d,]+ bytes"):
        export_project(fitted_run, board, tmp_path / "p", firmware_root=firmware)
    assert not (tmp_path / "p").exists()


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None,
                    reason="cc or make not installed")
def test_host_board_builds_an_executable_with_the_flash_simulator(fitted_run, firmware,
                                                                  tmp_path):
    board = host_board(tmp_path)
    result = export_project(fitted_run, board, tmp_path / "host", firmware_root=firmware)
    exe = tmp_path / "host" / "build" / "firmware"
    assert result.built and result.images["elf"] == exe and exe.is_file()
    assert "firmware/store/dt_flash_sim.c" in (tmp_path / "host" / "Makefile").read_text()
    assert result.manifest["flash_simulated"] is True
    assert (tmp_path / "host" / "board" / "host_flash.c").is_file()
    assert subprocess.run([str(exe)]).returncode == 0  # the model and DRIP kernel ran natively
    report = result.report
    assert report.flash.capacity is None and report.fits
    assert report.ram.part(memory.ARENA) >= _define(tmp_path / "host/generated/dt_model.h",
                                                    "DT_MODEL_ARENA_BYTES")
    assert report.ram.used == sum(p.bytes for p in report.ram.parts)


def test_missing_firmware_folder_is_a_clear_error(fitted_run, tmp_path):
    with pytest.raises(ExportError, match=r"firmware/app/ sources"):
        export_project(fitted_run, mps2(), tmp_path / "p", firmware_root=tmp_path)


def test_missing_tools_notice_names_the_debian_packages(monkeypatch):
    monkeypatch.setattr(build_mod.shutil, "which",
                        lambda name: None if name.startswith("arm-none-eabi") else "/usr/bin/x")
    notice = build_mod.missing_tools(load_board("mps2-an386"))
    assert "arm-none-eabi-gcc" in notice and "gcc-arm-none-eabi libnewlib-arm-none-eabi" in notice
    monkeypatch.setattr(build_mod.shutil, "which", lambda name: "/usr/bin/x")
    assert build_mod.missing_tools(load_board("mps2-an386")) is None


def test_export_never_imports_tensorflow(fitted_run, firmware, tmp_path):
    """Commands that do not train stay fast: no TensorFlow (about 4 s per start)."""
    code = ("import sys\n"
            "from drip_tiny.export import export_project\n"
            f"export_project({str(fitted_run)!r}, 'mps2-an386', {str(tmp_path / 'p')!r}, "
            f"firmware_root={str(firmware)!r}, build=False)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tf_keras')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
