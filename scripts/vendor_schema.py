#!/usr/bin/env python3
"""Vendor the subset of the Terraform AWS provider schema that deployer needs.

Reads the full schema (the output of ``terraform providers schema -json`` for
hashicorp/aws, gzipped, documentation texts already stripped) and writes
``deployer/data/aws_schema.json.gz`` with only the resource types and data
sources whose names start with one of :data:`KEEP_PREFIXES`.

The output is deterministic: JSON with sorted keys and compact separators,
gzipped with ``mtime=0`` and no file name in the header, so rerunning the script
on the same input gives a byte-identical file.

Usage::

    python scripts/vendor_schema.py [SOURCE] [--output PATH]

SOURCE defaults to ``../shared/data/aws-provider-schema-6.47.0.json.gz``
relative to the repository root (the parent of this script's directory).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

#: Name prefixes of the resource types and data sources to keep. Matching is a
#: plain ``str.startswith``, so a prefix without a trailing underscore also
#: keeps its longer relatives: ``aws_vpc`` keeps ``aws_vpc_endpoint`` and the
#: ``aws_vpclattice_*`` types, ``aws_route`` keeps ``aws_route_table`` and the
#: ``aws_route53*`` types, ``aws_subnet`` keeps the ``aws_subnets`` data source,
#: ``aws_s3_bucket`` keeps all ``aws_s3_bucket_*`` resources.
KEEP_PREFIXES: tuple[str, ...] = (
    "aws_kms_",
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_eip",
    "aws_nat_gateway",
    "aws_route",
    "aws_default_",
    "aws_security_group",
    "aws_flow_log",
    "aws_cloudwatch_",
    "aws_iam_",
    "aws_s3_bucket",
    "aws_dynamodb_",
    "aws_db_",
    "aws_lambda_",
    "aws_api_gateway_",
    "aws_acm_",
    "aws_sns_",
    "aws_caller_identity",
    "aws_region",
    "aws_availability_zones",
    "aws_partition",
    "aws_secretsmanager_",
)

#: Top-level metadata keys copied unchanged into the vendored file.
KEEP_METADATA: tuple[str, ...] = ("format_version", "provider", "provider_version")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / ".." / "shared" / "data" / "aws-provider-schema-6.47.0.json.gz"
DEFAULT_OUTPUT = REPO_ROOT / "deployer" / "data" / "aws_schema.json.gz"


def subset(full: dict[str, Any]) -> dict[str, Any]:
    """Return the vendored subset of a full provider schema document."""
    out: dict[str, Any] = {key: full[key] for key in KEEP_METADATA if key in full}
    for section in ("resource_schemas", "data_source_schemas"):
        out[section] = {
            name: schema
            for name, schema in full.get(section, {}).items()
            if name.startswith(KEEP_PREFIXES)
        }
    return out


def serialise(doc: dict[str, Any]) -> bytes:
    """Serialise deterministically: sorted compact JSON, gzip with mtime=0."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return gzip.compress(text.encode("ascii") + b"\n", compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE,
        help="full provider schema (.json.gz); default: %(default)s",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="vendored schema to write; default: %(default)s",
    )
    args = parser.parse_args(argv)

    source: Path = args.source
    if not source.is_file():
        print(f"error: schema file not found: {source}", file=sys.stderr)
        return 1
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        full = json.load(fh)

    doc = subset(full)
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    data = serialise(doc)
    output.write_bytes(data)

    print(
        f"provider {doc.get('provider_version', '?')}: kept "
        f"{len(doc['resource_schemas'])} resource types and "
        f"{len(doc['data_source_schemas'])} data sources "
        f"-> {output} ({len(data)} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
