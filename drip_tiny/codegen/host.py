"""HostModel: the generated C compiled for this machine and called through ctypes.

A fast, bit-exact stand-in for the device in the Python tools. The build (render, then
`cc -O2 -shared -fPIC -Wall -Wextra -Werror`) is cached by the sha256 of the .tflite and of
every generated and kernel source, so repeated use costs one dlopen.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from drip_tiny import child_processes
from drip_tiny.codegen import emit
from drip_tiny.codegen.graph import Keep, Program, TfliteSource, build
from drip_tiny.errors import CodegenError
from drip_tiny.resources import cache_dir as user_cache_dir
from drip_tiny.tflite.flatbuffer import TensorInfo

WARNINGS = ("-Wall", "-Wextra", "-Werror")
HOST_FLAGS = ("-std=c99", "-O2", "-shared", "-fPIC", *WARNINGS)
_NUMPY: dict[str, type[np.generic]] = {"INT8": np.int8, "FLOAT32": np.float32}
_LOCK = threading.Lock()  # one arena per loaded library


def cache_root() -> Path:
    return user_cache_dir("codegen")


def compiler(name: str | None = None) -> str:
    cc = name or os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        raise CodegenError(f"the C compiler {cc!r} is not on PATH; install gcc (Debian: "
                           "apt-get install gcc) or set CC")
    return cc


def run_compiler(command: list[str], what: str) -> None:
    result = child_processes.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise CodegenError(f"compiling {what} failed ({' '.join(command[:1])} exit "
                           f"{result.returncode}):\n{(result.stderr or result.stdout).strip()[-4000:]}")


def _source_digest(files: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for f in sorted(files, key=lambda p: p.name):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def build_host_library(program: Program, cc: str | None = None,
                       cache_dir: Path | None = None) -> Path:
    """Render and compile `program` into a shared library; return its path (cached)."""
    cc = compiler(cc)
    root = cache_dir or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="render-") as tmp:
        tmp_dir = Path(tmp)
        generated = emit.render(program, tmp_dir)
        kernels = emit.kernel_sources(program)
        headers = sorted(emit.kernels_dir().glob("*.h"))
        digest = _source_digest([*generated, *kernels, *headers], " ".join([cc, *HOST_FLAGS]))
        build_dir = root / f"{program.sha256[:16]}-{digest[:16]}"
        library = build_dir / "dt_model.so"
        if library.exists():
            return library
        staging = Path(tempfile.mkdtemp(dir=root, prefix="build-"))
        try:
            for f in generated:
                shutil.copy2(f, staging / f.name)
            sources = [staging / "dt_model.c", staging / "dt_model_data.c", *kernels]
            out = staging / "dt_model.so"
            run_compiler([cc, *HOST_FLAGS, f"-I{staging}", f"-I{emit.kernels_dir()}",
                          *map(str, sources), "-o", str(out), "-lm"], "the generated model")
            try:
                os.replace(staging, build_dir)
            except OSError:  # another process built it first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return library


class HostModel:
    """The generated model, compiled for the host.

    invoke(x) takes the model's input (int8 for int8 models; with or without the leading
    batch axis) and returns every output in the .tflite's order, each with its batch axis
    removed, exactly as drip_tiny.tflite.tflm_reference.TflmModel.invoke does.
    """

    def __init__(self, tflite: TfliteSource, *, keep: Keep = (), cc: str | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> None:
        data = tflite if isinstance(tflite, (bytes, bytearray)) else Path(tflite).read_bytes()
        self.program = build(bytes(data), keep=keep)
        self.info = self.program.info
        self.library_path = build_host_library(
            self.program, cc=cc, cache_dir=Path(cache_dir) if cache_dir else None)
        lib = ctypes.CDLL(str(self.library_path))
        for name in ("dt_model_input", "dt_model_output", "dt_model_keep"):
            getattr(lib, name).restype = ctypes.c_void_p
            getattr(lib, name).argtypes = [ctypes.c_int]
        lib.dt_model_invoke.restype = ctypes.c_int
        self._lib = lib

    @property
    def arena_bytes(self) -> int:
        return self.program.arena_bytes

    def _view(self, address: int, tensor: TensorInfo) -> np.ndarray:
        dtype = _NUMPY[tensor.dtype]
        count = int(np.prod(tensor.shape)) if tensor.shape else 1
        buf = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(address)
        # A ctypes array is a buffer, but numpy's stubs list only bytes-like types.
        values: np.ndarray = np.frombuffer(buf, dtype=dtype)  # type: ignore[call-overload]
        return values.reshape(tensor.shape)

    def invoke(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Outputs without their batch axis, as TflmModel.invoke returns them."""
        return [out[0] for out in self.run(*inputs)]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Outputs with the full shapes the .tflite declares (any batch size)."""
        if len(inputs) != len(self.info.inputs):
            raise CodegenError(f"the model has {len(self.info.inputs)} inputs, "
                               f"{len(inputs)} given")
        with _LOCK:
            for i, (x, t) in enumerate(zip(inputs, self.info.inputs)):
                x = np.asarray(x)
                if x.dtype != _NUMPY[t.dtype]:
                    raise TypeError(f"input {i} must be {np.dtype(_NUMPY[t.dtype])}, "
                                    f"got {x.dtype}")
                if x.size != (int(np.prod(t.shape)) if t.shape else 1):
                    raise ValueError(f"input {i} has shape {x.shape}; the model's is {t.shape}")
                self._view(self._lib.dt_model_input(i), t)[...] = x.reshape(t.shape)
            status = self._lib.dt_model_invoke()
            if status != 0:
                raise CodegenError(f"dt_model_invoke returned {status}")
            return [self._view(self._lib.dt_model_output(i), t).copy()
                    for i, t in enumerate(self.info.outputs)]

    def kept(self, index: int = 0) -> np.ndarray:
        """A kept tensor (see `keep`) as left by the last invoke."""
        t = self.program.tensor(self.program.keep[index])
        return self._view(self._lib.dt_model_keep(index), t).copy()
