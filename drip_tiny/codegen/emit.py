"""Render a Program into C through the Jinja2 templates in templates/.

Files written (each names its generator, template and the model's sha256):
- dt_model.h       the API: invoke, input/output pointers, shapes and quantization
- dt_model.c       the arena and one kernel call per operator, in graph order
- dt_model_data.h  declarations of the per-operator parameter structs (internal)
- dt_model_data.c  constants in flash: weights, biases, multipliers, shifts, parameters
The kernels they call are firmware/kernels/<name>.{c,h} (see `kernel_sources`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drip_tiny import __version__ as _version
from drip_tiny.codegen.c_text import c_float, c_int, templates
from drip_tiny.codegen.graph import Program, nbytes
from drip_tiny.codegen.ops.base import C_TYPES, CArray, In, Out, Value
from drip_tiny.errors import CodegenError
from drip_tiny.resources import shipped_dir
from drip_tiny.tflite.flatbuffer import TensorInfo

GENERATED_FILES = ("dt_model.h", "dt_model.c", "dt_model_data.h", "dt_model_data.c")


@dataclass
class _Array:
    name: str
    ctype: str
    values: list[str]  # C literals


def kernels_dir() -> Path:
    return shipped_dir("firmware") / "kernels"


def kernel_sources(program: Program) -> list[Path]:
    """The kernel .c files the generated code calls."""
    root = kernels_dir()
    return [root / h.replace(".h", ".c") for h in program.kernels]


def _identifier(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


class _Emitter:
    def __init__(self, program: Program) -> None:
        self.p = program
        self.arrays: list[_Array] = []
        # Template context (dt_model.c.j2): plain dicts, as Jinja reads them
        self.structs: list[dict[str, object]] = []
        self.calls: list[dict[str, object]] = []

    def pointer(self, tensor: int, const: bool) -> str:
        t = self.p.tensor(tensor)
        ctype = C_TYPES[t.dtype]
        q = "const " if const else ""
        if tensor in self.p.constants:
            return f"dt_const_{tensor}"
        return f"({q}{ctype} *)(void *)(dt_arena + {self.p.offsets[tensor]})"

    def value(self, name: str, value: Value) -> str:
        if value is None:
            return "0"
        if isinstance(value, CArray):
            self.arrays.append(_Array(name, value.ctype,
                                      [c_int(v) if value.ctype != "float" else c_float(v)
                                       for v in np.asarray(value.values).reshape(-1)]))
            return name
        if isinstance(value, (list, tuple)):
            return "{" + ", ".join(c_int(v) for v in value) + "}"
        if isinstance(value, float):
            return c_float(value)
        if isinstance(value, (bool, int, np.integer)):
            return c_int(value)
        if isinstance(value, str):
            return value
        raise CodegenError(f"cannot emit parameter {name} = {value!r}")

    def run(self) -> None:
        for t, data in self.p.constants.items():
            ctype = C_TYPES[self.p.tensor(t).dtype]
            values = np.asarray(data).reshape(-1)
            self.arrays.append(_Array(f"dt_const_{t}", ctype,
                                      [c_float(v) if ctype == "float" else c_int(v)
                                       for v in values]))
        for s in self.p.steps:
            low = s.lowered
            out = self.p.tensor(s.outputs[0]) if s.outputs else None
            header = (f"{s.index}: {s.op_name}"
                      + (f" -> {out.name!r} {list(out.shape)}" if out is not None else "")
                      + (f", {low.macs:,} MACs" if low.macs else ""))
            if low.function is None:
                self.calls.append({"comment": _comment(header + ": a view of its input, "
                                                       "no code"), "code": None})
                continue
            args: list[str] = []
            if low.params_type:
                name = f"dt_op{s.index}"
                fields = [(k, self.value(f"{name}_{k}", v)) for k, v in low.params.items()]
                self.structs.append({"name": name, "type": low.params_type, "fields": fields,
                                     "comment": _comment(header)})
                args.append(f"&{name}")
            for k, a in enumerate(low.args):
                if isinstance(a, In):
                    args.append(self.pointer(s.inputs[a.k], const=True))
                elif isinstance(a, Out):
                    args.append(self.pointer(s.outputs[a.k], const=False))
                else:
                    args.append(self.value(f"dt_op{s.index}_arg{k}", a))
            self.calls.append({"comment": _comment(header),
                               "code": f"{low.function}({', '.join(args)});",
                               "op": s.index})


def _io(program: Program, tensors: Iterable[TensorInfo]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for i, t in enumerate(tensors):
        items.append({"index": i, "name": _comment(t.name), "shape": list(t.shape),
                      "ctype": C_TYPES[t.dtype], "bytes": nbytes(t),
                      "offset": program.offsets[t.index],
                      "scale": c_float(t.scale) if t.scales else "0.0f",
                      "zero_point": t.zero_point})
    return items


def render(program: Program, out_dir: Path) -> list[Path]:
    """Write the generated files into out_dir; return their paths."""
    emitter = _Emitter(program)
    emitter.run()
    env = templates()
    keep = [{"index": k, "tensor": t, "name": _comment(program.tensor(t).name),
             "shape": list(program.tensor(t).shape), "ctype": C_TYPES[program.tensor(t).dtype],
             "bytes": nbytes(program.tensor(t)), "offset": program.offsets[t],
             "scale": c_float(program.tensor(t).scale) if program.tensor(t).scales else "0.0f",
             "zero_point": program.tensor(t).zero_point}
            for k, t in enumerate(program.keep)]
    context = {
        "version": _version, "sha256": program.sha256, "arena_bytes": program.arena_bytes,
        "inputs": _io(program, program.info.inputs), "outputs": _io(program, program.info.outputs),
        "keep": keep, "headers": program.kernels, "calls": emitter.calls,
        "structs": emitter.structs, "arrays": emitter.arrays, "macs": program.macs,
        "weight_bytes": weight_bytes(program),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in GENERATED_FILES:
        text = env.get_template(f"{name}.j2").render(file=name, **context)
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def weight_bytes(program: Program) -> int:
    """Bytes of constant data in flash: weights, biases, multipliers, shifts, constants."""
    total = sum(int(np.asarray(d).nbytes) for d in program.constants.values())
    for s in program.steps:
        for v in s.lowered.params.values():
            if isinstance(v, CArray):
                total += v.nbytes
        for a in s.lowered.args:
            if isinstance(a, CArray):
                total += a.nbytes
    return total
