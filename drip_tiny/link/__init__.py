"""The host side of the serial link: the protocol (docs/protocol.md), a device client over
pyserial, and the emulated boards (QEMU, the host build) started as processes.

Never imports TensorFlow.
"""

from drip_tiny.link.client import Device, check_identity, open_port
from drip_tiny.link.protocol import Classification, Command, Identity, Statistics, Status, StoreResult

__all__ = ["Classification", "Command", "Device", "Identity", "Statistics", "Status",
           "StoreResult", "check_identity", "open_port"]
