"""Every tool, runtime library and data folder the test suite uses comes from a Debian package
that scripts/setup.sh installs: one listed in scripts/debian-packages.txt, one those pull in
through Depends/Pre-Depends (setup installs with --no-install-recommends, so Recommends do
not count), or one of the base system (Essential or Priority: required).

Why: a developer's machine keeps what earlier sessions installed, so a missing line in
debian-packages.txt hides until a fresh CI machine fails. clang's libFuzzer runtime is the
case that happened: it sits in libclang-rt-14-dev, which clang only recommends.

The second test keeps the list honest: every tool name the sources look up or run
(shutil.which, require_tools, subprocess argv, tool-name constants) must be in SUITE_TOOLS.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_LIST = ROOT / "scripts" / "debian-packages.txt"

# Commands the suite runs, directly or through drip-tiny's builds (the export Makefile runs
# the cross tools and python3 for UF2 images).
SUITE_TOOLS = {
    "cc": "HostModel, the host board, the store and kernel tests compile C",
    "gcc": "the same compiler under its own name (tests/test_export.py)",
    "make": "`drip-tiny export` builds its projects with make -C DIR",
    "python3": "the export Makefile's UF2 step ($(PYTHON))",
    "arm-none-eabi-gcc": "Cortex-M4F builds of every generated file and firmware",
    "arm-none-eabi-objcopy": "the export Makefile's HEX and BIN images",
    "arm-none-eabi-size": "emulate.insn_count.elf_sizes",
    "arm-none-eabi-nm": "symbol addresses for the instruction-counting plugin",
    "arm-none-eabi-readelf": "load segments of the board self-test images",
    "qemu-system-arm": "the emulated mps2-an386 board",
    "clang": "libFuzzer builds of the firmware fuzz targets",
}


def _print_file_name(compiler: list[str], name: str) -> str | None:
    """The path the compiler driver would link for `name`, or None when it has none."""
    if shutil.which(compiler[0]) is None:
        return None
    out = subprocess.run([*compiler, f"-print-file-name={name}"], capture_output=True,
                         text=True, check=True).stdout.strip()
    return out if os.path.isabs(out) and os.path.exists(out) else None


ARM_M4F = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16",
           "-mfloat-abi=hard"]

# Libraries and data the suite needs besides the commands: (what, how to find it, why).
SUITE_FILES = [
    ("libFuzzer runtime", lambda: _print_file_name(["clang"], "libclang_rt.fuzzer-x86_64.a"),
     "clang -fsanitize=fuzzer (tests/test_reliability_fuzz.py)"),
    ("clang ASan runtime", lambda: _print_file_name(["clang"], "libclang_rt.asan-x86_64.a"),
     "clang -fsanitize=fuzzer,address"),
    ("gcc ASan runtime", lambda: _print_file_name(["cc"], "libasan.so"),
     "cc -fsanitize=address (store and kernel tests)"),
    ("gcc UBSan runtime", lambda: _print_file_name(["cc"], "libubsan.so"),
     "cc -fsanitize=undefined"),
    ("host C library", lambda: _print_file_name(["cc"], "libc.so"),
     "linking host programs"),
    ("newlib for Cortex-M4F", lambda: _print_file_name(ARM_M4F, "libc.a"),
     "linking firmware images"),
    ("Fashion-MNIST IDX files", lambda: "/usr/share/datasets/fashion-mnist"
     if os.path.isdir("/usr/share/datasets/fashion-mnist") else None,
     "the fashion-mnist loader's default folder (tests/test_datasets_idx.py)"),
]


def listed_packages() -> list[str]:
    names = []
    for line in PACKAGE_LIST.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return names


def _bare(name: str) -> str:
    """'libc6:amd64 (>= 2.34)' -> 'libc6'."""
    return name.strip().split(" ", 1)[0].split(":", 1)[0]


def installed_packages() -> dict[str, dict]:
    """Every installed package: priority, essential, what it provides, its dependencies as
    lists of alternatives."""
    fields = "${Package}\t${db:Status-Abbrev}\t${Priority}\t${Essential}\t${Provides}\t" \
             "${Depends}\t${Pre-Depends}\n"
    out = subprocess.run(["dpkg-query", "-W", f"-f={fields}"], capture_output=True,
                         text=True, check=True).stdout
    packages = {}
    for line in out.splitlines():
        name, status, priority, essential, provides, depends, pre = line.split("\t")
        if not status.startswith("ii"):
            continue
        groups = [[_bare(alt) for alt in group.split("|")]
                  for group in f"{depends},{pre}".split(",") if group.strip()]
        packages[name] = {"base": essential == "yes" or priority == "required",
                          "provides": {_bare(p) for p in provides.split(",") if p.strip()},
                          "depends": groups}
    return packages


def setup_closure(roots: list[str], packages: dict[str, dict]) -> dict[str, str]:
    """Packages an `apt-get install --no-install-recommends ROOTS` brings onto a base system,
    as far as the installed set shows it: each mapped to the root that pulled it in."""
    providers: dict[str, list[str]] = {}
    for name, info in packages.items():
        for virtual in info["provides"]:
            providers.setdefault(virtual, []).append(name)
    reached: dict[str, str] = {}
    queue = [(root, root) for root in roots if root in packages]
    queue += [(name, "the base system") for name, info in packages.items() if info["base"]]
    while queue:
        name, root = queue.pop()
        if name in reached:
            continue
        reached[name] = root
        for group in packages[name]["depends"]:
            # apt takes the first alternative it can satisfy; the installed one stands in.
            for alt in group:
                chosen = [alt] if alt in packages else providers.get(alt, [])
                if chosen:
                    queue.extend((c, root) for c in chosen if c not in reached)
                    break
    return reached


def owning_package(path: str) -> str | None:
    """The package dpkg says owns `path` (symlinks resolved), or None."""
    real = os.path.realpath(path)
    for candidate in (real, path):
        result = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        for line in result.stdout.splitlines():
            if line.startswith("diversion "):
                continue
            owners, _, owned = line.partition(": ")
            if owned.strip() == candidate:
                return _bare(owners.split(",")[0])
    return None


def dpkg_tool_path(tool: str) -> tuple[str | None, str | None]:
    """(first path of `tool` on PATH, first such path dpkg owns). A Python from pyenv may
    shadow Debian's: the Debian one is what a fresh machine has."""
    first = shutil.which(tool)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder, tool)
        if os.access(candidate, os.X_OK) and owning_package(candidate):
            return first, candidate
    return first, None


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-query") is None,
                                reason="not a Debian system: scripts/debian-packages.txt "
                                       "does not apply")


def _problems() -> list[str]:
    packages = installed_packages()
    listed = listed_packages()
    closure = setup_closure(listed, packages)
    problems = [f"{name} is listed in {PACKAGE_LIST.name} but not installed; "
                "run scripts/setup.sh" for name in listed if name not in packages]
    needed: list[tuple[str, str | None, str]] = []
    for tool, why in SUITE_TOOLS.items():
        first, owned = dpkg_tool_path(tool)
        if first is None:
            problems.append(f"the command {tool} ({why}) is not installed; add its Debian "
                            f"package to {PACKAGE_LIST.name}")
            continue
        needed.append((f"the command {tool}", owned, why))
    for what, find, why in SUITE_FILES:
        path = find()
        if path is None:
            problems.append(f"the {what} ({why}) is not installed; find its package with "
                            f"`apt-file search` and add it to {PACKAGE_LIST.name}")
            continue
        needed.append((f"the {what} {path}", path, why))
    for what, path, why in needed:
        package = owning_package(path) if path else None
        if package is None:
            problems.append(f"{what} ({why}) belongs to no Debian package; a fresh machine "
                            "will not have it")
        elif package not in closure:
            problems.append(f"{what} ({why}) comes from the Debian package {package}, which "
                            f"nothing in {PACKAGE_LIST.name} pulls in (Recommends are not "
                            f"installed): add {package} to it")
    return problems


@needs_dpkg
def test_every_tool_and_library_of_the_suite_comes_from_a_listed_package():
    problems = _problems()
    assert not problems, "\n".join(problems)


@needs_dpkg
def test_the_closure_follows_depends_and_not_recommends():
    """The rule the first test relies on, on packages of this machine: gcc-arm-none-eabi
    pulls in binutils-arm-none-eabi (Depends), clang does not pull in libclang-rt-14-dev
    (Recommends only)."""
    packages = installed_packages()
    closure = setup_closure(["gcc-arm-none-eabi", "clang"], packages)
    assert closure.get("binutils-arm-none-eabi") == "gcc-arm-none-eabi"
    assert "clang-14" in closure
    if "libclang-rt-14-dev" in packages and not packages["libclang-rt-14-dev"]["base"]:
        assert "libclang-rt-14-dev" not in setup_closure(["clang"], packages)


_LOOKUPS = [
    re.compile(r"""which\(\s*["']([\w.+-]+)["']"""),
    re.compile(r"""(?:subprocess\.(?:run|Popen|check_output|check_call)|Popen)\(\s*\[\s*["']([\w.+-]+)["']"""),
    re.compile(r"""["'](arm-none-eabi-[\w+-]+)["']"""),
    re.compile(r"""["'](qemu-system-[\w-]+)["']"""),
]
_REQUIRE = re.compile(r"require_tools\(([^)]*)\)")


def tools_named_in_sources() -> dict[str, str]:
    """Tool names the Python sources look up or run, each with one place that names it."""
    found: dict[str, str] = {}
    files = [*(ROOT / "drip_tiny").rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]
    for path in files:
        if path.name == Path(__file__).name:
            continue
        text = path.read_text()
        names = [m.group(1) for pattern in _LOOKUPS for m in pattern.finditer(text)]
        for call in _REQUIRE.finditer(text):
            names += re.findall(r"""(?<!== )["']([\w.+-]+)["']""", call.group(1))
        for name in names:
            found.setdefault(name, str(path.relative_to(ROOT)))
    for script in (ROOT / "scripts").glob("*.sh"):
        for name in re.findall(r"^\s*(?:exec\s+)?(clang|gcc|cc|make)\s", script.read_text(),
                               flags=re.M):
            found.setdefault(name, str(script.relative_to(ROOT)))
    return found


def test_every_tool_the_sources_run_is_in_the_package_check():
    named = tools_named_in_sources()
    # Sanity: the scan sees the tools we know are used, so an empty scan cannot pass.
    assert {"arm-none-eabi-gcc", "qemu-system-arm", "make", "cc"} <= named.keys(), named
    unknown = {tool: where for tool, where in named.items() if tool not in SUITE_TOOLS}
    assert not unknown, (f"add these tools to SUITE_TOOLS in {Path(__file__).name}, and their "
                         f"packages to {PACKAGE_LIST.name}: {unknown}")
