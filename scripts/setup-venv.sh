#!/usr/bin/env bash
# Creates ./.venv (once) and installs the deployer into it, with its test tools (`dev`) and the
# local emulator's moto (`sandbox`: what `deployer sandbox start` needs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,sandbox]'
