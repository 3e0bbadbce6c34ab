"""One module per `drip-tiny` subcommand."""

from . import train_cmd

SUBCOMMANDS = (train_cmd,)
