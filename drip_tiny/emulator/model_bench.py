"""Instructions per inference of a generated model on the emulated Cortex-M4F, measured the
way the project's TFLM reference figures were: input x[i] = (int8)((i*37+11) & 0xFF), one
warm-up inference, the second one counted (boards/<board>/bench/dt_bench_model.c).

    result = bench_model("model.tflite")
    result.invoke_instructions, result.outputs, result.sizes.text

To count another function right after that inference (the arena then holds its tensors),
define `void dt_bench_extra(void)` in a C file and pass it in extra_sources; its count is
result.extra_instructions. Never imports TensorFlow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drip_tiny.boards import Board, load_board
from drip_tiny.emulator.insn_count import (
    ElfSizes,
    build_elf,
    count_instructions,
    elf_sizes,
)
from drip_tiny.errors import ConfigError, EmulatorError

if TYPE_CHECKING:
    from drip_tiny.codegen.graph import Keep, Program, TfliteSource

BENCH_MAIN = "dt_bench_model.c"
REGION_EMPTY, REGION_INVOKE, REGION_EXTRA = 0, 1, 2
_NUMPY = {"INT8": np.int8, "FLOAT32": np.float32}


@dataclass(frozen=True)
class ModelBench:
    invoke_instructions: int  # the second dt_model_invoke(), marker overhead subtracted
    extra_instructions: int  # dt_bench_extra() after it (0-ish for the empty default)
    marker_overhead: int  # instructions of an empty region, subtracted from both above
    total_instructions: int  # reset to exit: start-up, both inferences, printing
    outputs: tuple[np.ndarray, ...]  # after the second inference, batch axis removed
    sizes: ElfSizes  # the whole image: model, kernels, startup, bench main, newlib-nano
    arena_bytes: int
    weight_bytes: int
    macs: int
    elf: Path | None  # kept only when work_dir was given
    optimization: str
    console: str = ""  # what the image wrote through semihosting (outputs, extra's lines)
    # With per_op: (operator index, op name, instructions) per operator with code, in graph
    # order; each count still holds about one marker pair's cost (a few instructions).
    op_instructions: tuple[tuple[int, str, int], ...] = ()
    # The deepest the stack went (start-up, main, both inferences, dt_bench_extra), found
    # by painting it first; None if the image did not print it.
    stack_peak_bytes: int | None = None
    # .data + .bss in the board's RAM region (not its NVRAM), without the stack reserve.
    ram_static_bytes: int | None = None

    @property
    def ram_peak_bytes(self) -> int | None:
        """Static RAM plus the measured stack peak: what the image needs at most."""
        if self.stack_peak_bytes is None or self.ram_static_bytes is None:
            return None
        return self.ram_static_bytes + self.stack_peak_bytes


def bench_input(count: int) -> np.ndarray:
    """The anchors' input pattern: x[i] = (int8)((i*37+11) & 0xFF), i = 0..count-1."""
    i = np.arange(count, dtype=np.int64)
    return ((i * 37 + 11) & 0xFF).astype(np.uint8).view(np.int8)


def _parse_outputs(console: str, program: Program) -> tuple[np.ndarray, ...]:
    found: dict[int, bytes] = {}
    for line in console.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "output" and fields[1].isdigit():
            found[int(fields[1])] = bytes.fromhex(fields[2])
    outputs = []
    for k, t in enumerate(program.info.outputs):
        if k not in found:
            raise EmulatorError(f"the benchmark printed no output {k}; it stopped early or "
                                f"its console was lost:\n{console[-2000:]}")
        dtype = _NUMPY[t.dtype]
        values = np.frombuffer(found[k], dtype=np.dtype(dtype).newbyteorder("<"))
        if values.size != int(np.prod(t.shape)):
            raise EmulatorError(f"output {k} has {values.size} values on the board, "
                                f"{int(np.prod(t.shape))} in the model")
        outputs.append(values.astype(dtype).reshape(t.shape)[0].copy())
    return tuple(outputs)


def bench_model(tflite: TfliteSource, *, work_dir: str | os.PathLike[str] | None = None,
                extra_sources: Iterable[str | os.PathLike[str]] = (),
                extra_include_dirs: Iterable[str | os.PathLike[str]] = (),
                defines: Iterable[str] = (), keep: Keep = (), optimization: str = "-O2",
                board: Board | None = None, timeout: float = 120.0,
                per_op: bool = False) -> ModelBench:
    """Generate C for tflite (a path or bytes), build it with the benchmark main for the
    board, run it under QEMU and count the second inference's instructions.

    extra_sources may define dt_bench_extra() (see the module docstring); keep is passed to
    the code generator, so kept tensors are readable from dt_bench_extra through
    dt_model_keep(). The generated files and the image stay in work_dir if given.
    With per_op, every operator with code is counted as its own region (DT_MODEL_AFTER_OP,
    dt_bench.h); invoke_instructions is then their sum plus the return.
    """
    from drip_tiny import codegen
    from drip_tiny.codegen import emit

    board = board or load_board()
    with tempfile.TemporaryDirectory(prefix="drip-tiny-bench-") as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        model_dir = root / "model"
        program = codegen.generate(tflite, model_dir, keep=keep)
        inputs = program.info.inputs
        if len(inputs) != 1 or inputs[0].dtype != "INT8":
            raise ConfigError("the benchmark main feeds one int8 input; this model has "
                              + ", ".join(f"{t.dtype} {list(t.shape)}" for t in inputs))
        sources = [model_dir / "dt_model.c", model_dir / "dt_model_data.c",
                   *emit.kernel_sources(program), board.bench_dir / BENCH_MAIN,
                   *map(Path, extra_sources)]
        ops = [(s.index, s.op_name) for s in program.steps if s.lowered.function is not None]
        profile_defines = ["DT_MODEL_AFTER_OP(op)=dt_bench_after_op(op)"] if per_op else []
        profile_flags = ["-include", str(board.bench_dir / "dt_bench.h")] if per_op else []
        elf = build_elf(sources, root / "bench.elf", board=board, optimization=optimization,
                        include_dirs=[model_dir, emit.kernels_dir(), *extra_include_dirs],
                        defines=[*defines, *profile_defines], extra_flags=profile_flags)
        regions = 3 + (len(ops) if per_op else 0)
        counts = count_instructions(elf, board=board, regions=regions, timeout=timeout)
        sizes = elf_sizes(elf)
        static_ram = _static_ram(elf, board)
        outputs = _parse_outputs(counts.console, program)
    overhead = counts.regions[REGION_EMPTY]
    invoke_regions = counts.regions[REGION_INVOKE:REGION_INVOKE + 1 + (len(ops) if per_op else 0)]
    extra = counts.regions[-1]
    op_counts = tuple((index, name, n - overhead)
                      for (index, name), n in zip(ops, invoke_regions)) if per_op else ()
    return ModelBench(
        invoke_instructions=sum(invoke_regions) - len(invoke_regions) * overhead,
        extra_instructions=extra - overhead, op_instructions=op_counts,
        marker_overhead=overhead, total_instructions=counts.total, outputs=outputs,
        sizes=sizes, arena_bytes=program.arena_bytes, weight_bytes=emit.weight_bytes(program),
        macs=program.macs, elf=elf if work_dir is not None else None,
        optimization=optimization, console=counts.console,
        stack_peak_bytes=_stack_peak(counts.console),
        ram_static_bytes=static_ram)


def _static_ram(elf: Path, board: Board) -> int:
    """Bytes of the allocated sections that lie in the board's RAM region (the NVRAM
    region's store and settings are elsewhere, the stack reserve is not a section)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    ram = board.region(flash=False)
    total = 0
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            addr, size = section["sh_addr"], section["sh_size"]
            if (section["sh_flags"] & SH_FLAGS.SHF_ALLOC and size
                    and ram.start <= addr < ram.start + ram.bytes):
                total += size
    return total


def _stack_peak(console: str) -> int | None:
    for line in console.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "stack" and fields[1].isdigit():
            return int(fields[1])
    return None
