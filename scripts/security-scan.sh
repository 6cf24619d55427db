#!/usr/bin/env bash
# Security scan of the Terraform deliverable: exports spec.yaml with `deployer export-hcl` (no
# AWS needed) and runs checkov on it. Passes only with zero failed checks, except those that
# security/checkov-skips.yaml lists, each with its reason (scripts/checkov_gate.py judges).
#
# checkov has its own venv, ./.venv-checkov, pinned exactly: its dependency tree would fight the
# project's pinned boto3/moto in ./.venv. Created on first use (about 20 s), reused after.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
CHECKOV_VENV=.venv-checkov
SKIPS=security/checkov-skips.yaml

if [ ! -x .venv/bin/deployer ]; then
  scripts/setup-venv.sh
fi
# pip, less the warnings about package index locations configured on this machine but absent.
pip_install() {
  "$CHECKOV_VENV/bin/python" -m pip install --quiet "$@" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null || true)" != "$CHECKOV_VERSION" ]; then
  python3 -m venv --clear "$CHECKOV_VENV"
  pip_install --upgrade pip
  pip_install "checkov==$CHECKOV_VERSION"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/deployer --spec spec.yaml export-hcl --out "$work/terraform"
# checkov exits 1 on any failed check; the gate decides, against the skip file. No network:
# --skip-download keeps checkov from fetching guidelines from its vendor's platform.
"$CHECKOV_VENV/bin/checkov" --directory "$work/terraform" --framework terraform \
  --skip-download --output json >"$work/report.json" || true
"$CHECKOV_VENV/bin/python" scripts/checkov_gate.py "$SKIPS" "$work/report.json"
