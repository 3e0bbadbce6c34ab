"""`drip-tiny pull`: read every sample a device kept back into an .npz."""

from __future__ import annotations

import argparse
from pathlib import Path

from drip_tiny.commands.device_argument import add_device_arguments, connected_device

NAME = "pull"
HELP = "read the samples a device kept (its store) back into an .npz"
DESCRIPTION = (
    "Read every stored sample back from a device (STORE_LIST, then STORE_READ) into OUT.npz "
    "with x (int8, shaped like the model input), predicted, drips, id and the device's input "
    "quantization. `drip-tiny train ... --extra OUT.npz` trains with them. See docs/hil.md.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_arguments(parser, board_help="; only the host board keeps its store "
                                            "between runs")
    parser.add_argument("--out", type=Path, required=True, metavar="KEPT.npz")


def run(args: argparse.Namespace) -> int:
    from drip_tiny.datasets.kept_samples import save_kept
    from drip_tiny.errors import ConfigError
    from drip_tiny.hil.pull import read_store
    from drip_tiny.run.directory import replace_files

    out = args.out.absolute()
    if out.suffix != ".npz":
        raise ConfigError(f"--out {args.out}: give a file name ending in .npz")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write {args.out}: the folder {out.parent} does not exist")
    with connected_device(args) as link:
        kept = read_store(link.device)
        ident = link.device.identity
        assert ident is not None  # read_store identified the device first
    replace_files({out: lambda p: save_kept(p, kept)})
    n = len(kept["x"])
    counts = ", ".join(f"{c}: {int((kept['predicted'] == c).sum())}"
                       for c in range(ident.num_classes))
    print(f"{ident.board}: {n} stored samples (predicted class {counts}) -> {args.out}")
    return 0
