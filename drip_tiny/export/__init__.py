"""Export: a run + a board -> a standalone firmware project, its build and memory report.

- `export_project(run, board, out, ...)` writes (and builds) the project: export.py.
- `memory.report_from_build(board, elf, map_file)` / `memory.precheck(...)`: memory.py.
- `build.run_make(project, board)` / `build.missing_tools(board)`: build.py.
- `flash.flash_image(board, image, ...)`: flash.py (pyOCD or nrfjprog).
- `app_model.write_model_sources(run, out_dir)`: every model-specific C file.
- `uf2`: Intel HEX -> UF2 (standard library only; copied into projects).
"""

from drip_tiny.export.export import ExportResult, export_project

__all__ = ["ExportResult", "export_project"]
