#!/usr/bin/env bash
# Security scan of the Terraform deliverable: exports spec.yaml with `deployer export-hcl` (no
# AWS needed) and runs checkov on the folder exactly as a user would, with no skip list of ours.
# Passes only with zero failed checks: each accepted finding of export/data/checkov-skips.yaml
# travels in the HCL as a `# checkov:skip=ID:summary` comment in the block it concerns.
# scripts/checkov_gate.py also fails the scan when an entry of that file is not reported skipped
# for each of its resources, when a check it skips passes anyway (checkov run once more on a copy
# without the comments), when checkov could not parse a file, or when it scanned nothing.
# Scans the default export and, when `export-hcl` offers --provider-version, the AWS provider 5
# one too.
#
# checkov has its own venv, ./.venv-checkov, pinned exactly: its dependency tree would fight the
# project's pinned boto3/moto in ./.venv. Created on first use (about 20 s), reused after.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
CHECKOV_VENV=.venv-checkov
SKIPS=export/data/checkov-skips.yaml

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
# checkov on a folder, as its user runs it (every framework; it exits 1 on any failed check: the
# gate decides). No network: --skip-download keeps checkov from fetching guidelines from its
# vendor's platform.
checkov_json() {
  "$CHECKOV_VENV/bin/checkov" --directory "$1" --skip-download --output json >"$2" || true
}
scan() {  # scan NAME [export-hcl options...]
  local dir="$work/$1"
  shift
  mkdir -p "$dir"
  # (Called in `||`, where `set -e` does not apply: each step says when to give up.)
  .venv/bin/deployer --spec spec.yaml export-hcl --out "$dir/terraform" "$@" || return 1
  checkov_json "$dir/terraform" "$dir/report.json"
  # The same folder without the skip comments: shows which skipped checks really fail.
  cp -r "$dir/terraform" "$dir/unskipped" || return 1
  sed -i -E '/^[[:space:]]*#[[:space:]]*checkov:skip=/d' "$dir/unskipped"/*.tf || return 1
  checkov_json "$dir/unskipped" "$dir/unskipped.json"
  "$CHECKOV_VENV/bin/python" scripts/checkov_gate.py "$SKIPS" "$dir/report.json" \
    "$dir/unskipped.json"
}

status=0
echo "export-hcl (default provider version):"
scan default || status=1
options=$(.venv/bin/deployer export-hcl --help)
if grep -q -- "--provider-version" <<<"$options"; then
  echo "export-hcl --provider-version 5:"
  scan provider-5 --provider-version 5 || status=1
fi
exit "$status"
