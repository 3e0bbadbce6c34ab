"""Every figure the README quotes comes from a committed benchmark file in benchmarks/.

Three kinds of checks, each driven by a table below (adding a figure is one line):
- PRINTOUTS: a README code block quoting a command's output must be an excerpt (lines in
  order, "..." for left-out lines) of that command's stdout as a benchmark recorded it;
- FIGURES: a README passage with its numbers formatted from benchmark values must appear
  in the README (whitespace folded, so line breaks do not matter);
- SOURCED_TABLES: every row of these README tables must be one of the FIGURES, so a table
  cannot gain a row that no benchmark made.
No TensorFlow, no builds: it reads files.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


@cache
def readme() -> str:
    return (ROOT / "README.md").read_text()


def folded(text: str) -> str:
    return " ".join(text.split())


@cache
def document(name: str):
    return json.loads((BENCH / name).read_text())


def at(source: str):
    """A value from "file.json:path": dot-separated keys or list indices, and [key=value]
    to pick the list item whose key has that value (several with commas)."""
    name, _, path = source.partition(":")
    value = document(name)
    for key, selector in re.findall(r"([^.\[\]]+)|\[([^\]]*)\]", path):
        if selector:
            wanted = dict(part.split("=", 1) for part in selector.split(","))
            matches = [item for item in value
                       if all(str(item.get(k)) == v for k, v in wanted.items())]
            assert len(matches) == 1, f"{source}: [{selector}] matches {len(matches)} items"
            value = matches[0]
        elif isinstance(value, list):
            value = value[int(key)]
        else:
            value = value[key]
    return value


def value(source):
    return source() if callable(source) else at(source)


# --- values computed from the benchmark files -------------------------------------------------

def _anchor_ratios(kind: str, field: str) -> list[float]:
    """TFLM's figure over ours, for every model of results.json with TFLM figures."""
    ours = "instructions" if field == "instructions" else "arena_bytes"
    return [m["tflm"][kind][field] / m[ours] for m in at("results.json:models") if m["tflm"]]


def ratio_range(kind: str, field: str):
    def low_high() -> tuple[float, float]:
        ratios = _anchor_ratios(kind, field)
        return min(ratios), max(ratios)
    return low_high


def stdout_match(step: str, pattern: str):
    """A group of a regex in a command's recorded output (default_run.json)."""
    def find() -> str:
        match = re.search(pattern, at(f"default_run.json:steps.{step}.stdout"))
        assert match, f"{pattern!r} not in the recorded `{step}` output"
        return match.group(1)
    return find


def text_match(name: str, pattern: str):
    """A group of a regex in a committed benchmark text file (a table's provenance note)."""
    def find() -> str:
        match = re.search(pattern, (BENCH / name).read_text())
        assert match, f"{pattern!r} not in benchmarks/{name}"
        return match.group(1)
    return find


def stdout_bytes(step: str, label: str, unit: int):
    """"LABEL 1,234" in a command's recorded output, in units of `unit` bytes."""
    number = stdout_match(step, label + r" ([\d,]+)")
    return lambda: int(number().replace(",", "")) / unit


def kb(source: str):
    return lambda: value(source) / 1024


def percent_range(source: str):
    """min and max of a list of ratios, as whole percents (the README writes "72-125%")."""
    return lambda: (round(100 * min(value(source))), round(100 * max(value(source))))


def duration(seconds: float) -> str:
    """As train_accuracy's table: "22 s", "3 min 44 s"."""
    s = round(seconds)
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60} s"


def summary(model: str):
    """Table I's cell: mean (± standard deviation) accuracy over the experiment's runs."""
    source = f"experiment_digits/summary.json:models.{model}.accuracy"
    return lambda: "{:.1%} (±{:.1%})".format(*at(source))


def fraction_between(numerator: str, denominator: str):
    return lambda: value(numerator) / value(denominator)


def difference(a: str, b: str):
    return lambda: value(a) - value(b)


def literal(text: str):
    return lambda: text


def function_of(source, fn):
    return lambda: fn(value(source))


# --- the tables that drive the checks --------------------------------------------------------

# README code block (found by the start of its first line) -> the recorded stdout it quotes.
PRINTOUTS = [
    ("run directory     runs/digits", "default_run.json:steps.train.stdout"),
    ("production split: 575 samples", "default_run.json:steps.simulate.stdout"),
    ("mps2-an386 (drip-tiny", "default_run.json:steps.hil.stdout"),
]

TRAIN = "train_accuracy.json:rows[command=drip-tiny train --dataset {}]"
M4 = "m4_instructions.json:rows[model={}]"
FW = "firmware_memory.json:rows[model={},board=nrf52840].report"
ANCHORS = ("digits_cnn", "fashion_cnn", "resnet8_cifar10", "dscnn_kws", "conv1d_audio")
DRIP_DEFAULT = "drips_kernel_m4.json:[model=built-in digits CNN (default run),variant=minmax]"
QEMU8 = "hil_throughput.json:results[board=mps2-an386,window=8]"
QEMU1 = "hil_throughput.json:results[board=mps2-an386,window=1]"
OPT = "default_run.json:optimization"


def _fig(template: str, *sources) -> tuple[str, tuple]:
    return template, sources


def _flat(values) -> list:
    out = []
    for v in values:
        out.extend(v if isinstance(v, tuple) else (v,))
    return out


# (README text with format fields, the sources of its values in order). A source is
# "file.json:path" or a function of no arguments (see the helpers above).
FIGURES = [
    # Quick start: where the printouts come from, and the machine.
    _fig("on a {}-core {} with TensorFlow {}", "default_run.json:machine.cores",
         "default_run.json:machine.cpu", "default_run.json:machine.versions.tensorflow"),
    _fig("`fit` scores the {} validation samples",
         stdout_match("fit", r"(\d+) validation samples grouped")),
    _fig("DPW 25 puts {} of the validation scores inside their class window but only {:.1%} "
         "of the production samples",
         stdout_match("fit", r"inside their window: \d+/\d+ \(([\d.]+%)\)"),
         "default_run.json:simulate.storage_savings"),
    # Table I (the experiment) and its prose.
    _fig("On digits ({} runs, [benchmarks/experiment_digits]",
         "experiment_digits/summary.json:runs"),
    _fig("| {} | {} | {} | {} | {} | {} | {:.1%} (±{:.1%}) |", summary("baseline"),
         summary("all_data"), summary("drip"), summary("random"), summary("entropy"),
         summary("margin"), "experiment_digits/summary.json:storage_savings.0",
         "experiment_digits/summary.json:storage_savings.1"),
    _fig("DRIP matches the all-data model, as the paper reports, but saves {:.1%} here",
         "experiment_digits/summary.json:storage_savings.0"),
    _fig("The run took {} minutes on one core",
         text_match("experiment_digits/table.md", r"(\d+) minutes of run time")),
    # `drip-tiny train` table.
    *(_fig("| `{}` | {:.2%} | {:.2%} | {:,} B | {:,} B | {} |", f"{TRAIN.format(a)}.command",
           f"{TRAIN.format(a)}.float_test_accuracy", f"{TRAIN.format(a)}.int8_test_accuracy",
           f"{TRAIN.format(a)}.model_tflite_bytes", f"{TRAIN.format(a)}.tflm_arena_bytes.total",
           function_of(f"{TRAIN.format(a)}.wall_seconds", duration))
      for a in ("digits", "digits --quantize qat", "fashion-mnist")),
    # Generated C.
    _fig("on {} seeded random models", "codegen_random.json:models"),
    _fig("**{:.2f}x-{:.2f}x fewer instructions than TFLM's reference kernels, and "
         "{:.2f}x-{:.2f}x the speed of TFLM with CMSIS-NN**",
         ratio_range("reference", "instructions"), ratio_range("cmsis_nn", "instructions")),
    _fig("within 1% on fashion_cnn and resnet8, {:.0%} more on dscnn_kws",
         lambda: at("results.json:models[model=dscnn_kws].instructions")
         / at("results.json:models[model=dscnn_kws].tflm.cmsis_nn.instructions") - 1),
    _fig("**activation arena {:.2f}x-{:.2f}x smaller than TFLM's** ({:.2f}x-{:.2f}x against "
         "TFLM with CMSIS-NN)", ratio_range("reference", "arena"),
         ratio_range("cmsis_nn", "arena")),
    *(_fig("| {} | {:,} | {:,} | {:,} | {:,} | {:,} | {:.2%} |", f"{M4.format(m)}.model",
           f"{M4.format(m)}.instructions", f"{M4.format(m)}.tflm.reference.instructions",
           f"{M4.format(m)}.tflm.cmsis_nn.instructions", f"{M4.format(m)}.arena_bytes",
           f"{M4.format(m)}.tflm.reference.arena",
           f"drips_kernel_m4.json:[model=anchor {m},variant=minmax].fraction")
      for m in ANCHORS),
    _fig("it is {:.2%} ({:,} instructions after a {:,}-instruction inference, {:g} KB of RAM)",
         f"{DRIP_DEFAULT}.fraction", f"{DRIP_DEFAULT}.drip_instructions",
         f"{DRIP_DEFAULT}.inference_instructions", kb(f"{DRIP_DEFAULT}.drip_work_bytes")),
    # On the device.
    _fig("The same decisions and the same {:.1%} savings as `simulate`",
         "default_run.json:simulate.storage_savings"),
    _fig("a run of {} rounds gave the harness a median of {:.0%} of the raw rate (single "
         "rounds {}-{}%", f"{QEMU8}.rounds", f"{QEMU8}.median_ratio",
         percent_range(f"{QEMU8}.ratios")),
    _fig("against {:.0%} with `--window 1`", f"{QEMU1}.median_ratio"),
    *(_fig("| {} | {:,} B | {:,} B | {:,} B | {:,} B | {:,} B | {:,} B | {:,} B |", literal(label),
           f"{FW.format(m)}.flash.used", f"{FW.format(m)}.flash.capacity",
           f"{FW.format(m)}.flash.parts[name=model weights and parameters].bytes",
           f"{FW.format(m)}.ram.used", f"{FW.format(m)}.ram.capacity",
           f"{FW.format(m)}.ram.parts[name=model arena].bytes",
           f"{FW.format(m)}.ram.parts[name=stack].bytes")
      for m, label in (("digits", "digits"), ("fashion-mnist", "Fashion-MNIST"))),
    _fig("Flash available is the {:g} MB minus the sample store ({:g} KB) and the settings "
         "pages ({:g} KB)", stdout_bytes("export_nrf52840", "FLASH", 1 << 20),
         stdout_bytes("export_nrf52840", "store", 1 << 10),
         stdout_bytes("export_nrf52840", "settings", 1 << 10)),
    _fig("on the digits benchmark image {:.1f} KB less code, {:.2f}x the inference "
         "instructions: {:,} against {:,}",
         lambda: (at(f"{OPT}.-O2.text_bytes") - at(f"{OPT}.-Os.text_bytes")) / 1024,
         fraction_between(f"{OPT}.-Os.instructions", f"{OPT}.-O2.instructions"),
         f"{OPT}.-Os.instructions", f"{OPT}.-O2.instructions"),
    # The sample store's capacity (firmware_memory.json: what export prints).
    _fig("The store holds {:,} digits samples, {:,} Fashion-MNIST images or {:,} one-second "
         "audio clips of {:,} bytes", "firmware_memory.json:store[sample=digits].samples.nrf52840",
         "firmware_memory.json:store[sample=fashion-mnist].samples.nrf52840",
         "firmware_memory.json:store[sample=audio clip].samples.nrf52840",
         "firmware_memory.json:store[sample=audio clip].bytes"),
]

# Header lines of README tables whose every row must be one of the FIGURES.
SOURCED_TABLES = [
    "| command | float acc | int8 acc (TFLM) | model | TFLM arena | wall |",
    "| Baseline | All-Data | DRIP | Random | Entropy | Margin | Storage savings |",
    "| model | instructions / inference | TFLM reference | TFLM CMSIS-NN | arena | TFLM arena "
    "| DRIP kernel |",
    "| model | flash used | flash available | of which weights | RAM used | RAM | of which "
    "arena | stack |",
]


def rendered(template: str, sources: tuple) -> str:
    return template.format(*_flat(value(s) for s in sources))


def code_blocks(text: str) -> list[list[str]]:
    return [block.split("\n") for block in re.findall(r"```[a-z]*\n(.*?)\n```", text, re.S)]


def table_rows(text: str, header: str) -> list[str]:
    lines = text.split("\n")
    assert header in lines, f"README has no table with the header {header!r}"
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


# --- the checks -------------------------------------------------------------------------------

@pytest.mark.parametrize("first_line, source", PRINTOUTS, ids=[p[1] for p in PRINTOUTS])
def test_quoted_printouts_are_excerpts_of_what_the_benchmark_recorded(first_line, source):
    blocks = [b for b in code_blocks(readme()) if b[0].startswith(first_line)]
    assert len(blocks) == 1, f"README has {len(blocks)} code blocks starting {first_line!r}"
    recorded = value(source).rstrip("\n").split("\n")
    # Runs of quoted lines between "..." must each appear, in order, as consecutive lines.
    chunks, current = [], []
    for line in blocks[0]:
        if line.strip() == "...":
            chunks.append(current)
            current = []
        else:
            current.append(line)
    chunks.append(current)
    start = 0
    for chunk in (c for c in chunks if c):
        found = next((i for i in range(start, len(recorded) - len(chunk) + 1)
                      if recorded[i:i + len(chunk)] == chunk), None)
        assert found is not None, (f"README quotes lines that {source} does not hold (in this "
                                   "order):\n" + "\n".join(chunk))
        start = found + len(chunk)


@pytest.mark.parametrize("template, sources", FIGURES, ids=[f[0][:50] for f in FIGURES])
def test_each_figure_in_the_readme_is_the_benchmarks(template, sources):
    expected = rendered(template, sources)
    assert folded(expected) in folded(readme()), (
        f"README should say (from benchmarks/): {expected!r}")


@pytest.mark.parametrize("header", SOURCED_TABLES)
def test_every_row_of_a_benchmark_table_comes_from_a_benchmark(header):
    known = {rendered(t, s) for t, s in FIGURES if t.startswith("|")}
    rows = table_rows(readme(), header)
    assert rows
    for row in rows:
        assert row in known, f"this README row is not made from benchmarks/: {row!r}"


def test_the_random_models_claim_is_what_the_benchmark_found():
    """README: every output bit-exact with TFLM on the random models."""
    assert at("codegen_random.json:models") >= 300
    assert at("codegen_random.json:bit_exact") == at("codegen_random.json:models")
    assert at("codegen_random.json:max_abs_diff") == 0
    assert at("codegen_random.json:failures") == []
    assert at("codegen_random.json:ops_not_covered") == []
    assert at("codegen_random.json:required_features_missing") == []


def test_the_checker_catches_a_changed_figure():
    """A sanity check of the machinery on a made-up README line."""
    template, sources = FIGURES[[f[0] for f in FIGURES].index(
        "DRIP matches the all-data model, as the paper reports, but saves {:.1%} here")]
    assert rendered(template, sources) in folded(readme())
    assert rendered(template, sources).replace("%", "1%") not in folded(readme())
    assert duration(223.7) == "3 min 44 s" and duration(22.0) == "22 s"
