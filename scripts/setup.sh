#!/usr/bin/env bash
# Set up drip-tiny on a Debian machine: Debian packages, a virtual environment in .venv,
# and the package with its test extras. Idempotent: a second run only checks.
# Usage: scripts/setup.sh        (sourced by run-default.sh and test.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DRIP_TINY_VENV:-$root/.venv}"

missing_debian_packages() {
    local pkg
    while read -r pkg; do
        [[ -z "$pkg" || "$pkg" == \#* ]] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done < "$root/scripts/debian-packages.txt"
}

if command -v dpkg-query >/dev/null; then
    missing="$(missing_debian_packages | tr '\n' ' ')"
    if [[ -n "${missing// /}" ]]; then
        if [[ "$(id -u)" == 0 ]]; then
            echo "setup: installing Debian packages: $missing" >&2
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
        else
            echo "setup: missing Debian packages: $missing" >&2
            echo "setup: run: sudo apt-get install --no-install-recommends $missing" >&2
        fi
    fi
fi

# TensorFlow 2.21 + tfmot 0.8.1 + tflite-micro install together on Python 3.11.
python=""
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
    fi
done
if [[ -z "$python" ]]; then
    echo "setup: drip-tiny needs Python 3.11 (TensorFlow 2.21 with tfmot 0.8.1); install python3.11" >&2
    exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup: creating $venv" >&2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
fi
# A regular (not editable) install, as users get it; the tests import the checkout itself.
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$root[test]"
echo "setup: drip-tiny installed in $venv" >&2
