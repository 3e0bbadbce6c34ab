"""dt_app_model.h: the generated header that binds firmware/app to one model.

The application needs the model's input, its logits, the Grad-CAM target and the DRIP
head tensors after inference. The target and the head tensors are not graph outputs, so
the model is generated with them kept alive (`app_keep`) and the header points at them
through dt_model_keep(i).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drip_tiny import __version__
from drip_tiny.drip.kernel_codegen import DripsKernel
from drip_tiny.drip.variants import VARIANTS
from drip_tiny.errors import ModelError
from drip_tiny.tflite.flatbuffer import ModelInfo

if TYPE_CHECKING:
    from pathlib import Path

    from drip_tiny.codegen import Program

APP_MODEL_FILE = "dt_app_model.h"
# A CLASSIFY request carries the sample and 4 more bytes in a 16-bit payload length
# (firmware/app/dt_app_config.h).
MAX_SAMPLE_BYTES = 0xFFFF - 4


@dataclass(frozen=True)
class AppBinding:
    keep: tuple[int, ...]  # tensor indices for codegen.generate(keep=...)
    header: str  # the text of dt_app_model.h
    input_bytes: int  # one sample: what CLASSIFY carries and the store keeps


def app_keep(info: ModelInfo, kernel: DripsKernel) -> list[int]:
    """Tensors the model must keep alive after invoke: the target, every head tensor and
    the logits when they are not a graph output. Order fixes dt_model_keep's indices."""
    keep = [kernel.target.index]
    for t in kernel.head_tensors:
        if t.index not in keep:
            keep.append(t.index)
    outputs = [t.index for t in info.outputs]
    if kernel.logits.index not in outputs and kernel.logits.index not in keep:
        keep.append(kernel.logits.index)
    return keep


def _access(index: int, info: ModelInfo, keep: list[int]) -> str:
    if index in keep:
        return f"dt_model_keep({keep.index(index)})"
    return f"dt_model_output({[t.index for t in info.outputs].index(index)})"


def app_binding(model_bytes: bytes, info: ModelInfo, kernel: DripsKernel,
                variant: str) -> AppBinding:
    if len(info.inputs) != 1:
        raise ModelError(f"the firmware runs models with one input; this one has "
                         f"{len(info.inputs)}")
    x = info.inputs[0]
    if x.dtype != "INT8" or len(x.scales) != 1:
        raise ModelError(f"the firmware needs an int8 input with one scale; input "
                         f"{x.name!r} is {x.dtype} with {len(x.scales)} scales "
                         "(export a full-integer model)")
    dims = list(x.shape[1:]) if len(x.shape) > 1 and x.shape[0] == 1 else list(x.shape)
    if not dims or any(d <= 0 or d > 0xFFFF for d in dims) or len(dims) > 8:
        raise ModelError(f"input {x.name!r} has shape {list(x.shape)}; the protocol carries "
                         "1 to 8 dimensions of 1 to 65535 (batch 1)")
    keep = app_keep(info, kernel)
    from drip_tiny.codegen.c_text import templates

    env = templates()
    head = [f"(const int8_t *){_access(t.index, info, keep)}" for t in kernel.head_tensors]
    n = 1
    for d in dims:
        n *= d
    if n > MAX_SAMPLE_BYTES:
        raise ModelError(f"input {x.name!r} has {n:,} bytes; a sample travels in one serial "
                         f"frame of at most {MAX_SAMPLE_BYTES:,} bytes (docs/protocol.md): "
                         "use a smaller input (e.g. a shorter clip or a lower resolution)")
    header = env.get_template(APP_MODEL_FILE + ".j2").render(
        version=__version__, sha256=hashlib.sha256(model_bytes).hexdigest(),
        input_bytes=n, input_dims=dims, input_scale=f"{float.hex(float(x.scales[0]))}f",
        input_zero_point=int(x.zero_points[0]),
        logits_expr=_access(kernel.logits.index, info, keep),
        target_expr=_access(kernel.target.index, info, keep),
        head_exprs=head or ["(const int8_t *)0"],
        variant_id=VARIANTS.index(variant))
    return AppBinding(keep=tuple(keep), header=header, input_bytes=n)


@dataclass(frozen=True)
class ModelSources:
    """What write_model_sources wrote: the run's model and DRIP step as C."""
    files: tuple[str, ...]  # file names in the output folder
    binding: AppBinding
    kernel: DripsKernel
    program: Program  # arena, weights, kernels


def lower_for_device(model_bytes: bytes, target: int, logits: int) -> Program:
    """What write_model_sources does to a model, on bytes without a run, writing nothing:
    the DRIP kernel reads the Grad-CAM head, the firmware binding checks the input, and
    every operator is lowered with the tensors the firmware keeps. The thresholds are a
    placeholder (no class has a window): they change constants, never whether the model
    lowers. Returns the codegen Program; raises ModelError or CodegenError."""
    from drip_tiny import codegen
    from drip_tiny.drip.kernel_codegen import generate_drips_kernel
    from drip_tiny.drip.thresholds import ClassThreshold, Thresholds
    from drip_tiny.drip.variants import DEFAULT_VARIANT
    from drip_tiny.tflite.flatbuffer import read_model

    info = read_model(model_bytes)
    classes = int(info.tensors[logits].shape[-1])
    placeholder = Thresholds(
        variant=DEFAULT_VARIANT, dpw=25.0, path="int8", group_by="predicted",
        classes=tuple(ClassThreshold(label=c, name=str(c), count=0, window=0, lower=None,
                                     upper=None, std=None, validation_discarded=0)
                      for c in range(classes)))
    kernel = generate_drips_kernel(model_bytes, placeholder, target=target, logits=logits)
    binding = app_binding(model_bytes, info, kernel, placeholder.variant)
    return codegen.build(model_bytes, keep=binding.keep)


def write_model_sources(run: str | Path, out_dir: str | Path) -> ModelSources:
    """Everything model-specific the firmware compiles, into out_dir: dt_model*.{c,h} with
    the kernels they call, drips_kernel.{c,h}, drip_thresholds.h and dt_app_model.h.
    The run must have model.tflite and thresholds.json (drip-tiny fit)."""
    from pathlib import Path

    from drip_tiny import codegen
    from drip_tiny.drip.kernel_codegen import generate_for_run, write_drips_kernel
    from drip_tiny.drip.thresholds import Thresholds
    from drip_tiny.run import directory as rundir
    from drip_tiny.tflite.flatbuffer import read_model

    run = Path(run)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kernel = generate_for_run(run)
    data = (run / rundir.MODEL_TFLITE).read_bytes()
    info = read_model(data)
    variant = Thresholds.load(run / rundir.THRESHOLDS).variant
    binding = app_binding(data, info, kernel, variant)
    before = set(p.name for p in out.iterdir())
    program = codegen.generate(data, out, keep=binding.keep, with_kernels=True)
    write_drips_kernel(kernel, out)
    (out / APP_MODEL_FILE).write_text(binding.header)
    files = sorted(p.name for p in out.iterdir() if p.name not in before)
    return ModelSources(files=tuple(files), binding=binding, kernel=kernel, program=program)
