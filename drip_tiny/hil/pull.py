"""`drip-tiny pull`: read every kept sample back from a device's store.

The file it writes, kept.npz, is defined in drip_tiny/datasets/kept_samples.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from drip_tiny.errors import LinkError

if TYPE_CHECKING:
    from drip_tiny.link.client import Device


# Any: arrays and numpy scalars by name, as np.savez takes them (kept.npz's fields)
def read_store(device: Device) -> dict[str, Any]:
    """Every stored sample (STORE_LIST, then STORE_READ each), in store order."""
    ident = device.identify()
    entries = device.store_list()
    x = np.zeros((len(entries), *ident.input_shape), dtype=np.int8)
    for row, entry in enumerate(entries):
        sample = device.store_read(entry.index)
        if len(sample.data) != ident.input_bytes:
            raise LinkError(f"stored sample {entry.index} has {len(sample.data)} bytes; the "
                            f"device's model takes {ident.input_bytes}")
        if (sample.id, sample.predicted) != (entry.id, entry.predicted):
            raise LinkError(f"stored sample {entry.index} changed while it was read "
                            "(another host writing to the device?)")
        x[row] = np.frombuffer(sample.data, dtype=np.int8).reshape(ident.input_shape)
    return {"x": x,
            "predicted": np.array([e.predicted for e in entries], dtype=np.int64),
            "drips": np.array([e.drips for e in entries], dtype=np.float32),
            "id": np.array([e.id for e in entries], dtype=np.int64),
            "index": np.array([e.index for e in entries], dtype=np.int64),
            "input_scale": np.float32(ident.input_scale),
            "input_zero_point": np.int32(ident.input_zero_point),
            "model_hash": np.uint32(ident.model_hash)}
