"""What `drip-tiny experiment` runs: one frozen config, saved with the results so a resumed
experiment can check it continues the same one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drip_tiny.datasets import LoadOptions
from drip_tiny.drip.thresholds import GROUP_BY, PATHS, check_dpw
from drip_tiny.drip.variants import DEFAULT_VARIANT, check_variant
from drip_tiny.errors import ConfigError
from drip_tiny.experiment.selection import RULES, check_rules

RETRAIN_MODES = ("scratch", "finetune")
DEFAULT_RETRAIN = "scratch"  # the paper trains DRIP, all-data and random models alike


@dataclass(frozen=True)
class ExperimentConfig:
    dataset: str = "digits"
    data_dir: str | None = None
    load_options: LoadOptions = field(default_factory=LoadOptions)
    runs: int = 20
    seed: int = 0  # run r uses seed + r for its split, initialisation and random choices
    dpw: float = 25.0
    variant: str = DEFAULT_VARIANT
    path: str = "int8"
    group_by: str = "predicted"
    retrain: str = DEFAULT_RETRAIN
    epochs: int | None = None  # None: the train command's default for the train split
    batch_size: int = 32
    learning_rate: float = 3e-3
    rules: tuple[str, ...] = RULES
    sweep_dpw: tuple[float, ...] = ()
    label_noise: tuple[float, ...] = ()  # percent of production labels flipped

    def validate(self) -> None:
        if self.runs < 1:
            raise ConfigError(f"--runs must be at least 1, got {self.runs}")
        check_dpw(self.dpw)
        for d in self.sweep_dpw:
            check_dpw(d)
        check_variant(self.variant)
        check_rules(list(self.rules))
        if self.path not in PATHS:
            raise ConfigError(f"--path must be one of {', '.join(PATHS)}")
        if self.group_by not in GROUP_BY:
            raise ConfigError(f"--group-by must be one of {', '.join(GROUP_BY)}")
        if self.retrain not in RETRAIN_MODES:
            raise ConfigError(f"--retrain must be one of {', '.join(RETRAIN_MODES)}")
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        for p in self.label_noise:
            if not 0 <= p <= 100:
                raise ConfigError(f"--label-noise levels are percentages in [0, 100], got {p:g}")

    # config.json: a JSON object, dict[str, Any] (its values of several types).
    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["load_options"] = self.load_options.to_json()
        for key in ("rules", "sweep_dpw", "label_noise"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentConfig:
        data = dict(data)
        data["load_options"] = LoadOptions.from_json(data.get("load_options") or {})
        for key in ("rules", "sweep_dpw", "label_noise"):
            data[key] = tuple(data.get(key) or ())
        return cls(**data)

    def resolved_data_dir(self) -> str | None:
        return str(Path(self.data_dir).resolve()) if self.data_dir else None
