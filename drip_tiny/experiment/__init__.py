"""The paper's experimental protocol: `drip-tiny experiment` (docs/experiment.md)."""

from drip_tiny.experiment.config import RETRAIN_MODES, ExperimentConfig
from drip_tiny.experiment.runner import load_runs, run_experiment
from drip_tiny.experiment.selection import RULES, select

__all__ = ["RETRAIN_MODES", "RULES", "ExperimentConfig", "load_runs", "run_experiment", "select"]
