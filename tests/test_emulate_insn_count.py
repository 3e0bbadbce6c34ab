"""Exact instruction counts on the emulated Cortex-M4F (QEMU mps2-an386 with the
insn_count TCG plugin), exit statuses through semihosting, time limits, and a generated
model whose outputs on the emulated board equal the host build's.

Needs qemu-system-arm and arm-none-eabi-gcc: skipped without them (in CI, where
scripts/debian-packages.txt installs them, the skip fails: tests/conftest.py)."""

import shutil

import numpy as np
import pytest

from drip_tiny.emulator import (
    EmulatorError,
    EmulatorTimeout,
    bench_input,
    bench_model,
    build_elf,
    count_instructions,
    load_board,
    run_qemu,
)

NEEDED = {"qemu-system-arm": "qemu-system-arm", "arm-none-eabi-gcc": "gcc-arm-none-eabi"}


@pytest.fixture(scope="module", autouse=True)
def _require_tools():
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        message = (f"{', '.join(missing)} not installed (apt-get install "
                   f"{' '.join(NEEDED[t] for t in missing)})")
        pytest.skip(message)


# Two instructions per iteration whatever the compiler does: the loop is written in asm.
SPIN = """
#include <stdint.h>
__attribute__((noinline)) void spin(uint32_t n)
{
    __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n) : : "cc");
}
"""


def _image(tmp_path, name, body, **kwargs):
    source = tmp_path / f"{name}.c"
    source.write_text('#include <stdint.h>\n#include "dt_bench.h"\n#include "semihosting.h"\n'
                      + SPIN + body)
    return build_elf([source], tmp_path / f"{name}.elf", **kwargs)


LOOPS = (1, 2, 10, 1000, 12345)


def test_a_loop_of_n_iterations_counts_exactly_2n_plus_a_constant_on_every_run(tmp_path):
    elf = _image(tmp_path, "loops", """
static volatile uint32_t loops[] = {{{}}};
int main(void)
{{
    for (unsigned k = 0; k < sizeof loops / sizeof loops[0]; k++) {{
        uint32_t n = loops[k];
        dt_bench_begin();
        spin(n);
        dt_bench_end();
    }}
    return 0;
}}
""".format(", ".join(map(str, LOOPS))))
    first = count_instructions(elf, regions=len(LOOPS), timeout=20)
    constants = {count - 2 * n for count, n in zip(first.regions, LOOPS)}
    # begin's bx lr, mov r0, bl spin, spin's bx lr, bl end: 5 instructions around the loop
    assert len(constants) == 1 and 0 < constants.pop() < 10, first.regions
    second = count_instructions(elf, regions=len(LOOPS), timeout=20)
    assert second.regions == first.regions and second.total == first.total


def test_skipped_functions_count_nothing_and_the_boot_is_marked(tmp_path):
    """skip= leaves a function out of every region (the firmware's UART interrupt): the
    regions then count as if it had not run, however long it ran."""
    elf = _image(tmp_path, "skip", """
__attribute__((noinline)) void handler(uint32_t n)
{
    spin(n);
}
static volatile uint32_t loops[] = {0, 5, 500};
int main(void)
{
    for (unsigned k = 0; k < 3; k++) {
        dt_bench_begin();
        handler(loops[k]);
        dt_bench_end();
    }
    return 0;
}
""")
    counted = count_instructions(elf, regions=3, timeout=20).regions
    assert counted[2] - counted[1] == 2 * 495
    # handler's own instructions and spin's, which only handler calls, left out.
    skipped = count_instructions(elf, regions=3, timeout=20, skip=["handler", "spin"])
    assert len(set(skipped.regions)) == 1 and skipped.regions[0] < counted[0]
    with pytest.raises(EmulatorError, match="no function nonexistent"):
        count_instructions(elf, regions=3, timeout=20, skip=["nonexistent"])


def test_the_exit_status_of_main_comes_back_through_semihosting(tmp_path):
    # A float operation too: it faults unless reset enabled the FPU.
    elf = _image(tmp_path, "exit3", """
volatile float f = 1.5f;
int main(void)
{
    dt_semihost_write0("about to exit\\n");
    f = f * 2.0f;
    return f == 3.0f ? 3 : 4;
}
""")
    run = run_qemu(elf, expect_status=None, timeout=20)
    assert run.exit_status == 3
    assert "about to exit" in run.console
    with pytest.raises(EmulatorError, match="exited with status 3"):
        run_qemu(elf, expect_status=0, timeout=20)


def test_a_fault_ends_the_emulation_with_128_plus_the_exception_number(tmp_path):
    elf = _image(tmp_path, "fault", """
int main(void)
{
    __asm__ volatile("udf #0");
    return 0;
}
""")
    assert run_qemu(elf, expect_status=None, timeout=20).exit_status == 128 + 3  # HardFault


def test_a_hanging_image_is_stopped_by_the_time_limit(tmp_path):
    elf = _image(tmp_path, "hang", """
static volatile int forever = 1;
int main(void)
{
    dt_bench_begin();
    while (forever) {
        spin(1000);
    }
    dt_bench_end();
    return 0;
}
""")
    with pytest.raises(EmulatorTimeout, match=r"did not exit within 1\.5 s"):
        count_instructions(elf, timeout=1.5)
    with pytest.raises(EmulatorTimeout):
        run_qemu(elf, timeout=1)


def test_nested_markers_and_missing_regions_are_errors(tmp_path):
    nested = _image(tmp_path, "nested", """
int main(void)
{
    dt_bench_begin();
    dt_bench_begin();
    dt_bench_end();
    return 0;
}
""")
    with pytest.raises(EmulatorError, match="begin marker entered inside a region"):
        count_instructions(nested, timeout=20)
    one = _image(tmp_path, "one", "int main(void) { dt_bench_begin(); dt_bench_end(); "
                                  "return 0; }")
    assert count_instructions(one, regions=1, timeout=20).regions == (2,)  # bx lr; bl end
    with pytest.raises(EmulatorError, match="completed 1 counted regions, expected 2"):
        count_instructions(one, regions=2, timeout=20)


def test_build_errors_name_the_fix(tmp_path, monkeypatch):
    broken = tmp_path / "broken.c"
    broken.write_text("int main(void) { return undeclared; }\n")
    with pytest.raises(EmulatorError, match="undeclared"):
        build_elf([broken], tmp_path / "broken.elf")
    board = load_board()
    monkeypatch.setenv("PATH", str(tmp_path))  # no tools at all
    with pytest.raises(EmulatorError, match=r"apt-get install .*gcc-arm-none-eabi"):
        build_elf([broken], tmp_path / "broken.elf", board=board)
    with pytest.raises(EmulatorError, match=r"apt-get install .*qemu-system-arm"):
        run_qemu(tmp_path / "broken.elf", board=board)


def _small_model() -> bytes:
    import codegen_models as cm
    import tf_keras as keras

    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)
    return cm.convert(keras.Model(inputs, outputs), (8, 8, 1), rng)


def test_a_generated_model_runs_on_qemu_like_on_the_host_and_counts_an_extra_hook(tmp_path):
    from drip_tiny.codegen import HostModel

    data = _small_model()
    extra = tmp_path / "extra.c"
    extra.write_text(SPIN + "void dt_bench_extra(void) { spin(500); }\n")
    result = bench_model(data, extra_sources=[extra], work_dir=tmp_path / "bench")
    host = HostModel(data)
    shape = host.info.inputs[0].shape
    expected = host.invoke(bench_input(int(np.prod(shape))).reshape(shape))
    assert len(result.outputs) == len(expected)
    for got, want in zip(result.outputs, expected):
        np.testing.assert_array_equal(got, want)
    assert result.macs > 0 and result.invoke_instructions > result.macs
    # bl dt_bench_extra, its push/bl spin/pop or tail call, spin's loop and bx lr: the
    # loop's 1000 instructions plus a handful
    assert 1000 < result.extra_instructions < 1010
    assert result.sizes.bss >= result.arena_bytes
    assert result.elf is not None and result.elf.exists()
    # RAM: the arena is in it, the NVRAM store is not; the painted stack shows a real peak.
    assert result.arena_bytes <= result.ram_static_bytes < result.arena_bytes + 1024
    assert 64 < result.stack_peak_bytes < 4096
    assert result.ram_peak_bytes == result.ram_static_bytes + result.stack_peak_bytes


def test_the_stack_peak_sees_a_deep_frame(tmp_path):
    """A dt_bench_extra with a 3 KB local array: the measured peak grows by about that."""
    data = _small_model()
    shallow = bench_model(data)
    extra = tmp_path / "deep.c"
    extra.write_text('''#include <stdint.h>
void dt_bench_extra(void);
__attribute__((noinline)) static void deep(void)
{
    volatile uint8_t buffer[3000];
    for (unsigned i = 0; i < sizeof buffer; i++) {
        buffer[i] = (uint8_t)i;
    }
}
void dt_bench_extra(void)
{
    deep();
}
''')
    deep = bench_model(data, extra_sources=[extra])
    assert 3000 <= deep.stack_peak_bytes < shallow.stack_peak_bytes + 3300


def test_per_operator_regions_split_the_inference_without_changing_it(tmp_path):
    data = _small_model()
    whole = bench_model(data)
    split = bench_model(data, per_op=True, extra_sources=[], work_dir=tmp_path / "ops")
    for got, want in zip(split.outputs, whole.outputs):
        np.testing.assert_array_equal(got, want)
    names = [name for _, name, _ in split.op_instructions]
    assert names == ["CONV_2D", "MEAN", "FULLY_CONNECTED"]
    assert all(n > 0 for _, _, n in split.op_instructions)
    # Each boundary costs a call and a flag test: a few instructions per operator.
    extra = split.invoke_instructions - whole.invoke_instructions
    assert 0 < extra <= 12 * len(names)
    conv = split.op_instructions[0][2]
    assert conv > sum(n for _, _, n in split.op_instructions[1:])  # the MACs live there
