"""Bytes on a wire: the serial protocol (protocol.py, docs/protocol.md), a device client
over pyserial or TCP (client.py), and CLASSIFY pipelining with its window and resends
(classify_window.py).

Knows nothing of runs, models or the DRIP method. Never imports TensorFlow.
"""

from drip_tiny.link.client import Device, check_identity, open_port
from drip_tiny.link.protocol import (
    Classification,
    Command,
    Identity,
    Statistics,
    Status,
    StoreResult,
)

__all__ = ["Classification", "Command", "Device", "Identity", "Statistics", "Status",
           "StoreResult", "check_identity", "open_port"]
