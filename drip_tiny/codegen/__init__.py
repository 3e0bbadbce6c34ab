"""Int8 .tflite -> plain C: bit-exact with TFLM, one static arena, constants in flash.

- `build(model_bytes)` reads and checks the model, lowers every operator (drip_tiny.codegen.ops)
  and plans the arena (drip_tiny.codegen.planner): a Program.
- `generate(tflite, out_dir)` writes dt_model.{h,c} and dt_model_data.{h,c} (templates/)
  and returns the Program; the kernels are firmware/kernels/.
- `HostModel(tflite).invoke(x)` compiles that code for this machine and runs it.
- `memory_report(tflite)`: arena, weight and code bytes, MACs per layer.

Knows nothing of the DRIP method (drip/kernel_codegen.py builds on this package). May
import tflite only. Never imports TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

from drip_tiny.codegen.graph import Keep, Program, TfliteSource, build
from drip_tiny.codegen.host import HostModel
from drip_tiny.codegen.report import LayerReport, MemoryReport, memory_report
from drip_tiny.errors import CodegenError

__all__ = ["CodegenError", "HostModel", "LayerReport", "MemoryReport", "Program", "build",
           "generate", "memory_report"]


def generate(tflite: TfliteSource, out_dir: str | os.PathLike[str], keep: Keep = (),
             with_kernels: bool = False) -> Program:
    """Write the generated C for `tflite` (a path or the model's bytes) into out_dir; with
    `with_kernels`, also copy the kernels it calls (and their headers), so out_dir builds
    on its own: `cc -c out_dir/*.c`."""
    import shutil

    from drip_tiny.codegen import emit

    data = tflite if isinstance(tflite, (bytes, bytearray)) else Path(tflite).read_bytes()
    program = build(bytes(data), keep=keep)
    out = Path(out_dir)
    emit.render(program, out)
    if with_kernels:
        for source in emit.kernel_sources(program):
            shutil.copy2(source, out / source.name)
            shutil.copy2(source.with_suffix(".h"), out / source.with_suffix(".h").name)
        # Headers without a .c are shared helpers (dt_fixedpoint.h, dt_pool2d_common.h,
        # ...): copy them all rather than track which kernel includes which.
        for header in emit.kernels_dir().glob("*.h"):
            if not header.with_suffix(".c").exists():
                shutil.copy2(header, out / header.name)
    return program
