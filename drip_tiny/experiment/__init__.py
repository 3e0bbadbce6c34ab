"""The paper's experimental protocol: `drip-tiny experiment` (docs/experiment.md)."""

from .config import RETRAIN_MODES, ExperimentConfig
from .runner import load_runs, run_experiment
from .selection import RULES, select

__all__ = ["ExperimentConfig", "RETRAIN_MODES", "RULES", "load_runs", "run_experiment", "select"]
