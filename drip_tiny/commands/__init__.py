"""One module per `drip-tiny` subcommand."""

from . import experiment_cmd, fit_cmd, simulate_cmd, train_cmd

SUBCOMMANDS = (train_cmd, fit_cmd, simulate_cmd, experiment_cmd)
