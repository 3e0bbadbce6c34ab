"""The flash sample store (firmware/store, docs/storage-format.md).

The C scenarios live in tests/store/store_driver.c; this file builds that driver once with
ASan and UBSan and runs one scenario per test, so a failing scenario names itself. The
file-backed flash is checked across two processes (a real reboot) and against an
independent Python reader of the documented format.
"""

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "firmware" / "store"
DRIVER = ROOT / "tests" / "store" / "store_driver.c"
SOURCES = [STORE / "dt_store.c", STORE / "dt_flash_sim.c"]
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion",
        "-Wno-sign-conversion"]


def _cc() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    return cc


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("store") / "store_driver"
    cmd = [_cc(), *WARN, "-O1", "-g", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{STORE}",
           str(DRIVER), *map(str, SOURCES), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


def run(driver: Path, *args: str) -> str:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([str(driver), *args], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 0, f"{args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.startswith("PASS "), proc.stdout
    return proc.stdout.strip()


@pytest.mark.parametrize("scenario", [
    "crc",                  # CRC-32 check value and chaining
    "append-read",          # byte-exact read back by index and id, monotonic ids, limits
    "open-args",            # geometry/policy checked; another format version is refused
    "erase-all",            # empties the store, ids keep increasing across a reboot
    "full-stop",            # FULL error, nothing written, old samples intact
    "full-overwrite",       # oldest page dropped, newest kept, count right
    "nor-rules",            # the simulator refuses 0->1, double program, misalignment
    "torn-append",          # power cut at every operation of one append, 3 tear modes
    "half-written-commit",  # every partial pattern of the commit word is ignored
    "corrupt",              # a flipped byte: CORRUPT, buffer cleared, others fine
    "failed-recovery",      # I/O error + failed re-read: refuse everything until reopen
    "span",                 # records larger than a page: read back, FULL, largest, lost page
    "span-torn",            # power cut at every operation of an append spanning 3 pages
    "span-overwrite",       # overwrite-oldest drops record heads; continuations skipped
])
def test_scenario(driver, scenario):
    run(driver, scenario)


def test_power_cut_sweep(driver):
    """Cut power at every flash operation of a 50-step workload (wrap-around, erase_all)
    on 4 pages of 256 bytes, for both full policies and three tear modes."""
    out = run(driver, "sweep")
    facts = dict(kv.split("=") for kv in out.split()[2:])
    print(out)
    assert int(facts["cuts"]) > 1000
    assert int(facts["ops_overwrite"]) > 500  # the workload really wrapped around


def test_power_cut_sweep_with_records_spanning_pages(driver):
    """The same sweep on 6 pages of 128 bytes with samples up to 260 bytes: most records
    span two or three pages, and wrapping drops pages that hold record heads."""
    out = run(driver, "sweep-span")
    facts = dict(kv.split("=") for kv in out.split()[2:])
    print(out)
    assert int(facts["cuts"]) > 3000
    assert int(facts["ops_overwrite"]) > 1000


def test_double_power_cut_sweep_with_records_spanning_pages(driver):
    out = run(driver, "sweep-span-double")
    print(out)
    assert int(out.split("cuts=")[1]) > 5000


def test_double_power_cut_sweep(driver):
    """A second cut at every operation after recovering from a first one (every 11th
    operation of the same workload): recovery of an already recovered store."""
    out = run(driver, "sweep-double")
    print(out)
    assert int(out.split("cuts=")[1]) > 5000


def test_reboot_through_file(driver, tmp_path):
    image = tmp_path / "flash.bin"
    run(driver, "reboot-write", str(image))      # 7 samples, then a cut inside the 8th
    assert image.stat().st_size == 4 * 512
    out = run(driver, "reboot-check", str(image))  # a new process: 7 intact, 8th appended
    assert out.endswith("count=8")
    assert [r["id"] for r in read_image(image.read_bytes(), 512)] == list(range(1, 9))


def test_python_reader_follows_records_across_pages(driver, tmp_path):
    image = tmp_path / "flash.bin"
    run(driver, "span-write", str(image))
    records = read_image(image.read_bytes(), 256)
    lens = [300, 10, 500, 0, 204, 1]
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["payload"] for r in records] == [sample_fill(k, n) for k, n in enumerate(lens)]
    assert [r["class"] for r in records] == [k % 10 - 3 for k in range(6)]


def sample_fill(k: int, n: int) -> bytes:
    """store_driver.c's sample content: a pure function of the sample number k."""
    x, out = (k * 2654435761 + 1) & 0xFFFFFFFF, bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


PAGE_HDR, REC_HDR = 28, 24


def _half_and_complement(word: int) -> int | None:
    """A 16-bit value stored with its complement in the high half, or None if damaged."""
    return word & 0xFFFF if (word >> 16) == (~word & 0xFFFF) else None


def read_image(image: bytes, page_size: int) -> list:
    """An independent reader of docs/storage-format.md, sections 2, 3 and 6: the LIVE
    pages in seq order; records packed after each page's continuation; a record longer
    than the rest of its page continues after the header of the next LIVE page."""
    pages = []
    for p in range(len(image) // page_size):
        page = image[p * page_size:(p + 1) * page_size]
        magic, version, seq, _base_id, crc, retired, cont = struct.unpack_from("<7I", page)
        if magic != 0x53544454 or zlib.crc32(page[:16]) != crc:
            continue
        assert version == 2
        cont = _half_and_complement(cont)
        if retired == 0xFFFFFFFF and cont is not None:
            pages.append((seq, cont, page))
    pages.sort()
    records = []
    for i, (_, cont, page) in enumerate(pages):
        off = PAGE_HDR + cont
        while off + REC_HDR <= page_size:
            commit, lw, rid, cls, drips, crc = struct.unpack_from("<IIIifI", page, off)
            n = _half_and_complement(lw)
            if commit != 0x4C4F4752 or n is None:
                break
            payload = page[off + REC_HDR:off + REC_HDR + n]
            later = iter(pages[i + 1:])
            while len(payload) < n:  # continues on the next pages, after their header
                _, next_cont, next_page = next(later)
                payload += next_page[PAGE_HDR:PAGE_HDR + min(next_cont, n - len(payload))]
            assert zlib.crc32(page[off + 4:off + 20] + payload) == crc
            records.append({"id": rid, "class": cls, "drips": drips, "payload": payload})
            off += REC_HDR + (n + 3) // 4 * 4
    return records


ARM_FLAGS = ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb", "-O2"]


def test_compiles_for_cortex_m4f(tmp_path):
    arm = shutil.which("arm-none-eabi-gcc")
    if arm is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    obj = tmp_path / "dt_store.o"
    proc = subprocess.run([arm, *WARN, *ARM_FLAGS, f"-I{STORE}", "-c",
                           str(STORE / "dt_store.c"), "-o", str(obj)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    sim = subprocess.run([arm, *WARN, *ARM_FLAGS, "-DDT_FLASH_SIM_NO_FILES", f"-I{STORE}",
                          "-c", str(STORE / "dt_flash_sim.c"), "-o", str(tmp_path / "sim.o")],
                         capture_output=True, text=True)
    assert sim.returncode == 0 and sim.stderr == "", sim.stderr
    # No heap, no stdio: the store needs nothing from libc but the mem* functions.
    nm = shutil.which("arm-none-eabi-nm")
    if nm:
        undefined = subprocess.run([nm, "-u", str(obj)], capture_output=True, text=True,
                                   check=True).stdout.split()
        assert set(undefined) - {"U"} <= {"memcpy", "memmove", "memset"}, undefined


def test_scenarios_on_emulated_cortex_m4f(tmp_path):
    """Every scenario but the file-backed reboot, on mps2-an386 under QEMU: there the
    simulator over a RAM buffer is the board's flash (docs/storage-format.md section 1)."""
    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from drip_tiny.emulator import build_elf, run_qemu

    elf = build_elf([DRIVER, *SOURCES], tmp_path / "store.elf", include_dirs=[STORE],
                    defines=["DT_STORE_ON_TARGET", "DT_FLASH_SIM_NO_FILES"],
                    with_bench_markers=False)
    run = run_qemu(elf, timeout=600, expect_status=0)  # a hang guard only
    assert run.console.rstrip().endswith("ALL PASS"), run.console
    assert "PASS sweep cuts=" in run.console
    assert "PASS sweep-double cuts=" in run.console
