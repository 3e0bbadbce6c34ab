"""Change the DRIP thresholds a running device uses, without reflashing: a run's
(SET_THRESHOLDS) or the image's compiled-in ones (RESET_THRESHOLDS), confirmed with
IDENTIFY (docs/hil.md, `drip-tiny send-thresholds`).

Thresholds are fitted on one model's DRIP scores, so they go only to a device that runs
that model (the model hash IDENTIFY reports) and computes the same DRIPS variant; for
any other device nothing is sent. The record and its hash are the export's
(codegen.drips_kernel.thresholds_record / thresholds_hash), so a device that took them
reports the hash `hil` expects for the run. The firmware writes them to its settings
pages (docs/storage-format.md section 9): a power cut during the write leaves the old
thresholds or the new ones, never a mix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from drip_tiny.drip.thresholds import Thresholds
from drip_tiny.errors import ConfigError, DeviceError, LinkError, RunDirError
from drip_tiny.link import protocol as p
from drip_tiny.link.client import Device
from drip_tiny.run import directory as rundir

THRESHOLDS_FILE = rundir.THRESHOLDS


@dataclass(frozen=True)
class RunThresholds:
    """A run's thresholds as the device receives them."""
    run: Path
    model_hash: int  # DRIP_MODEL_HASH: the first 4 bytes of the .tflite's sha256
    thresholds: Thresholds
    record: bytes  # SET_THRESHOLDS' per-class record
    hash: int  # DRIP_THRESHOLDS_HASH: the record's CRC-32


@dataclass(frozen=True)
class ThresholdsChange:
    board: str
    model_hash: int
    before: int  # the thresholds hash IDENTIFY reported first
    after: int  # the one it reports now
    run_hash: int  # the run's thresholds hash
    sent: bool  # False: the device used the run's thresholds already; nothing was written
    reset: bool  # RESET_THRESHOLDS: the image's compiled-in thresholds


def load_run_thresholds(run: Path) -> RunThresholds:
    """The run's thresholds, checked before any port is opened: fitted for this run's
    model, on the int8 path the device scores with."""
    from drip_tiny.drip.kernel_codegen import thresholds_hash, thresholds_record

    run = rundir.check_run(run)
    thresholds = Thresholds.load(run / THRESHOLDS_FILE)  # validated (run_files.py)
    digest = hashlib.sha256((run / rundir.MODEL_TFLITE).read_bytes()).digest()
    if thresholds.model_sha256 and thresholds.model_sha256 != digest.hex():
        raise RunDirError(f"{run / THRESHOLDS_FILE} was fitted for another model than "
                          f"{run / rundir.MODEL_TFLITE}; re-run `drip-tiny fit {run}`")
    if thresholds.path != "int8":
        raise RunDirError(f"{run / THRESHOLDS_FILE} was fitted on the float path, but the "
                          "device scores with int8 Grad-CAM; re-run `drip-tiny fit "
                          f"{run}` (int8 is the default)")
    return RunThresholds(run=run, model_hash=int.from_bytes(digest[:4], "big"),
                         thresholds=thresholds, record=thresholds_record(thresholds),
                         hash=thresholds_hash(thresholds))


def check_device_takes(ident: p.Identity, run: RunThresholds) -> None:
    """Refuse a device whose model or DRIPS variant is not the run's."""
    if ident.model_hash != run.model_hash:
        raise ConfigError(
            f"model hash mismatch: the device runs model {ident.model_hash:08x}, {run.run} "
            f"is model {run.model_hash:08x}. Thresholds fitted for another model are never "
            f"sent; export this run and flash it instead (`drip-tiny export {run.run} "
            f"--board {ident.board}`, then `drip-tiny flash`). Nothing was sent")
    classes = len(run.thresholds.classes)
    if ident.num_classes != classes:  # the same model has the same classes; a guard
        raise ConfigError(f"the device's model has {ident.num_classes} classes, "
                          f"{run.run}'s thresholds {classes}; re-run `drip-tiny fit "
                          f"{run.run}`. Nothing was sent")
    if ident.variant != run.thresholds.variant:
        raise ConfigError(
            f"the device computes {ident.variant} DRIPS, {run.run}'s thresholds were fitted "
            f"for {run.thresholds.variant}: re-run `drip-tiny fit {run.run} --variant "
            f"{ident.variant}`, or export and flash this run. Nothing was sent")


def send_run_thresholds(device: Device, run: RunThresholds) -> ThresholdsChange:
    """IDENTIFY, refuse another model, SET_THRESHOLDS (unless the device uses the run's
    already), then IDENTIFY again and check it reports the run's hash."""
    ident = device.identify()
    check_device_takes(ident, run)
    before = ident.thresholds_hash
    if before == run.hash:
        return ThresholdsChange(ident.board, ident.model_hash, before, before, run.hash,
                                sent=False, reset=False)
    try:
        device.set_thresholds_record(run.record, len(run.thresholds.classes))
    except DeviceError:
        raise  # the device refused them: its message says why
    except LinkError as e:
        raise LinkError(_interrupted("SET_THRESHOLDS", e, before, run.hash)) from e
    after = _identify_after(device, "SET_THRESHOLDS", ident)
    if after.thresholds_hash != run.hash:
        raise LinkError(f"the device acknowledged SET_THRESHOLDS but reports thresholds "
                        f"{after.thresholds_hash:08x}, not this run's {run.hash:08x}; "
                        "check its firmware's settings pages (docs/storage-format.md)")
    return ThresholdsChange(ident.board, ident.model_hash, before, after.thresholds_hash,
                            run.hash, sent=True, reset=False)


def reset_thresholds(device: Device, run: RunThresholds) -> ThresholdsChange:
    """IDENTIFY, refuse another model, RESET_THRESHOLDS, IDENTIFY again."""
    ident = device.identify()
    check_device_takes(ident, run)
    try:
        device.reset_thresholds()
    except DeviceError:
        raise
    except LinkError as e:
        raise LinkError(_interrupted("RESET_THRESHOLDS", e, ident.thresholds_hash, None)) from e
    after = _identify_after(device, "RESET_THRESHOLDS", ident)
    return ThresholdsChange(ident.board, ident.model_hash, ident.thresholds_hash,
                            after.thresholds_hash, run.hash, sent=True, reset=True)


def _identify_after(device: Device, command: str, before: p.Identity) -> p.Identity:
    try:
        after = device.identify()
    except LinkError as e:
        raise LinkError(f"the device acknowledged {command} (so the change is stored) but "
                        f"did not answer IDENTIFY afterwards: {e}") from e
    if after.model_hash != before.model_hash:
        raise LinkError(f"after {command} the port answers for model {after.model_hash:08x}, "
                        f"not {before.model_hash:08x}: was the board swapped?")
    return after


def _interrupted(command: str, error: LinkError, before: int, new: int | None) -> str:
    new_text = f"this run's ({new:08x})" if new is not None else "its compiled-in ones"
    return (f"{command} was not acknowledged: {error}. If it reset or lost power during "
            f"the write, the device has either its old thresholds ({before:08x}) or "
            f"{new_text}, never a mix: run the command again once it answers")
