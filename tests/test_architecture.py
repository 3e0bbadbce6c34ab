"""The walls between packages (docs/architecture.md): the import contracts in pyproject.toml
hold and would catch a breach, only the command line prints or exits, and a real `export`
and `hil` never load TensorFlow."""

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from firmware_build import fitted_copy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "drip_tiny"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Modules that may print or exit: the command line, and uf2.py, which export copies into
# every project as a standalone script (`python3 uf2.py in.hex out.uf2`).
MAY_PRINT = {"drip_tiny/cli.py", "drip_tiny/__main__.py", "drip_tiny/export/uf2.py"}


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"),
                           "--no-cache"], cwd=package_parent, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, statement, contract", [
    # a lazy import inside a function counts as much as one at the top
    ("export/c_array.py", "def _f():\n    import drip_tiny.train.fit_model\n",
     "never load TensorFlow"),
    ("hil/junit.py", "import tensorflow\n", "never load TensorFlow"),
    ("drip/variants.py", "import drip_tiny.link.client\n", "knows nothing of devices"),
    ("codegen/quant.py", "import drip_tiny.drip.thresholds\n", "only downwards"),
    ("link/protocol.py", "import drip_tiny.run.directory\n", "Bytes on a wire"),
])
def test_a_breach_of_each_wall_is_caught(tmp_path, module, statement, contract):
    shutil.copytree(PACKAGE, tmp_path / "drip_tiny",
                    ignore=shutil.ignore_patterns("__pycache__", "_data"))
    with open(tmp_path / "drip_tiny" / module, "a") as f:
        f.write("\n" + statement)
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts"):]
    assert contract.lower() in broken.lower(), result.stdout


def _prints_or_exits(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
                node.id in ("print", "exit", "quit", "SystemExit"):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name in ("sys.exit", "os._exit", "sys.stdout", "os.abort"):
                yield node.lineno, name
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "write" and isinstance(node.func.value, ast.Attribute) and \
                node.func.value.attr == "stderr":
            yield node.lineno, "sys.stderr.write"


def test_only_the_command_line_prints_or_exits():
    """The library raises; commands/ and cli.py turn errors into a line and an exit code."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("drip_tiny/commands/") or rel in MAY_PRINT:
            continue
        found += [f"{rel}:{line}: {what}"
                  for line, what in _prints_or_exits(ast.parse(path.read_text()))]
    assert found == []


def test_the_print_check_sees_a_print():
    tree = ast.parse("def f(log=print):\n    sys.exit(1)\n")
    assert sorted(what for _, what in _prints_or_exits(tree)) == ["print", "sys.exit"]


@pytest.mark.slow
def test_export_and_hil_never_load_tensorflow(digits_ptq_run, tmp_path):
    """A real export (host board, built) and a real hil on it, in a fresh interpreter."""
    run = fitted_copy(digits_ptq_run, tmp_path / "run")
    script = textwrap.dedent(f"""
        import json, sys
        from drip_tiny.cli import main
        codes = [main(["export", {str(run)!r}, "--board", "host", "--out",
                       {str(tmp_path / "fw")!r}, "--quiet"]),
                 main(["hil", {str(run)!r}, "--board", "host", "--image",
                       {str(tmp_path / "fw")!r}, "--erase", "--limit", "40"])]
        heavy = sorted(m for m in sys.modules
                       if m.split(".")[0] in ("tensorflow", "tf_keras", "keras",
                                              "tensorflow_model_optimization"))
        print("RESULT", json.dumps({{"codes": codes, "heavy": heavy[:5]}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout, as the suite imports it
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900)
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")]
    assert line, result.stdout + result.stderr
    outcome = json.loads(line[-1][len("RESULT "):])
    assert outcome == {"codes": [0, 0], "heavy": []}, result.stdout + result.stderr


def _top_level_packages() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def test_the_readme_layout_table_matches_the_tree():
    readme = (ROOT / "README.md").read_text()
    rows = {line.split("`")[1] for line in readme.splitlines()
            if line.startswith("| `drip_tiny/")}
    packages = {f"drip_tiny/{name}/" for name in _top_level_packages()}
    assert packages - rows == set(), "packages missing from the README's layout table"
    assert [row for row in rows if not (ROOT / row).exists()] == []


def test_the_architecture_page_describes_every_package():
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert [name for name in sorted(_top_level_packages())
            if f"**{name}/**" not in page] == []


# One source of truth each: (what, where it may be spelled, how to recognise it).
RUN_FILE_NAMES = {"model.tflite", "float_model.keras", "metadata.json", "metrics.json",
                  "history.json", "splits.npz", "thresholds.json"}


def _spellings(node: ast.AST) -> list[str]:
    found = []
    if isinstance(node, ast.Constant) and node.value in RUN_FILE_NAMES:
        found.append("run file name")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "add_argument" and node.args and \
            isinstance(node.args[0], ast.Constant) and node.args[0].value == "--board":
        found.append("--board")
    if isinstance(node, ast.Attribute) and node.attr == "Environment":
        found.append("jinja environment")
    if isinstance(node, ast.FunctionDef) and "c_float" in node.name:
        found.append("C float literal")
    return found


HOMES = {"run file name": "drip_tiny/run/file_names.py",
         "--board": "drip_tiny/commands/board_argument.py",
         "jinja environment": "drip_tiny/codegen/c_text.py",
         "C float literal": "drip_tiny/codegen/c_text.py"}


def test_each_shared_fact_is_spelled_in_one_place():
    strays = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            strays += [f"{rel}:{node.lineno}: {what} (belongs in {HOMES[what]})"
                       for what in _spellings(node) if HOMES[what] != rel]
    assert strays == []


def test_the_spelling_check_sees_a_stray():
    tree = ast.parse('p.add_argument("--board")\nx = "splits.npz"')
    assert sorted(w for n in ast.walk(tree) for w in _spellings(n)) == ["--board",
                                                                         "run file name"]
