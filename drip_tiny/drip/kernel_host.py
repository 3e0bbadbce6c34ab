"""The generated DRIP kernel compiled for this machine, called through ctypes.

`HostDripsKernel(kernel).decide(target, logits, head)` runs drip_decide on int8 tensors
(from TFLM or from the generated model) and returns (predicted class, DRIPS, keep). Tests
compare it with the Python int8 reference; the Python tools use it as the device's stand-in.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from drip_tiny.codegen.host import HOST_FLAGS, cache_root, compiler, run_compiler
from drip_tiny.drip.kernel_codegen import DripsKernel

_SHIM = """\
#include "drips_kernel.h"
#include "drip_thresholds.h"

static const drip_thresholds_t drip_host_default = DRIP_DEFAULT_THRESHOLDS;

void drip_host_decide(const int8_t *target, const int8_t *logits, const int8_t *const head[],
                      int32_t *predicted, float *drips, int32_t *keep)
{
    drip_decision_t d;
    drip_decide(target, logits, head, &drip_host_default, &d);
    *predicted = d.predicted;
    *drips = d.drips;
    *keep = d.keep;
}
"""


def compile_shared(sources: dict[str, str], cc: str | None = None) -> Path:
    """Compile C `sources` (name -> text) into a shared library, cached by their digest in
    the code generator's cache (the same compiler and error handling as HostModel)."""
    cc = compiler(cc)
    digest = hashlib.sha256(repr(sorted(sources.items())).encode() + cc.encode()).hexdigest()[:20]
    lib = cache_root() / "drips" / f"{digest}.so"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in sources.items():
            (Path(tmp) / name).write_text(text)
        c_files = [str(Path(tmp) / n) for n in sources if n.endswith(".c")]
        built = Path(tmp) / "lib.so"
        run_compiler([cc, *HOST_FLAGS, "-I", tmp, *c_files, "-o", str(built)], "the DRIP kernel")
        staged = lib.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(built, staged)
        os.replace(staged, lib)  # atomic: parallel test workers never see half a library
    return lib


class HostDripsKernel:
    def __init__(self, kernel: DripsKernel) -> None:
        self.kernel = kernel
        lib = ctypes.CDLL(str(compile_shared({**kernel.files, "drip_host.c": _SHIM})))
        self._decide = lib.drip_host_decide
        self._decide.restype = None
        i8 = ctypes.POINTER(ctypes.c_int8)
        self._decide.argtypes = [i8, i8, ctypes.POINTER(i8), ctypes.POINTER(ctypes.c_int32),
                                 ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32)]

    @staticmethod
    def _ptr(array: np.ndarray) -> ctypes._Pointer[ctypes.c_int8]:
        return array.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))

    def decide(self, target: np.ndarray, logits: np.ndarray,
               head: list[np.ndarray]) -> tuple[int, float, bool]:
        arrays = [np.ascontiguousarray(a, dtype=np.int8) for a in (target, logits, *head)]
        expected = [self.kernel.target, self.kernel.logits, *self.kernel.head_tensors]
        for got, t in zip(arrays, expected):
            if got.size != int(np.prod(t.shape)):
                raise ValueError(f"tensor {t.name!r} needs {int(np.prod(t.shape))} values, "
                                 f"got {got.size}")
        if len(head) != len(self.kernel.head_tensors):
            raise ValueError(f"the kernel reads {len(self.kernel.head_tensors)} head tensors, "
                             f"got {len(head)}")
        head_ptrs = (ctypes.POINTER(ctypes.c_int8) * max(1, len(head)))(
            *[self._ptr(a) for a in arrays[2:]])
        predicted, keep = ctypes.c_int32(), ctypes.c_int32()
        drips = ctypes.c_float()
        self._decide(self._ptr(arrays[0]), self._ptr(arrays[1]), head_ptrs,
                     ctypes.byref(predicted), ctypes.byref(drips), ctypes.byref(keep))
        return int(predicted.value), float(drips.value), bool(keep.value)


class HostDripModel:
    """A run's generated model and DRIP kernel compiled for this host: the device's whole
    decision (inference, Grad-CAM, DRIPS, keep/drop) as one Python call per sample."""

    def __init__(self, run: str | Path) -> None:
        from pathlib import Path as _Path

        from drip_tiny.codegen.host import HostModel
        from drip_tiny.drip.kernel_codegen import generate_for_run
        from drip_tiny.run import directory as rundir

        self.kernel = generate_for_run(_Path(run))
        # The target and the head tensors the kernel reads must outlive the inference.
        keep = [self.kernel.target.index, *(t.index for t in self.kernel.head_tensors)]
        self.model = HostModel(_Path(run) / rundir.MODEL_TFLITE, keep=keep)
        self.drips = HostDripsKernel(self.kernel)
        outputs = [t.index for t in self.model.info.outputs]
        self._logits_output = outputs.index(self.kernel.logits.index)

    def decide(self, x_int8: np.ndarray) -> tuple[int, float, bool]:
        outputs = self.model.invoke(x_int8)
        head = [self.model.kept(1 + i) for i in range(len(self.kernel.head_tensors))]
        return self.drips.decide(self.model.kept(0), outputs[self._logits_output], head)

    def decide_batch(self, x_int8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(predicted, drips, keep) arrays for a batch of int8 samples."""
        results = [self.decide(x) for x in x_int8]
        predicted = np.array([r[0] for r in results], dtype=np.int64)
        drips = np.array([r[1] for r in results], dtype=np.float32)
        keep = np.array([r[2] for r in results], dtype=bool)
        return predicted, drips, keep
