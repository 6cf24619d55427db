"""Offline checks against the vendored Terraform AWS provider schema.

Two provider majors are vendored, one file each: 6 (the default, 6.47, in
``deployer/data/aws_schema.json.gz``) and 5 (5.100, in
``deployer/data/aws_schema_5.json.gz``), both regenerated with
``scripts/vendor_schema.py``. Each is a subset of ``terraform providers schema
-json`` for hashicorp/aws, so every schema ``block`` has ``attributes`` (each
with ``required`` / ``optional`` / ``computed`` / ``type``) and ``block_types``
(each with ``nesting_mode``, ``min_items``, ``max_items`` and a nested
``block``).

In deployer's model a resource's arguments are a dict: plain attributes map to
plain values (maps such as ``tags`` are plain dicts, and opaque reference
objects are fine), nested blocks map to a list of dicts, one dict per block,
whatever the block's nesting mode (``single`` blocks such as ``timeouts`` too).
"""

from __future__ import annotations

import copy
import difflib
import functools
import gzip
import json
from pathlib import Path
from typing import Any

__all__ = [
    "block_schema",
    "has_type",
    "is_block",
    "provider_version",
    "resource_schema",
    "validate_attributes",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_PATH = DATA_DIR / "aws_schema.json.gz"
# Provider major version → its vendored schema.
SCHEMA_PATHS = {6: SCHEMA_PATH, 5: DATA_DIR / "aws_schema_5.json.gz"}
DEFAULT_VERSION = 6

# Nesting modes that allow at most one block even without a max_items.
_SINGLE_MODES = frozenset({"single", "group"})


@functools.cache
def _load(version: int = DEFAULT_VERSION) -> dict[str, Any]:
    """Read and parse the vendored schema of a provider major (once per process)."""
    try:
        path = SCHEMA_PATHS[version]
    except KeyError:
        raise KeyError(
            f"no vendored schema for AWS provider {version} (known: {sorted(SCHEMA_PATHS)})"
        ) from None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def _kind(data: bool, ephemeral: bool = False) -> str:
    return "ephemeral resource" if ephemeral else "data source" if data else "resource type"


def _section(data: bool, ephemeral: bool) -> str:
    if ephemeral:
        return "ephemeral_resource_schemas"
    return "data_source_schemas" if data else "resource_schemas"


def has_type(
    tf_type: str, data: bool = False, ephemeral: bool = False, version: int = DEFAULT_VERSION
) -> bool:
    """Whether the provider version knows the type."""
    return tf_type in _load(version).get(_section(data, ephemeral), {})


def _raw_schema(
    tf_type: str, data: bool, ephemeral: bool = False, version: int = DEFAULT_VERSION
) -> dict[str, Any]:
    """Return the cached (shared, not to be mutated) schema of a type."""
    section = _load(version).get(_section(data, ephemeral), {})
    try:
        schema: dict[str, Any] = section[tf_type]
    except KeyError:
        hint = difflib.get_close_matches(tf_type, section, n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise KeyError(
            f"unknown {_kind(data, ephemeral)} {tf_type!r} (not in the vendored AWS provider "
            f"{provider_version(version)} schema; see scripts/vendor_schema.py){extra}"
        ) from None
    return schema


def _raw_block(
    tf_type: str,
    path: tuple[str, ...],
    data: bool,
    ephemeral: bool = False,
    version: int = DEFAULT_VERSION,
) -> dict[str, Any]:
    block: dict[str, Any] = _raw_schema(tf_type, data, ephemeral, version)["block"]
    for depth, name in enumerate(path):
        block_types = block.get("block_types", {})
        if name not in block_types:
            where = ".".join(path[:depth]) or "top level"
            what = "an attribute, not a block" if name in block.get("attributes", {}) else "unknown"
            raise KeyError(f"{_kind(data)} {tf_type!r}: {name!r} at {where} is {what}")
        block = block_types[name]["block"]
    return block


def provider_version(version: int = DEFAULT_VERSION) -> str:
    """Version of the AWS provider the vendored schema of a major was taken from."""
    return str(_load(version).get("provider_version", "unknown"))


def resource_schema(tf_type: str, data: bool = False) -> dict[str, Any]:
    """Return the schema (``{"block": ..., "version": ...}``) of a resource type.

    With ``data=True`` look the name up among data sources instead. Returns a
    copy; raises ``KeyError`` with a readable message for unknown types.
    """
    return copy.deepcopy(_raw_schema(tf_type, data))


def block_schema(
    tf_type: str,
    path: tuple[str, ...] = (),
    data: bool = False,
    ephemeral: bool = False,
    version: int = DEFAULT_VERSION,
) -> dict[str, Any]:
    """Return the schema ``block`` at a nested block path (``()`` = top level).

    ``path`` lists block names only, without indexes, e.g.
    ``("rule", "apply_server_side_encryption_by_default")``. The result has
    ``attributes`` and/or ``block_types`` keys (either may be absent). Returns a
    copy; raises ``KeyError`` if the type is unknown or a path element is not a
    nested block.
    """
    return copy.deepcopy(_raw_block(tf_type, tuple(path), data, ephemeral, version))


def is_block(tf_type: str, name: str, data: bool = False) -> bool:
    """Whether top-level ``name`` of ``tf_type`` is a nested block (not an attribute)."""
    return name in _raw_schema(tf_type, data)["block"].get("block_types", {})


def validate_attributes(
    tf_type: str,
    attributes: dict[str, Any],
    data: bool = False,
    ephemeral: bool = False,
    version: int = DEFAULT_VERSION,
) -> list[str]:
    """Check a resource's (or data source's) arguments against the schema.

    Returns human-readable problems, each starting with the path of the
    offending name (e.g. ``versioning_configuration[0].status``); an empty list
    means the arguments are valid. Reported: unknown attribute or block names at
    any depth, missing required attributes (in nested blocks only when the
    block is present), computed-only attributes that are set, blocks that are
    not a list of dicts, and block counts outside ``min_items`` / ``max_items``
    (``single`` blocks allow at most one). ``None`` values count as absent;
    attribute values are not inspected. Raises ``KeyError`` for unknown types.
    """
    block = _raw_schema(tf_type, data, ephemeral, version)["block"]
    problems: list[str] = []
    _check_block(block, attributes, "", problems)
    return problems


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_block(
    block: dict[str, Any], values: dict[str, Any], prefix: str, problems: list[str]
) -> None:
    attrs: dict[str, Any] = block.get("attributes", {})
    block_types: dict[str, Any] = block.get("block_types", {})

    for name, value in values.items():
        if value is None:
            continue
        path = _join(prefix, str(name))
        if name in attrs:
            spec = attrs[name]
            if spec.get("computed") and not spec.get("optional") and not spec.get("required"):
                problems.append(f"{path}: attribute is computed-only and cannot be set")
            elif spec.get("deprecated"):
                problems.append(f"{path}: attribute is deprecated in this provider version")
        elif name in block_types:
            if block_types[name]["block"].get("deprecated"):
                problems.append(f"{path}: block is deprecated in this provider version")
            _check_nested(block_types[name], value, path, problems)
        else:
            known = [*attrs, *block_types]
            hint = difflib.get_close_matches(str(name), known, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(f"{path}: unknown attribute or block{extra}")

    for name, spec in attrs.items():
        if spec.get("required") and values.get(name) is None:
            problems.append(f"{_join(prefix, name)}: required attribute is missing")

    for name, spec in block_types.items():
        if values.get(name) is None and spec.get("min_items", 0) > 0:
            problems.append(
                f"{_join(prefix, name)}: required block is missing "
                f"(at least {spec['min_items']} expected)"
            )


def _check_nested(spec: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(f"{path}: block must be a list of dicts, got {type(value).__name__}")
        return

    count = len(value)
    min_items = spec.get("min_items", 0)
    max_items = spec.get("max_items")
    if max_items is None and spec.get("nesting_mode") in _SINGLE_MODES:
        max_items = 1
    if count < min_items:
        problems.append(f"{path}: block has {count} item(s), at least {min_items} expected")
    if max_items is not None and count > max_items:
        problems.append(f"{path}: block has {count} item(s), at most {max_items} allowed")

    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.append(
                f"{item_path}: block must be a list of dicts, item is {type(item).__name__}"
            )
            continue
        _check_block(spec["block"], item, item_path, problems)
