"""Generated C against TFLM's interpreter on random models: seeds 0..N-1 of
tests/codegen_random_graphs.py (flatbuffers with every op the code generator supports and
every option its lowering reads), each compiled for this host (HostModel) and run on six
inputs (all -128, all 127, random values that include both), every output compared bit for
bit with TFLM's. Writes codegen_random.json and codegen_random.md here.

    python benchmarks/codegen_random.py              # 300 models, about 5 minutes
    python benchmarks/codegen_random.py --models 20  # a smoke run

A model that differs, or that the code generator or TFLM refuses, is listed with its seed,
ops and features, and the script exits 1. The test suite runs a few seeds
(tests/test_codegen_random_graphs.py) and checks that this file's coverage is what the
generator makes for these seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's drip_tiny
sys.path.insert(0, str(HERE.parent / "tests"))

import codegen_random_graphs as graphs  # noqa: E402


def _versions() -> dict:
    import subprocess
    from importlib.metadata import version

    from drip_tiny.codegen.host import compiler

    cc = subprocess.run([compiler(), "--version"], capture_output=True, text=True).stdout
    return {"tflite-micro": version("tflite-micro"), "cc": cc.splitlines()[0] if cc else "?"}


def _compare(seed: int, cache: Path) -> dict:
    return graphs.compare_with_tflm(graphs.random_model(seed), cache_dir=cache)


def run(count: int, cache: Path) -> dict:
    features: Counter = Counter()
    models_with_op: Counter = Counter()
    failures, rows = [], []
    values = first_values = saturated = single_valued = 0
    max_diff = 0.0
    started = time.perf_counter()
    # Models run in a worker process, so that one that crashes is reported with its seed
    # and the rest still run.
    pool = ProcessPoolExecutor(max_workers=1)
    for seed in range(count):
        model = graphs.random_model(seed)
        features.update(model.features)
        models_with_op.update(model.ops)
        try:
            result = pool.submit(_compare, seed, cache).result()
        except BrokenProcessPool:  # a crash in the generated C or in TFLM's interpreter
            failures.append({"seed": seed, "ops": model.ops, "error": "the process running "
                             "the model crashed (a signal such as SIGSEGV)",
                             "features": sorted(model.features)})
            pool = ProcessPoolExecutor(max_workers=1)
            continue
        except Exception as exc:
            failures.append({"seed": seed, "ops": model.ops, "error": f"{type(exc).__name__}: "
                             f"{str(exc)[:2000]}", "features": sorted(model.features)})
            continue
        values += result["values"]
        saturated += result["first_output_saturated"]
        first_values += result["first_output_values"]
        single_valued += result["first_output_distinct"] == 1
        max_diff = max(max_diff, result["max_abs_diff"])
        if result["differing"]:
            failures.append({"seed": seed, "ops": model.ops, "result": result,
                             "features": sorted(model.features)})
        rows.append(result)
        if (seed + 1) % 25 == 0:
            print(f"{seed + 1}/{count} models, {len(failures)} failures", file=sys.stderr,
                  flush=True)
    pool.shutdown()
    op_counts = {op: {"models": models_with_op[op], "operators": features[op]}
                 for op in sorted(models_with_op)}
    options = {f: n for f, n in sorted(features.items()) if " " in f}
    from drip_tiny.codegen.ops import supported_ops

    return {
        "command": "python benchmarks/codegen_random.py" + (
            f" --models {count}" if count != 300 else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "versions": _versions(),
        "models": count,
        "bit_exact": len(rows) - sum(1 for r in rows if r["differing"]),
        "values_compared": values,
        "max_abs_diff": max_diff,
        "failures": failures,
        "operators": sum(features[op] for op in models_with_op),
        "supported_ops": list(supported_ops()),
        "ops_not_covered": sorted(set(supported_ops()) - set(models_with_op)),
        "required_features_missing": sorted(graphs.REQUIRED_FEATURES
                                            - graphs.covered(features)),
        "ops": op_counts,
        "options": options,
        "first_output_saturated_fraction": saturated / max(first_values, 1),
        "models_with_single_valued_output": single_valued,
        "seconds": round(time.perf_counter() - started, 1),
    }


def write(result: dict, out: Path) -> None:
    (out / "codegen_random.json").write_text(json.dumps(result, indent=1) + "\n")
    ok = not result["failures"]
    lines = ["# Generated C against TFLM on random models", "",
             f"Made by `{result['command']}` on {result['date']} ({result['machine']}; "
             f"tflite-micro {result['versions']['tflite-micro']}; {result['versions']['cc']}) "
             f"in {result['seconds']:.0f} s. Models: seeds 0..{result['models'] - 1} of "
             "tests/codegen_random_graphs.py, written as flatbuffers; each compiled for this "
             "host and run on six inputs (all -128, all 127, four random ones with both "
             "extremes), every output compared bit for bit with TFLM's interpreter.", "",
             f"**{result['bit_exact']} of {result['models']} models bit-exact** "
             f"({result['values_compared']:,} output values, max abs diff "
             f"{result['max_abs_diff']:g}); {result['operators']:,} operators; ops not "
             f"covered: {', '.join(result['ops_not_covered']) or 'none'}; required options "
             f"not covered: {', '.join(result['required_features_missing']) or 'none'}.",
             "", f"{100 * result['first_output_saturated_fraction']:.1f}% of the first "
             "outputs' int8 values sit at -128 or 127; "
             f"{result['models_with_single_valued_output']} models gave one value for every "
             "input on their first output (they still test shapes and the planner).", ""]
    if not ok:
        lines += ["## Failures", ""]
        for f in result["failures"]:
            lines.append(f"- seed {f['seed']} ({', '.join(f['ops'])}): "
                         + (f["error"].splitlines()[0] if "error" in f else
                            f"{f['result']['differing']} values differ, max abs diff "
                            f"{f['result']['max_abs_diff']:g}"))
        lines.append("")
    lines += ["## Ops", "", "| op | models | operators |", "|---|---:|---:|"]
    for op, c in result["ops"].items():
        lines.append(f"| {op} | {c['models']} | {c['operators']} |")
    lines += ["", "## Options (operators with each value)", "", "| op | option | operators |",
              "|---|---|---:|"]
    for feature, n in result["options"].items():
        op, option = feature.split(" ", 1)
        lines.append(f"| {op} | {option} | {n} |")
    (out / "codegen_random.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="drip-tiny-codegen-random-") as tmp:
        result = run(args.models, Path(tmp))
    args.out.mkdir(parents=True, exist_ok=True)
    write(result, args.out)
    print((args.out / "codegen_random.md").read_text())
    return 0 if not result["failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
