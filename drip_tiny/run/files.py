"""The run directory's JSON files, checked at the door against declared schemas.

Every command that reads metadata.json, metrics.json or thresholds.json reads it through
`read_run_file`, so a hand-edited or truncated file stops the command with one line that
names the file, the field and the fix, before anything is computed or written. A NaN
threshold, for instance, would otherwise keep every sample of its class in `simulate`
while `export` wrote 0.0f for the device.

The schemas are pydantic models (pydantic v2: typed, strict, with field paths in its
errors, and already installed with TensorFlow's dependencies). They declare what the
commands rely on; other fields are allowed, so a run keeps whatever `train` records.
JSON's non-standard NaN and Infinity are refused while parsing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drip_tiny.errors import RunDirError
from drip_tiny.run.file_names import METADATA, METRICS, THRESHOLDS

RUN_FORMAT_VERSION = 1
THRESHOLDS_FORMAT_VERSION = 1

FIXES = {METADATA: "re-run `drip-tiny train`",
         METRICS: "re-run `drip-tiny train`",
         THRESHOLDS: "correct the value, or re-run `drip-tiny fit RUN`"}
FORMAT_VERSIONS = {METADATA: RUN_FORMAT_VERSION, THRESHOLDS: THRESHOLDS_FORMAT_VERSION}


class _Schema(BaseModel):
    # strict: "0.25" is not a number and 1.0 is not a label; extra: a run may record more.
    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)


NonNegative = Annotated[int, Field(ge=0)]
Fraction01 = Annotated[float, Field(ge=0, le=1)]


class _Dataset(_Schema):
    name: str = Field(min_length=1)
    class_names: list[str] = Field(min_length=1)
    data_dir: str | None = None
    load_options: dict[str, Any] | None = None
    fingerprint: dict[str, Any] | None = None


class _Model(_Schema):
    target_layer: str = Field(min_length=1)


class _Tensor(_Schema):
    scale: float = Field(gt=0)
    zero_point: int = Field(ge=-128, le=127)


class _Int8(_Schema):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    input: _Tensor
    logits_output: NonNegative
    target_output: NonNegative


class MetadataFile(_Schema):
    format_version: int
    dataset: _Dataset
    model: _Model
    int8: _Int8


class MetricsFile(_Schema):
    float_test_accuracy: Fraction01 | None = None
    int8_test_accuracy: Fraction01 | None = None
    tflm_arena_bytes: dict[str, NonNegative]
    model_tflite_bytes: NonNegative


class _ClassThreshold(_Schema):
    label: NonNegative
    name: str
    count: NonNegative
    window: NonNegative
    lower: float | None
    upper: float | None
    std: Annotated[float, Field(ge=0)] | None
    validation_discarded: NonNegative

    @model_validator(mode="after")
    def _window_is_whole(self) -> _ClassThreshold:
        if (self.lower is None) != (self.upper is None):
            raise ValueError("lower and upper must both be numbers (a window) or both null "
                             "(no window: keep every sample of the class)")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"lower {self.lower} is above upper {self.upper}")
        if (self.lower is None) != (self.window == 0):
            raise ValueError("window must be 0 exactly when lower and upper are null")
        return self


class ThresholdsFile(_Schema):
    format_version: int
    variant: Literal["raw", "max", "minmax"]
    dpw: float = Field(gt=0, le=100)
    path: Literal["int8", "float"]
    group_by: Literal["predicted", "true"]
    model_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    classes: list[_ClassThreshold] = Field(min_length=1)

    @model_validator(mode="after")
    def _labels_in_order(self) -> ThresholdsFile:
        labels = [c.label for c in self.classes]
        if labels != list(range(len(labels))):
            raise ValueError(f"class labels must be 0..{len(labels) - 1} in order, got {labels}")
        return self


SCHEMAS: dict[str, type[_Schema]] = {METADATA: MetadataFile, METRICS: MetricsFile,
                                     THRESHOLDS: ThresholdsFile}


# Where a value sits in a JSON document: object keys and list indices, outermost first.
_Loc = tuple[str | int, ...]


class _NonFinite:
    """What NaN, Infinity and -Infinity parse to, so the error can name their field."""

    def __init__(self, text: str) -> None:
        self.text = text


def _non_finite_field(data: object, loc: _Loc = ()) -> tuple[_Loc, str] | None:
    if isinstance(data, _NonFinite):
        return loc, data.text
    items = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = _non_finite_field(value, (*loc, key))
        if found:
            return found
    return None


def _field_path(loc: _Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            text += f".{part}" if text else str(part)
    return text or "the top level"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = _field_path(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{where} is missing"
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (found {json.dumps(value)})"
    return f"{where}: {message}{shown}"


# A run file is a JSON object whose shape its pydantic schema (SCHEMAS) checks; callers
# read it by key, so it is returned as the plain JSON object it is.
def parse_run_file(path: Path, data: object, name: str | None = None) -> dict[str, Any]:
    """Check `data`, read from `path`, against the schema of file `name` (default: path's
    name); return it unchanged. Raises RunDirError naming the file, the field and the fix."""
    name = name or Path(path).name
    fix = FIXES.get(name, "re-create the run")
    expected = FORMAT_VERSIONS.get(name)
    if expected is not None and isinstance(data, dict) and "format_version" in data \
            and data["format_version"] != expected:
        raise RunDirError(f"{path}: format_version {json.dumps(data['format_version'])} is not "
                          f"the format this drip-tiny reads ({expected}); {fix}")
    try:
        SCHEMAS[name].model_validate(data)
    except ValidationError as exc:
        raise RunDirError(f"{path}: {_first_error(exc)}; {fix}") from None
    assert isinstance(data, dict)  # the schemas accept objects only
    return data


def read_run_file(path: Path, name: str | None = None) -> dict[str, Any]:
    """Read and check one of the run's JSON files (see SCHEMAS)."""
    path = Path(path)
    name = name or path.name
    fix = FIXES.get(name, "re-create the run")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RunDirError(f"{path} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path} cannot be read ({exc}); {fix}") from None
    try:
        data = json.loads(text, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path} is not valid JSON ({exc}); {fix}") from None
    non_finite = _non_finite_field(data)
    if non_finite:
        where, text = non_finite
        raise RunDirError(f"{path}: {_field_path(where)} is {text}, not a finite number; {fix}")
    return parse_run_file(path, data, name)
