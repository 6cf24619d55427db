#!/usr/bin/env bash
# Runs lint, type checks, the security scan of the exported Terraform (scripts/security-scan.sh)
# and the whole test suite (unit tests against moto in-process, then
# end-to-end runs of the CLI against moto's server on a free loopback port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
.venv/bin/ruff check .
.venv/bin/mypy deployer resources export benchmarks scripts emulator stack
scripts/security-scan.sh  # checkov on the exported Terraform (own venv; ~45 s cold, ~10 s warm)
# One worker per CPU, each test file whole on one worker (module fixtures are set up once).
.venv/bin/python -m pytest -n auto --dist loadfile "$@"
