"""From a .tflite to a checked program: lowered operators, tensor storage and the arena plan.

Storage of every tensor the generated code touches:
- arena: activations, graph inputs and outputs, at an offset the planner chose;
- const: a constant tensor used as data (e.g. the second operand of ADD), in flash.
Aliases (RESHAPE, EXPAND_DIMS, SQUEEZE) join their input's buffer; an in-place-safe op whose
input dies at that op (ADD, int8 QUANTIZE) writes over it. Graph inputs live from the start,
graph outputs and the tensors asked to be kept (the Grad-CAM target) until invoke returns.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from drip_tiny.codegen import ops as op_registry
from drip_tiny.codegen import overlap, planner
from drip_tiny.codegen.ops.base import C_TYPES, Lowered, OpContext, size_of
from drip_tiny.errors import CodegenError, QuantizationError
from drip_tiny.tflite.flatbuffer import ModelInfo, TensorInfo, read_model

# A model as the codegen entry points take it: a .tflite path, or the file's bytes.
TfliteSource = str | os.PathLike[str] | bytes | bytearray
Keep = Iterable[str | int]  # tensor names or indices to keep readable after invoke
ALIGNMENT = 4  # enough for int32 and float on Cortex-M; the arena is int32-aligned


@dataclass
class Step:
    index: int
    op_name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    lowered: Lowered


@dataclass
class Program:
    info: ModelInfo
    sha256: str
    steps: list[Step]
    arena_bytes: int
    offsets: dict[int, int]  # tensor index -> arena offset
    constants: dict[int, np.ndarray]  # tensor index -> data, for constants used as data
    lifetimes: dict[int, tuple[int, int]] = field(default_factory=dict)  # root -> (first, last)
    root: dict[int, int] = field(default_factory=dict)  # tensor -> buffer owner
    keep: tuple[int, ...] = ()
    tensor_bound: int = 0  # most bytes alive at once without output-over-input overlap

    @property
    def kernels(self) -> list[str]:
        """Kernel headers the program calls, sorted."""
        return sorted({s.lowered.header for s in self.steps
                       if s.lowered.function and s.lowered.header is not None})

    def tensor(self, index: int) -> TensorInfo:
        return self.info.tensors[index]

    @property
    def macs(self) -> int:
        return sum(s.lowered.macs for s in self.steps)


def nbytes(t: TensorInfo) -> int:
    return size_of(t) * int(np.dtype(_numpy(t)).itemsize)


def _numpy(t: TensorInfo) -> type[np.generic]:
    types: dict[str, type[np.generic]] = {"INT8": np.int8, "FLOAT32": np.float32,
                                          "INT32": np.int32, "INT16": np.int16}
    return types[t.dtype]


def _resolve_keep(info: ModelInfo, keep: Keep) -> tuple[int, ...]:
    """Tensor indices for `keep` (names or indices): activations an operator writes, or
    graph inputs."""
    found = []
    by_name = {t.name: t.index for t in info.tensors}
    written = {o for op in info.operators for o in op.outputs} | {t.index for t in info.inputs}
    for k in keep:
        if isinstance(k, str):
            if k not in by_name:
                raise CodegenError(f"tensor {k!r} to keep is not in the model")
            index = by_name[k]
        else:
            index = int(k)
            if not 0 <= index < len(info.tensors):
                raise CodegenError(f"tensor index {k} to keep is not in the model")
        if index not in written:
            raise CodegenError(f"tensor {info.tensors[index].name!r} to keep is not an "
                               "activation (a constant, or written by no operator)")
        found.append(index)
    return tuple(dict.fromkeys(found))


def build(model_bytes: bytes, keep: Keep = ()) -> Program:
    """Check every operator, lower it, and plan the arena. `keep`: tensor names or indices
    that must stay readable after invoke (graph outputs always do)."""
    try:
        info = read_model(model_bytes)
    except QuantizationError as exc:
        raise CodegenError(str(exc)) from exc
    keep_idx = _resolve_keep(info, keep)
    for t in (*info.inputs, *info.outputs):
        if t.dtype not in ("INT8", "FLOAT32"):
            raise CodegenError(f"graph {'input' if t in info.inputs else 'output'} {t.name!r} "
                               f"has type {t.dtype}; drip-tiny generates int8 models with int8 "
                               "or float32 edges")
    steps = []
    for i, op in enumerate(info.operators):
        lowered = op_registry.lower(OpContext(index=i, op=op, model=info))
        steps.append(Step(i, op.name, op.inputs, op.outputs, lowered))
        for o in op.outputs:
            t = info.tensors[o]
            if t.dtype not in C_TYPES or t.dtype not in ("INT8", "FLOAT32"):
                detail = (f"writes tensor {t.name!r} of type {t.dtype}; only INT8 and FLOAT32 "
                          "activations are supported")
                raise CodegenError(f"{op.name} (operator {i}) {detail}", op=op.name,
                                   operator=i, detail=detail)
    program = _plan(info, steps, keep_idx)
    program.sha256 = hashlib.sha256(model_bytes).hexdigest()
    return program


def _plan(info: ModelInfo, steps: list[Step], keep: tuple[int, ...]) -> Program:
    n = len(steps)
    parent: dict[int, int] = {}

    def root(t: int) -> int:
        while parent.get(t, t) != t:
            t = parent[t]
        return t

    graph_inputs = {t.index for t in info.inputs}
    pinned_end = {t.index for t in info.outputs} | set(keep)
    produced: dict[int, int] = {}
    for s in steps:
        for o in s.outputs:
            produced[o] = s.index

    # Which tensors are read as data by some step: weights, biases, axes are parameters.
    uses: dict[int, list[int]] = {}
    constants: dict[int, np.ndarray] = {}
    for s in steps:
        data_inputs = _data_inputs(s)
        for k in data_inputs:
            t = s.inputs[k]
            if info.tensors[t].is_constant:
                constants[t] = np.asarray(info.tensors[t].data)
            uses.setdefault(t, []).append(s.index)
    for t in uses:
        if t not in produced and t not in graph_inputs and t not in constants:
            raise CodegenError(f"tensor {info.tensors[t].name!r} is read before any operator "
                               "writes it (a variable or an unsupported subgraph)")

    # Aliases first: a view shares its input's buffer.
    for s in steps:
        if s.lowered.alias is not None:
            src = s.inputs[s.lowered.alias]
            if src in constants:
                raise CodegenError(f"{s.op_name} (operator {s.index}) reshapes a constant; "
                                   "fold it in the converter")
            parent[s.outputs[0]] = root(src)
    for t in (*graph_inputs, *pinned_end):
        parent.setdefault(t, t)

    def group_last_use(r: int) -> int:
        last = -1
        for t, steps_using in uses.items():
            if root(t) == r:
                last = max(last, *steps_using)
        return last

    def group_pinned(r: int) -> bool:
        members = [t for t in set(parent) | set(uses) | set(produced) if root(t) == r]
        return any(t in pinned_end or t in graph_inputs for t in members)

    # In place: the output takes over an input buffer that dies at this step.
    for s in steps:
        out = s.outputs[0] if s.outputs else -1
        if not s.lowered.inplace or out in pinned_end:
            continue
        for k in s.lowered.inplace:
            src = s.inputs[k]
            if src in constants:
                continue
            r = root(src)
            if group_pinned(r) or group_last_use(r) != s.index:
                continue
            if nbytes(info.tensors[src]) != nbytes(info.tensors[out]):
                continue
            parent[out] = r
            break

    # Lifetimes per buffer owner.
    members: dict[int, list[int]] = {}
    for t in set(produced) | set(uses) | graph_inputs | pinned_end:
        if t in constants:
            continue
        members.setdefault(root(t), []).append(t)
    buffers, lifetimes = [], {}
    for r, ts in members.items():
        first = min((0 if t in graph_inputs else produced.get(t, 0)) for t in ts)
        last = max([first] + [u for t in ts for u in uses.get(t, [])])
        if any(t in pinned_end for t in ts):
            last = max(n - 1, first)
        size = max(nbytes(info.tensors[t]) for t in ts)
        lifetimes[r] = (first, last)
        buffers.append(planner.Buffer(key=r, size=size, first=first, last=last))
    result = _plan_with_overlaps(
        buffers, _overlap_candidates(info, steps, root, constants, pinned_end, lifetimes,
                                     buffers))
    offsets = {t: result.offsets[r] for r, ts in members.items() for t in ts}
    return Program(info=info, sha256="", steps=steps, arena_bytes=result.arena_bytes,
                   offsets=offsets, constants=constants, lifetimes=lifetimes,
                   root={t: r for r, ts in members.items() for t in ts}, keep=keep,
                   tensor_bound=planner.lower_bound(buffers))


def _overlap_candidates(info: ModelInfo, steps: list[Step], root: Callable[[int], int],
                        constants: dict[int, np.ndarray], pinned_end: set[int],
                        lifetimes: dict[int, tuple[int, int]],
                        buffers: list[planner.Buffer[int]]) -> list[tuple[int, int, int]]:
    """(input owner, output owner, gap): an operator whose output may start `gap` bytes
    below the input that dies there (overlap.py), most bytes saved first."""
    sizes = {b.key: b.size for b in buffers}
    found = []
    for s in steps:
        low = s.lowered
        data = [s.inputs[k] for k in _data_inputs(s)]
        if low.function is None or len(data) != 1 or len(s.outputs) != 1:
            continue
        x, y = data[0], s.outputs[0]
        if x in constants or info.tensors[x].dtype != "INT8" or info.tensors[y].dtype != "INT8":
            continue
        rx, ry = root(x), root(y)
        if rx == ry or ry != y or lifetimes[rx][1] != s.index:
            continue
        if any(root(t) == rx for t in pinned_end):
            continue
        reads = overlap.min_reads(low.function, low.params)
        if reads is None or reads.size != nbytes(info.tensors[y]):
            continue
        gap = overlap.min_gap(reads, sizes[rx])
        gap = (gap + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        saved = sizes[rx] + sizes[ry] - max(gap + sizes[rx], sizes[ry])
        if saved > 0:
            found.append((saved, rx, ry, gap))
    return [(rx, ry, gap) for _, rx, ry, gap in sorted(found, key=lambda f: -f[0])]


def _plan_with_overlaps(buffers: list[planner.Buffer[int]],
                        candidates: list[tuple[int, int, int]]) -> planner.Plan[int]:
    """The smallest of a few plans: no overlaps, all of them, overlaps added one by one
    while the arena does not grow, and all of them removed one by one likewise. A chain of
    overlaps fixes its buffers relative to each other, which can cost more than it saves,
    and a single overlap may only pay off together with others."""
    def run(relations: list[tuple[int, int, int]]) -> planner.Plan[int]:
        return planner.plan(buffers, alignment=ALIGNMENT, groups=_chains(relations))

    best = run([])
    if not candidates:
        return best
    everything = run(candidates)
    grown: list[tuple[int, int, int]] = []
    grown_plan = best
    for relation in candidates:
        trial = run([*grown, relation])
        if trial.arena_bytes <= grown_plan.arena_bytes:
            grown, grown_plan = [*grown, relation], trial
    pruned, pruned_plan = list(candidates), everything
    for relation in reversed(candidates):
        rest = [r for r in pruned if r != relation]
        trial = run(rest)
        if trial.arena_bytes <= pruned_plan.arena_bytes:
            pruned, pruned_plan = rest, trial
    return min((best, everything, grown_plan, pruned_plan), key=lambda p: p.arena_bytes)


def _chains(relations: list[tuple[int, int, int]]) -> list[dict[int, int]]:
    """Groups of owners at fixed relative offsets: output = input - gap along each chain."""
    nxt = {rx: (ry, gap) for rx, ry, gap in relations}
    heads = set(nxt) - {ry for _, ry, _ in relations}
    groups = []
    for head in heads:
        group, at, node = {head: 0}, 0, head
        while node in nxt:
            node, gap = nxt[node]
            at -= gap
            group[node] = at
        low = min(group.values())
        groups.append({k: v - low for k, v in group.items()})
    return groups


def _data_inputs(step: Step) -> list[int]:
    """Positions of the inputs the emitted call reads as data (not parameters)."""
    from drip_tiny.codegen.ops.base import In

    ks = [a.k for a in step.lowered.args if isinstance(a, In)]
    if step.lowered.alias is not None:
        ks.append(step.lowered.alias)
    return sorted(set(ks))
