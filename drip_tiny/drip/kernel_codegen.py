"""Generate the on-device DRIP kernel: drips_kernel.{c,h} and drip_thresholds.h.

The C follows the int8 reference (drip_tiny.drip.int8_head / int8_gradcam) step for step:
the head gradient and the map are the same integers; only the final score is computed in
single precision (the Cortex-M4F has no double FPU), so it agrees with the float64 reference
to about 1e-6 relative. Never imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drip_tiny import __version__
from drip_tiny.codegen.c_text import c_float, templates
from drip_tiny.codegen.ops.base import size_of
from drip_tiny.drip.int8_gradcam import Int8GradCam
from drip_tiny.drip.int8_head import RESHAPE_OPS, HeadStep, Int8Head, pool_geometry
from drip_tiny.drip.thresholds import Thresholds
from drip_tiny.errors import ModelError
from drip_tiny.run.file_names import MODEL_TFLITE
from drip_tiny.tflite.flatbuffer import TensorInfo

KERNEL_FILES = ("drips_kernel.h", "drips_kernel.c")
THRESHOLDS_FILE = "drip_thresholds.h"

# What the templates read of one backward block or one C array: names to values of any type.
TemplateItem = dict[str, object]


@dataclass(frozen=True)
class DripsKernel:
    files: dict[str, str]  # file name -> C source
    head_tensors: tuple[TensorInfo, ...]  # what head[i] must point to, in order
    target: TensorInfo
    logits: TensorInfo
    work_bytes: int


def _blocks(cam: Int8GradCam) -> tuple[list[TemplateItem], list[TensorInfo],
                                       list[TemplateItem], int, int]:
    """Backward blocks for the template, the head tensors they read, arrays and buffer sizes."""
    head = cam.head
    channels = cam.target.shape[-1]
    first = head.first_op
    head_tensors: list[TensorInfo] = []
    arrays: list[TemplateItem] = []
    blocks: list[TemplateItem] = []
    max_g = int(head.logits.shape[-1])
    max_wide = 1

    def head_index(t: TensorInfo) -> int:
        if t not in head_tensors:
            head_tensors.append(t)
        return head_tensors.index(t)

    one_hot = True
    fused_mean = None
    for step in reversed(head.steps):
        name = step.op.name
        if name in RESHAPE_OPS:
            continue
        is_first = step is first
        if step.activation != "NONE":
            out = step.data_out
            six = None
            if step.activation == "RELU6":
                six_q = out.zero_point + int(np.floor(np.float32(6.0) / np.float32(out.scale) + 0.5))
                six = six_q if six_q <= 127 else None
            blocks.append({"kind": "mask", "comment": f"{step.activation} of {name} '{out.name}'",
                           "tensor": head_index(out), "n": size_of(out),
                           "low": max(-128, out.zero_point), "six": six})
        if is_first and name != "FULLY_CONNECTED":
            if step.data_in.shape[-1] != channels or step.data_out.shape[-1] != channels:
                raise ModelError(f"{name} next to the target changes the channel count; the "
                                 "DRIP kernel needs channels last and unchanged")
            outputs = size_of(step.data_out) // channels
            factor = step.lcm if name in ("MEAN", "AVERAGE_POOL_2D") else 1
            if fused_mean is not None:
                # The MEAN after this op spread one value per channel over all its outputs:
                # the sum over them is that value times their count, no buffer needed.
                blocks.append({"kind": "alpha_channels", "comment": f"{name} (next to the "
                               f"target) after {fused_mean}: every output holds its channel's value",
                               "factor": factor * outputs})
            else:
                blocks.append({"kind": "alpha_sum", "comment": f"{name} (next to the target)",
                               "outputs": outputs, "factor": factor})
            continue
        if name == "FULLY_CONNECTED":
            assert step.weights is not None and step.weight_multipliers is not None  # _fc_step
            w_name = f"drip_fc{len(arrays)}_weights"
            o, k = step.weights.shape
            arrays.append({"name": w_name, "ctype": "int8_t",
                           "data": [int(v) for v in step.weights.reshape(-1)]})
            if one_hot:
                blocks.append({"kind": "fc_onehot", "comment": f"FULLY_CONNECTED {o}x{k}, the logits",
                               "weights": w_name, "k": k, "first": is_first})
            else:
                m_name = f"drip_fc{len(arrays)}_multipliers"
                arrays.append({"name": m_name, "ctype": "int32_t",
                               "data": [int(v) for v in step.weight_multipliers]})
                blocks.append({"kind": "fc", "comment": f"FULLY_CONNECTED {o}x{k}",
                               "weights": w_name, "multipliers": m_name, "o": o, "k": k,
                               "first": is_first})
                max_wide = max(max_wide, o + (0 if is_first else k))
            if not is_first:
                max_g = max(max_g, k)
        elif name == "MEAN":
            if _mean_feeds_plain_first_op(head, step):
                fused_mean = "MEAN"  # the next block reads cur per channel (see above)
            else:
                blocks.append({"kind": "mean", "comment": "MEAN (global average pool)",
                               "count": size_of(step.data_in) // step.data_in.shape[-1],
                               "channels": step.data_in.shape[-1]})
                max_g = max(max_g, size_of(step.data_in))
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            strides, filters, pads = pool_geometry(step.op, step.data_in, step.data_out)
            block: TemplateItem = {"kind": "avg_pool" if name == "AVERAGE_POOL_2D" else "max_pool",
                     "comment": name, "in_h": step.data_in.shape[1], "in_w": step.data_in.shape[2],
                     "out_h": step.data_out.shape[1], "out_w": step.data_out.shape[2],
                     "channels": step.data_in.shape[3], "fh": filters[0], "fw": filters[1],
                     "sh": strides[0], "sw": strides[1], "pad_t": pads[0], "pad_l": pads[1],
                     "lcm": step.lcm}
            if name == "MAX_POOL_2D":
                block["tensor"] = head_index(step.data_in)
            blocks.append(block)
            max_g = max(max_g, size_of(step.data_in))
            max_wide = max(max_wide, size_of(step.data_in))
        elif name == "REDUCE_MAX":
            blocks.append({"kind": "reduce_max", "comment": "REDUCE_MAX (global max pool)",
                           "tensor": head_index(step.data_in), "channels": step.data_in.shape[-1],
                           "positions": size_of(step.data_in) // step.data_in.shape[-1]})
            max_g = max(max_g, size_of(step.data_in))
        else:  # RELU / RELU6 ops: their mask block is all they do
            pass
        one_hot = False
    return blocks, head_tensors, arrays, max_g, max_wide


def _mean_feeds_plain_first_op(head: Int8Head, mean: HeadStep) -> bool:
    """True when, walking back from `mean`, the next non-reshape operator is the one next to
    the target, without a fused activation and not a dense layer: then MEAN's broadcast
    gradient never needs storing (its sum per channel is the value times the count).
    The Python reference's normalization after MEAN changes nothing (the values are the
    same), so the integers still agree."""
    earlier = [s for s in head.steps[:head.steps.index(mean)] if s.op.name not in RESHAPE_OPS]
    if not earlier:
        return False
    first = earlier[-1]
    return (first is head.first_op and first.activation == "NONE"
            and first.op.name != "FULLY_CONNECTED")


def class_constants(cam: Int8GradCam) -> list[float]:
    """Per class: scale * s_A / n, the raw variant's constant (the scale is data-independent)."""
    zeros = {i: np.zeros(cam.info.tensors[i].shape, dtype=np.int8) for i in cam.head.needed_tensors}
    return [cam.raw_constant(cam.head.gradient(c, zeros)) for c in range(cam.num_classes)]


def thresholds_record(thresholds: Thresholds) -> bytes:
    """The thresholds as the device holds and receives them (docs/protocol.md
    SET_THRESHOLDS): per class float32 lower, float32 upper, uint8 has_window, little
    endian; a class without a window has 0.0 for both bounds."""
    out = bytearray()
    for c in thresholds.classes:
        has = c.lower is not None
        out += struct.pack("<ffB", float(np.float32(c.lower)) if has else 0.0,
                           float(np.float32(c.upper)) if has else 0.0, int(has))
    return bytes(out)


def thresholds_hash(thresholds: Thresholds) -> int:
    """DRIP_THRESHOLDS_HASH: CRC-32 (zlib's) of thresholds_record, so the device can
    compute the same value for thresholds it receives at run time."""
    return zlib.crc32(thresholds_record(thresholds))


def generate_drips_kernel(model_bytes: bytes, thresholds: Thresholds,
                          target: int | str | None = None, logits: int | str | None = None,
                          model_name: str = MODEL_TFLITE) -> DripsKernel:
    cam = Int8GradCam(model_bytes, target=target, logits=logits)
    if len(thresholds.classes) != cam.num_classes:
        raise ModelError(f"the thresholds cover {len(thresholds.classes)} classes but the model "
                         f"has {cam.num_classes}; fit thresholds for this model")
    blocks, head_tensors, arrays, max_g, max_wide = _blocks(cam)
    variant = thresholds.variant
    positions = int(np.prod(cam.map_shape))
    if variant == "raw":
        arrays.append({"name": "drip_raw_constant", "ctype": "float",
                       "data": [c_float(v) for v in class_constants(cam)]})
    if variant == "minmax":
        arrays.append({"name": "drip_resize_weights", "ctype": "float",
                       "data": [c_float(v) for v in cam.resize_weights.reshape(-1)]})
    uses_wide = any(b["kind"] in ("fc", "avg_pool", "max_pool") for b in blocks)
    work = 8 * ((max_wide if uses_wide else 0) + cam.target.shape[-1] + (positions if variant == "minmax" else 0)) \
        + 4 * 2 * max_g
    sha = hashlib.sha256(model_bytes).hexdigest()
    context = {
        "version": __version__, "model_name": model_name, "model_sha256": sha,
        "variant": variant, "num_classes": cam.num_classes, "positions": positions,
        "channels": cam.target.shape[-1], "target_shape": "x".join(map(str, cam.target.shape[1:])),
        "target_scale": cam.target.scale, "target_zero_point": cam.target.zero_point,
        "head_tensors": head_tensors, "head_ops": cam.head.op_names, "blocks": blocks,
        "arrays": arrays, "max_g": max_g, "max_wide": max_wide, "work_bytes": work,
        "uses_wide": any(b["kind"] in ("fc", "avg_pool", "max_pool") for b in blocks),
        "dpw": f"{thresholds.dpw:g}", "path": thresholds.path, "group_by": thresholds.group_by,
        "thresholds_hash": f"{thresholds_hash(thresholds):08x}",
        "classes": [{"lower": c_float(c.lower) if c.lower is not None else "0.0f",
                     "upper": c_float(c.upper) if c.upper is not None else "0.0f",
                     "has_window": int(c.lower is not None)} for c in thresholds.classes],
    }
    env = templates()
    files = {name: env.get_template(name + ".j2").render(**context)
             for name in (*KERNEL_FILES, THRESHOLDS_FILE)}
    return DripsKernel(files=files, head_tensors=tuple(head_tensors), target=cam.target,
                       logits=cam.head.logits, work_bytes=work)


def write_drips_kernel(kernel: DripsKernel, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in kernel.files.items():
        (out_dir / name).write_text(text)
        written.append(out_dir / name)
    return written


def generate_for_run(run: Path) -> DripsKernel:
    """The DRIP kernel for a run directory: its model.tflite and thresholds.json."""
    from drip_tiny.drip.run_model import run_model
    from drip_tiny.run import directory as rundir
    from drip_tiny.run.file_names import THRESHOLDS

    run = rundir.check_run(run)
    thresholds = Thresholds.load(run / THRESHOLDS)
    data, target, logits = run_model(run)
    if thresholds.model_sha256 and thresholds.model_sha256 != hashlib.sha256(data).hexdigest():
        raise ModelError(f"{run / THRESHOLDS} was fitted for another model; re-run "
                         f"`drip-tiny fit {run}`")
    if thresholds.path != "int8":
        raise ModelError(f"{run / THRESHOLDS} was fitted on the float path, but the device "
                         f"scores with int8 Grad-CAM; re-run `drip-tiny fit {run}` (int8 is "
                         "the default)")
    return generate_drips_kernel(data, thresholds, target=target, logits=logits,
                                 model_name=f"{run.name}/{rundir.MODEL_TFLITE}")
