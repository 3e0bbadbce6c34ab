"""The emulated boards: the host build and mps2-an386 under QEMU, run by the host.

- launch.py: start an emulated board as a process, connect to it, stop it (`emulate`,
  `hil --board`, the pytest plugin);
- images.py: find the firmware image of an exported project;
- insn_count.py: build the TCG plugin and bare-metal images, run QEMU under a time limit,
  count instructions between the dt_bench_begin/dt_bench_end markers;
- model_bench.py: the instructions per inference of a generated model, measured like
  TFLM's reference figures (warm-up, then the second inference).

May import link and codegen. Never imports train or TensorFlow.
"""

from drip_tiny.boards import DEFAULT_BOARD, Board, load_board
from drip_tiny.emulator.insn_count import (
    ElfSizes,
    InsnCounts,
    QemuRun,
    build_elf,
    build_plugin,
    count_instructions,
    elf_sizes,
    qemu_command,
    run_qemu,
    symbol_addresses,
)
from drip_tiny.emulator.model_bench import ModelBench, bench_input, bench_model
from drip_tiny.errors import EmulatorError, EmulatorTimeout

__all__ = ["DEFAULT_BOARD", "Board", "ElfSizes", "EmulatorError", "EmulatorTimeout",
           "InsnCounts", "ModelBench", "QemuRun", "bench_input", "bench_model", "build_elf",
           "build_plugin", "count_instructions", "elf_sizes", "load_board", "qemu_command",
           "run_qemu", "symbol_addresses"]
