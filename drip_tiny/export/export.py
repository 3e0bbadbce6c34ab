"""`drip-tiny export`: a run + a board -> a standalone firmware project, built when the
toolchain is present.

    DIR/model.tflite, model_tflite.{c,h}  the model, and as a C array for TFLM users
    DIR/generated/    write_model_sources: model C, kernels, DRIP kernel, thresholds
    DIR/firmware/     the application, protocol, store and board contract (copied)
    DIR/board/        the board's board.json, startup, drivers, headers, linker script
    DIR/tools/uf2.py  (boards with a UF2 bootloader) HEX -> UF2, standard library only
    DIR/Makefile      `make -C DIR` builds DIR/build/firmware.{elf,map,hex[,uf2]}
    DIR/export.json   what was exported, from what, with which tools
    DIR/memory-report.{txt,json}  after a build: flash and RAM against the board

Everything is written and built in a staging folder beside DIR and renamed into place at
the end: a failure (model too big, build error) leaves no partial project behind.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drip_tiny import __version__
from drip_tiny.boards import Board, load_board
from drip_tiny.errors import ExportError
from drip_tiny.export import build as build_mod
from drip_tiny.export import makefile, memory
from drip_tiny.export.c_array import model_array_sources
from drip_tiny.export.project import GENERATED, plan_project
from drip_tiny.export.store_capacity import StoreCapacity, store_capacity
from drip_tiny.resources import shipped_dir
from drip_tiny.run.file_names import MODEL_TFLITE
from drip_tiny.run.file_names import THRESHOLDS as THRESHOLDS_FILE
from drip_tiny.run.staging import staged_directory

EXPORT_JSON = "export.json"
REPORT_TXT = "memory-report.txt"
REPORT_JSON = "memory-report.json"
MODEL_FILE = MODEL_TFLITE  # the run's model, copied into the project under its name
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ExportResult:
    out: Path  # the project folder
    board: str
    built: bool
    notice: str | None  # why it was not built (missing tools, --no-build)
    images: dict[str, Path]  # "elf", "map", "hex", "uf2" -> file, when built
    report: memory.MemoryReport | None  # when built
    manifest: dict[str, Any]  # the content of export.json (JSON values of several types)
    store: StoreCapacity | None  # the board's sample store against this model's samples


def check_writable(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ExportError(f"{out} already exists and is not empty; choose another --out, or "
                          "pass --force to replace it")


@contextmanager
def staged_dir(out: Path, force: bool) -> Iterator[Path]:
    """Yield an empty staging folder beside out; on success it replaces out, on any error
    it is deleted and out is left as it was."""
    check_writable(out, force)
    with staged_directory(out, ExportError, "the project") as staging:
        yield staging


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_run(run: Path) -> None:
    from drip_tiny.run import directory as rundir
    rundir.check_run(run)
    if not (run / THRESHOLDS_FILE).is_file():
        raise ExportError(f"{run} has no {THRESHOLDS_FILE}: fit the DRIP thresholds first "
                          f"(`drip-tiny fit {run}`)")
    from drip_tiny.drip.thresholds import Thresholds

    Thresholds.load(run / THRESHOLDS_FILE)  # checked against its schema before any work


def _thresholds_info(run: Path) -> dict[str, str | float]:
    from drip_tiny.drip.kernel_codegen import thresholds_hash
    from drip_tiny.drip.thresholds import Thresholds

    t = Thresholds.load(run / THRESHOLDS_FILE)
    return {"file": str((run / THRESHOLDS_FILE).resolve()),
            "sha256": _sha256(run / THRESHOLDS_FILE),
            "hash": f"0x{thresholds_hash(t):08x}", "variant": t.variant, "dpw": t.dpw}


def _project_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.parts[len(root.parts)] != "build")


def export_project(run: str | Path, board: str | Board, out: str | Path, *, force: bool = False,
                   build: bool = True, firmware_root: str | Path | None = None, jobs: int = 2,
                   optimize: str = "speed",
                   log: Callable[[str], None] | None = None) -> ExportResult:
    """Write the firmware project of `run` for `board` into `out` and, with build and the
    toolchain present, build it and check its memory report.

    Raises ExportError when out would be overwritten without force, when the model does
    not fit (before building, from the generated code's numbers, or after, from the image),
    or when the build fails. firmware_root replaces the shipped firmware/ folder (tests).
    optimize: "speed" (-O2, the default) or "size" (-Os).
    """
    from drip_tiny.codegen import emit
    from drip_tiny.export.app_model import write_model_sources

    say = log or (lambda _msg: None)
    if optimize not in makefile.OPTIMIZE:
        raise ExportError(f"optimize must be one of {', '.join(makefile.OPTIMIZE)}, "
                          f"not {optimize!r}")
    run, out = Path(run), Path(out)
    board = load_board(board) if isinstance(board, str) else board
    check_writable(out, force)  # the cheap refusals first
    _check_run(run)
    firmware_root = Path(firmware_root) if firmware_root else shipped_dir("firmware")
    plan = plan_project(board, firmware_root)
    with staged_dir(out, force) as stage:
        shutil.copy2(run / MODEL_FILE, stage / MODEL_FILE)
        model = (stage / MODEL_FILE).read_bytes()
        header, source = model_array_sources(model, __version__)
        (stage / "model_tflite.h").write_text(header)
        (stage / "model_tflite.c").write_text(source)

        sources = write_model_sources(run, stage / GENERATED)
        weights = emit.weight_bytes(sources.program)
        arena = sources.program.arena_bytes
        work = sources.kernel.work_bytes
        store = store_capacity(board.store, sources.binding.input_bytes)
        memory.precheck(board, weights, arena, work, store)

        for dest, path in plan.copies.items():
            (stage / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, stage / dest)
        images = makefile.images(board)
        if "uf2" in images:
            (stage / "tools").mkdir()
            shutil.copy2(Path(__file__).with_name("uf2.py"), stage / makefile.UF2_TOOL)
        generated = sorted(f"{GENERATED}/{name}" for name in sources.files
                           if name.endswith(".c"))
        (stage / "Makefile").write_text(makefile.render_makefile(
            board, [*plan.sources, *generated], list(plan.include_dirs), plan.linker_script,
            optimize))

        notice = (build_mod.missing_tools(board) if build
                  else f"not built (--no-build); build it with `make -C {out}`")
        report = None
        if notice is None:
            say(f"building the {board.name} firmware (make -C {out})")
            build_mod.run_make(stage, board, jobs=jobs)
            report = dataclasses.replace(
                memory.report_from_build(board, stage / images["elf"], stage / images["map"],
                                         project_dir=stage),
                store=store)
            (stage / REPORT_TXT).write_text(report.format() + "\n")
            (stage / REPORT_JSON).write_text(json.dumps(report.to_json(), indent=2) + "\n")
            memory.check_fits(report)

        thresholds = _thresholds_info(run)
        manifest = {
            "format_version": FORMAT_VERSION,
            "drip_tiny_version": __version__,
            "created": datetime.datetime.now(datetime.UTC).isoformat(
                timespec="seconds"),
            "run": str(run.resolve()),
            "board": board.name,
            "variant": thresholds["variant"],
            "model": {"file": MODEL_FILE, "bytes": len(model),
                      "sha256": hashlib.sha256(model).hexdigest(),
                      "c_array": ["model_tflite.c", "model_tflite.h"]},
            "thresholds": thresholds,
            "codegen": {"arena_bytes": arena, "weight_bytes": weights,
                        "drip_work_bytes": work, "files": list(sources.files)},
            "store": store.to_json() if store is not None else None,
            "flash_simulated": plan.flash_sim,
            "build": {"command": f"make -C {out}", "built": notice is None,
                      "optimize": makefile.OPTIMIZE[optimize],
                      "notice": notice,
                      "images": dict(images) if notice is None else {}},
            "toolchain": build_mod.tool_versions(board),
            "memory_report": [REPORT_TXT, REPORT_JSON] if report else [],
            "files": [],
        }
        manifest["files"] = sorted([*_project_files(stage), EXPORT_JSON])
        (stage / EXPORT_JSON).write_text(json.dumps(manifest, indent=2) + "\n")
    built_images = {k: out / v for k, v in images.items()} if notice is None else {}
    return ExportResult(out=out, board=board.name, built=notice is None, notice=notice,
                        images=built_images, report=report, manifest=manifest, store=store)
