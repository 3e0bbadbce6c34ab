#!/usr/bin/env bash
# The main job on the embedded default: set up, then train the digits model (scikit-learn's
# bundled 8x8 digits), quantize it to int8 and check it with the TFLM interpreter, fit the
# DRIP thresholds on the validation split (int8 Grad-CAM, DPW 25) and simulate the keep/drop
# decisions over the production split. Writes runs/digits/ (with production.json).
# Extra arguments go to `drip-tiny train`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
venv="${DRIP_TINY_VENV:-$root/.venv}"
cd "$root"
"$venv/bin/drip-tiny" train --dataset digits --out runs/digits --force "$@"
"$venv/bin/drip-tiny" fit runs/digits --dpw 25
"$venv/bin/drip-tiny" simulate runs/digits --split production --json runs/digits/production.json
