"""Running code on emulated boards (QEMU) and counting its instructions exactly.

- `insn_count`: build the TCG plugin and bare-metal images, run QEMU under a time limit,
  count instructions between the dt_bench_begin/dt_bench_end markers.
- `bench`: the instructions per inference of a generated model, measured like TFLM's
  reference figures (warm-up, then the second inference), plus an optional extra function.
- `board`: boards/<name>/board.json as a frozen dataclass.

Never imports TensorFlow.
"""

from drip_tiny.errors import EmulatorError, EmulatorTimeout
from drip_tiny.boards import DEFAULT_BOARD, Board, load_board
from drip_tiny.emulate.bench import ModelBench, bench_input, bench_model
from drip_tiny.emulate.insn_count import ElfSizes, InsnCounts, QemuRun, build_elf, build_plugin, count_instructions, elf_sizes, qemu_command, run_qemu, symbol_addresses

__all__ = ["DEFAULT_BOARD", "Board", "ElfSizes", "EmulatorError", "EmulatorTimeout",
           "InsnCounts", "ModelBench", "QemuRun", "bench_input", "bench_model", "build_elf",
           "build_plugin", "count_instructions", "elf_sizes", "load_board", "qemu_command",
           "run_qemu", "symbol_addresses"]
