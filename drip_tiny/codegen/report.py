"""Memory report of a generated model: arena, weights, code for Cortex-M4F, MACs per layer."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from drip_tiny import child_processes
from drip_tiny.codegen import emit
from drip_tiny.codegen.graph import Keep, Program, TfliteSource, build
from drip_tiny.codegen.host import WARNINGS, run_compiler
from drip_tiny.errors import CodegenError

ARM_GCC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
CORTEX_M4F_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
                    "-std=c99", "-ffunction-sections", "-fdata-sections", *WARNINGS)


@dataclass(frozen=True)
class LayerReport:
    index: int
    op: str
    output: str
    shape: tuple[int, ...]
    macs: int


@dataclass(frozen=True)
class MemoryReport:
    arena_bytes: int  # the static activation arena (RAM)
    weight_bytes: int  # constant arrays in flash: weights, biases, multipliers, shifts
    code_bytes: int | None  # text+data of the model code and its kernels for Cortex-M4F
    params_bytes: int | None  # the per-operator parameter structs (flash), from the object
    # The most bytes alive at once at tensor granularity: the floor for any planner that
    # never lets an operator's output overlap its input (TFLM's); ours can go below it.
    tensor_bound_bytes: int
    layers: tuple[LayerReport, ...]
    optimization: str = "-O2"
    tflm_head_bytes: int | None = None  # TFLM's activation plan for the same model
    tflm_total_bytes: int | None = None  # plus its bookkeeping (64-bit host layout)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def format(self) -> str:
        """A plain-text report: memory against TFLM's, then MACs per layer."""
        def n(v: int | None) -> str:
            return "n/a" if v is None else f"{v:,}"
        lines = [f"arena (RAM)      {n(self.arena_bytes)} bytes"]
        if self.tflm_head_bytes is not None:
            saved = 100.0 * (1 - self.arena_bytes / self.tflm_head_bytes)
            lines.append(f"TFLM arena       {n(self.tflm_head_bytes)} bytes of activations, "
                         f"{n(self.tflm_total_bytes)} in total (ours is {saved:.0f}% smaller "
                         "than its activations alone)")
        lines += [f"weights (flash)  {n(self.weight_bytes)} bytes",
                  f"code (flash)     {n(self.code_bytes)} bytes for Cortex-M4F "
                  f"{self.optimization}, plus {n(self.params_bytes)} bytes of parameters",
                  f"MACs             {n(self.macs)}", "", "layer  op                       MACs  output"]
        for layer in self.layers:
            lines.append(f"{layer.index:>5}  {layer.op:<17} {layer.macs:>11,}  "
                         f"{list(layer.shape)} {layer.output}")
        return "\n".join(lines)


def arm_toolchain() -> tuple[str, str] | None:
    gcc, size = shutil.which(ARM_GCC), shutil.which(ARM_SIZE)
    return (gcc, size) if gcc and size else None


def _object_sizes(size_tool: str, objects: list[Path]) -> dict[str, int]:
    """text + data per object (text includes read-only data on arm-none-eabi)."""
    result = child_processes.run([size_tool, *map(str, objects)], capture_output=True,
                                  text=True, check=True)
    sizes = {}
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        sizes[Path(fields[-1]).name] = int(fields[0]) + int(fields[1])
    return sizes


def cortex_m4f_sizes(program: Program, optimization: str = "-O2") -> tuple[int, int]:
    """(code bytes, parameter/weight object bytes) of the program compiled for Cortex-M4F."""
    tools = arm_toolchain()
    if tools is None:
        raise CodegenError(f"{ARM_GCC} is not installed (Debian: apt-get install "
                           "gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    gcc, size_tool = tools
    with tempfile.TemporaryDirectory(prefix="drip-tiny-m4-") as tmp:
        out = Path(tmp)
        emit.render(program, out)
        sources = [out / "dt_model.c", out / "dt_model_data.c", *emit.kernel_sources(program)]
        objects = []
        for src in sources:
            obj = out / (src.stem + ".o")
            run_compiler([gcc, *CORTEX_M4F_FLAGS, optimization, f"-I{out}",
                          f"-I{emit.kernels_dir()}", "-c", str(src), "-o", str(obj)],
                         f"{src.name} for Cortex-M4F")
            objects.append(obj)
        sizes = _object_sizes(size_tool, objects)
    data = sizes.pop("dt_model_data.o")
    return sum(sizes.values()), data


def memory_report(tflite: TfliteSource, *, keep: Keep = (), code_size: bool = True,
                  tflm: bool = True,
                  optimization: str = "-O2") -> MemoryReport:
    """The report for a .tflite path or its bytes. With code_size, the generated code and
    kernels are compiled for Cortex-M4F (needs arm-none-eabi-gcc); with tflm, TFLM's
    interpreter (tflite_micro, no TensorFlow) loads the model to report its arena too."""
    data = tflite if isinstance(tflite, (bytes, bytearray)) else Path(tflite).read_bytes()
    program = build(bytes(data), keep=keep)
    head = total = None
    if tflm:
        from drip_tiny.tflite.tflm_reference import TflmModel

        usage = TflmModel(bytes(data)).arena_usage()
        head, total = usage.head, usage.total
    code = params = None
    if code_size:
        code, data_object = cortex_m4f_sizes(program, optimization)
        params = data_object - emit.weight_bytes(program)
    layers = tuple(
        LayerReport(index=s.index, op=s.op_name,
                    output=program.tensor(s.outputs[0]).name if s.outputs else "",
                    shape=tuple(program.tensor(s.outputs[0]).shape) if s.outputs else (),
                    macs=s.lowered.macs)
        for s in program.steps)
    return MemoryReport(arena_bytes=program.arena_bytes, weight_bytes=emit.weight_bytes(program),
                        code_bytes=code, params_bytes=params,
                        tensor_bound_bytes=program.tensor_bound, layers=layers,
                        optimization=optimization, tflm_head_bytes=head,
                        tflm_total_bytes=total)


