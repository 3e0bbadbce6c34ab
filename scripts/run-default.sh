#!/usr/bin/env bash
# The main job on the embedded default, end to end: set up, then train the digits model
# (scikit-learn's bundled 8x8 digits), quantize it to int8 and check it with the TFLM
# interpreter, fit the DRIP thresholds on the validation split (int8 Grad-CAM, DPW 25),
# simulate the keep/drop decisions over the production split, export the firmware for the
# emulated Cortex-M4F (QEMU mps2-an386), run it and stream the production split to it over
# its serial port, checking every answer against the Python reference; finally build the
# nRF52840 DK image and print its memory report.
# Writes runs/digits/ (with production.json and device.json), build/mps2-an386/ and
# build/nrf52840/. Extra arguments go to `drip-tiny train`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
venv="${DRIP_TINY_VENV:-$root/.venv}"
cd "$root"
"$venv/bin/drip-tiny" train --dataset digits --out runs/digits --force "$@"
"$venv/bin/drip-tiny" fit runs/digits --dpw 25
"$venv/bin/drip-tiny" simulate runs/digits --split production --json runs/digits/production.json
"$venv/bin/drip-tiny" export runs/digits --board mps2-an386 --out build/mps2-an386 --force
"$venv/bin/drip-tiny" hil runs/digits --board mps2-an386 --image build/mps2-an386 \
    --split production --json runs/digits/device.json
"$venv/bin/drip-tiny" export runs/digits --board nrf52840 --out build/nrf52840 --force
