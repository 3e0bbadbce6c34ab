#!/usr/bin/env bash
# Set up, then run the whole test suite. Extra arguments go to pytest
# (for example: scripts/test.sh -m "not slow").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
venv="${DRIP_TINY_VENV:-$root/.venv}"
cd "$root"
exec "$venv/bin/python" -m pytest "$@"
