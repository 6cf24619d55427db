#!/usr/bin/env bash
# Deploys both workspaces (us-east-1, then eu-west-1) into the local AWS emulator and shows
# the outputs. No AWS account needed. Stop the emulator with `.venv/bin/deployer sandbox stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"
deployer sandbox start
deployer apply --auto-approve
deployer output
