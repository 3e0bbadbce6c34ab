"""drip-tiny: keep or drop streaming samples on a microcontroller with Grad-CAM DRIP scores.

The library raises `DripTinyError` subclasses (see `drip_tiny.errors`); only the command line
(`drip_tiny.cli`) prints and exits.
"""

__version__ = "0.1.0"
