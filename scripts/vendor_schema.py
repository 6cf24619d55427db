#!/usr/bin/env python3
"""Vendor the subset of the Terraform AWS provider schema that deployer needs.

Two provider majors are vendored, one file each (the export targets both):

- 6: reads the full schema (the output of ``terraform providers schema -json``
  for hashicorp/aws, gzipped, documentation texts already stripped) and writes
  ``deployer/data/aws_schema.json.gz``;
- 5: ``--provider-version 5`` asks the real Terraform for it: ``terraform init``
  from the provider's filesystem mirror (``--plugin-dir``, found on the machine
  if not given) then ``terraform providers schema -json``, documentation texts
  stripped, written to ``deployer/data/aws_schema_5.json.gz``.

Only what the driver registry names is kept (:func:`kept_names`): the resource
types, data sources and ephemeral resources the drivers implement, the data
source of every type the Terraform export looks up in the other workspace, and
:data:`EXTRA_DATA_SOURCES`. A new driver is vendored by rerunning the script.

The output is deterministic: JSON with sorted keys and compact separators,
gzipped with ``mtime=0`` and no file name in the header, so rerunning the script
on the same input gives a byte-identical file.

Usage::

    python scripts/vendor_schema.py [SOURCE] [--output PATH]
    python scripts/vendor_schema.py --provider-version 5 [--plugin-dir DIR] [--output PATH]

SOURCE defaults to ``../shared/data/aws-provider-schema-6.47.0.json.gz``
relative to the repository root (the parent of this script's directory).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Data sources no driver reads, kept all the same: argument-free facts of the
#: account and region that the schema validation is tested against
#: (tests/test_schema.py).
EXTRA_DATA_SOURCES: tuple[str, ...] = ("aws_availability_zones", "aws_partition", "aws_region")

#: Top-level metadata keys copied unchanged into the vendored file.
KEEP_METADATA: tuple[str, ...] = ("format_version", "provider", "provider_version")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / ".." / "shared" / "data" / "aws-provider-schema-6.47.0.json.gz"
DEFAULT_OUTPUT = REPO_ROOT / "deployer" / "data" / "aws_schema.json.gz"
OUTPUTS = {6: DEFAULT_OUTPUT, 5: REPO_ROOT / "deployer" / "data" / "aws_schema_5.json.gz"}
#: The provider 5 release the export's 5 target is checked against (the machines' mirror).
PROVIDER_5 = "5.100.0"
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
#: Where the machine image keeps its filesystem mirror of providers.
MIRROR_GUESSES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")
#: Documentation keys dropped from every schema node (they are most of the bytes).
DOC_KEYS = frozenset({"description", "description_kind"})


def kept_names() -> dict[str, frozenset[str]]:
    """The names to vendor, by section of the schema document, from the driver registry:
    every registered resource type, data source and ephemeral resource, and the data source
    of each type the export writes a look-up for (`lookup_by`)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from deployer.resource import (
        registered_data_sources,
        registered_ephemerals,
        registered_resources,
    )

    resources = registered_resources()
    lookups = {tf_type for tf_type, driver in resources.items() if driver.lookup_by}
    return {
        "resource_schemas": frozenset(resources),
        "data_source_schemas": frozenset(
            {*registered_data_sources(), *lookups, *EXTRA_DATA_SOURCES}
        ),
        "ephemeral_resource_schemas": frozenset(registered_ephemerals()),
    }


def subset(full: dict[str, Any], keep: dict[str, frozenset[str]]) -> dict[str, Any]:
    """Return the vendored subset of a full provider schema document: the names in `keep`."""
    out: dict[str, Any] = {key: full[key] for key in KEEP_METADATA if key in full}
    for section, names in keep.items():
        out[section] = {
            name: schema for name, schema in full.get(section, {}).items() if name in names
        }
    return out


#: Maps whose keys are names (an attribute may well be called `description`), not schema keys.
NAME_MAPS = frozenset(
    {
        "attributes",
        "block_types",
        "resource_schemas",
        "data_source_schemas",
        "ephemeral_resource_schemas",
    }
)


def strip_docs(value: Any, names: bool = False) -> Any:
    """The schema without its documentation texts; `names`: `value` maps names to nodes."""
    if isinstance(value, dict):
        return {
            k: strip_docs(v, names=not names and k in NAME_MAPS)
            for k, v in value.items()
            if names or k not in DOC_KEYS
        }
    if isinstance(value, list):
        return [strip_docs(v) for v in value]
    return value


def find_mirror() -> Path | None:
    """A filesystem mirror holding the provider 5 release (its `registry.terraform.io` parent)."""
    for root in MIRROR_GUESSES:
        if (root / PROVIDER_ADDRESS / PROVIDER_5).is_dir():
            return root
    return None


def schema_from_terraform(plugin_dir: Path, version: str = PROVIDER_5) -> dict[str, Any]:
    """`terraform providers schema -json` for hashicorp/aws `version`, installed offline from
    `plugin_dir`, in the layout of the vendored 6 schema (`provider_version` at the top)."""
    with tempfile.TemporaryDirectory() as work:
        Path(work, "main.tf").write_text(
            "terraform {\n  required_providers {\n    aws = {\n"
            f'      source  = "hashicorp/aws"\n      version = "{version}"\n'
            "    }\n  }\n}\n"
        )

        def run(*args: str) -> str:
            done = subprocess.run(
                ["terraform", *args], cwd=work, check=True, capture_output=True, text=True
            )
            return done.stdout

        run("init", "-input=false", "-no-color", f"-plugin-dir={plugin_dir}")
        answer = run("providers", "schema", "-json")
    full = json.loads(answer)
    provider = full["provider_schemas"][PROVIDER_ADDRESS]
    doc: dict[str, Any] = {
        "format_version": full.get("format_version"),
        "provider": PROVIDER_ADDRESS,
        "provider_version": version,
        **{k: v for k, v in provider.items() if k.endswith("_schemas")},
    }
    return strip_docs(doc)


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
        help="full provider 6 schema (.json.gz); default: %(default)s",
    )
    parser.add_argument(
        "--provider-version",
        type=int,
        choices=sorted(OUTPUTS),
        default=6,
        help="6: from SOURCE; 5: from the real Terraform and the provider mirror",
    )
    parser.add_argument(
        "--plugin-dir",
        type=Path,
        help=f"filesystem mirror holding {PROVIDER_ADDRESS} {PROVIDER_5} (default: found)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="vendored schema to write; default: the major's file in deployer/data",
    )
    args = parser.parse_args(argv)

    if args.provider_version == 5:
        plugin_dir = args.plugin_dir or find_mirror()
        if plugin_dir is None:
            print(
                f"error: no filesystem mirror with {PROVIDER_ADDRESS} {PROVIDER_5} found "
                f"(looked in {', '.join(map(str, MIRROR_GUESSES))}); pass --plugin-dir",
                file=sys.stderr,
            )
            return 1
        try:
            full = schema_from_terraform(plugin_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            print(f"error: terraform could not give the schema: {detail}", file=sys.stderr)
            return 1
    else:
        source: Path = args.source
        if not source.is_file():
            print(f"error: schema file not found: {source}", file=sys.stderr)
            return 1
        with gzip.open(source, "rt", encoding="utf-8") as fh:
            full = json.load(fh)

    keep = kept_names()
    doc = subset(full, keep)
    absent = sorted(name for section, names in keep.items() for name in names - set(doc[section]))
    if absent:
        # The export writes these without a schema (provider 6.47's file has no ephemeral
        # resources); a resource type or data source missing would be a misspelt driver.
        print(f"note: not in provider {doc.get('provider_version', '?')}: {', '.join(absent)}")
    output: Path = args.output or OUTPUTS[args.provider_version]
    output.parent.mkdir(parents=True, exist_ok=True)
    data = serialise(doc)
    output.write_bytes(data)

    print(
        f"provider {doc.get('provider_version', '?')}: kept "
        f"{len(doc['resource_schemas'])} resource types and "
        f"{len(doc['data_source_schemas'])} data sources, "
        f"{len(doc['ephemeral_resource_schemas'])} ephemeral resources "
        f"-> {output} ({len(data)} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
