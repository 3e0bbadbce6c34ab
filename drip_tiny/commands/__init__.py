"""One module per `drip-tiny` subcommand."""

from drip_tiny.commands import (
    emulate_cmd,
    experiment_cmd,
    export_cmd,
    fit_cmd,
    flash_cmd,
    hil_cmd,
    pull_cmd,
    send_thresholds_cmd,
    simulate_cmd,
    train_cmd,
)

SUBCOMMANDS = (train_cmd, fit_cmd, simulate_cmd, experiment_cmd, export_cmd, flash_cmd,
               emulate_cmd, hil_cmd, send_thresholds_cmd, pull_cmd)
