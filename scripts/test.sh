#!/usr/bin/env bash
# Runs lint, type checks and the whole test suite (unit tests against moto in-process, then
# end-to-end runs of the CLI against moto's server on a free loopback port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
.venv/bin/ruff check .
.venv/bin/mypy deployer resources export
.venv/bin/python -m pytest "$@"
