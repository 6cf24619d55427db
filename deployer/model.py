"""The graph's vocabulary: nodes described in Terraform's attribute names, and references.

A node's attributes are plain values, nested blocks (always a list of dicts, as in Terraform's
state), or the reference types below. The same node feeds the boto3 calls (after `resolve`),
the HCL export (references become Terraform expressions) and the drift comparison.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

WORKSPACES: tuple[str, ...] = ("primary", "secondary")


@dataclass(frozen=True)
class Ref:
    """Another node's attribute, e.g. `aws_vpc.main.id`.

    `workspace` is set only for a reference into another workspace (secondary → primary).
    `ready` says the dependent needs the target to be ready (its waiter finished), not merely
    to exist with a known id.
    """

    address: str
    attribute: str
    workspace: str | None = None
    ready: bool = False

    def __str__(self) -> str:
        return f"{self.address}.{self.attribute}"


@dataclass(frozen=True)
class Interp:
    """A string built from literals and references: `"${aws_s3_bucket.b.arn}/*"` in HCL."""

    parts: tuple[str | Ref, ...]


@dataclass(frozen=True)
class Json:
    """A JSON document that may contain references: `jsonencode({...})` in HCL."""

    value: Any


@dataclass(frozen=True)
class JsonDecode:
    """A field of a JSON document another node holds: `jsondecode(ref)["password"]` in HCL."""

    source: Ref
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class FileDigest:
    """The base64 SHA-256 of a file the configuration ships beside it (a Lambda package):
    `filebase64sha256("payment_processor.zip")` in HCL, the digest itself everywhere else."""

    filename: str
    digest: str


class Unknown:
    """A value known only after apply (its source is yet to be created or replaced)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = Unknown()


@dataclass
class Node:
    """One Terraform-shaped resource (or data source) in one workspace."""

    type: str
    name: str
    workspace: str
    attributes: dict[str, Any]
    data: bool = False
    depends_on: tuple[Ref, ...] = ()
    # An ephemeral resource (Terraform 1.10+): opened at apply time, its values used only by
    # write-only attributes (`password_wo`) and never stored, planned or printed.
    ephemeral: bool = False
    # Files the node's configuration ships, by name (a Lambda package): the driver uploads
    # them, the export writes them beside the HCL; only their digests are compared.
    files: dict[str, bytes] = field(default_factory=dict)
    # The module whose blueprint made the node (the HCL export groups files by it).
    origin: str = ""

    @property
    def address(self) -> str:
        if self.ephemeral:
            return f"ephemeral.{self.type}.{self.name}"
        return f"data.{self.type}.{self.name}" if self.data else f"{self.type}.{self.name}"

    @property
    def stored(self) -> bool:
        """Whether the node is a managed resource with an entry in state."""
        return not (self.data or self.ephemeral)

    @property
    def key(self) -> str:
        return node_key(self.workspace, self.address)

    def references(self) -> Iterator[Ref]:
        """Every reference in the attributes, plus explicit dependencies."""
        yield from iter_refs(self.attributes)
        yield from self.depends_on


@dataclass(frozen=True)
class Output:
    """A value shown by `deployer output` and exported to outputs.tf."""

    name: str
    workspace: str
    value: Any
    description: str = ""


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def attribute_value(values: dict[str, Any], path: str, missing: Any = None) -> Any:
    """`name`, `block[0].field` or `list[2]` out of a resource's attribute values.

    Sets in Terraform (such as a certificate's `domain_validation_options`) are indexed in
    the order the driver's read returns them.
    """
    current: Any = values
    for name, index in _PATH_PART.findall(path):
        if name:
            if not isinstance(current, dict) or name not in current:
                return missing
            current = current[name]
        else:
            if not isinstance(current, list) or int(index) >= len(current):
                return missing
            current = current[int(index)]
    return current


def is_write_only(name: str) -> bool:
    """Terraform's write-only attributes (`password_wo`): never stored, compared or shown."""
    return name.endswith("_wo")


def node_key(workspace: str, address: str) -> str:
    return f"{workspace}:{address}"


def split_key(key: str) -> tuple[str, str]:
    workspace, address = key.split(":", 1)
    return workspace, address


def ref_key(ref: Ref, from_workspace: str) -> str:
    return node_key(ref.workspace or from_workspace, ref.address)


def iter_refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Interp):
        for part in value.parts:
            if isinstance(part, Ref):
                yield part
    elif isinstance(value, Json):
        yield from iter_refs(value.value)
    elif isinstance(value, JsonDecode):
        yield value.source
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_refs(item)


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """Replace references by concrete values; anything depending on an unknown is UNKNOWN."""
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, FileDigest):
        return value.digest
    if isinstance(value, Interp):
        parts = [lookup(p) if isinstance(p, Ref) else p for p in value.parts]
        if any(p is UNKNOWN for p in parts):
            return UNKNOWN
        return "".join(str(p) for p in parts)
    if isinstance(value, JsonDecode):
        document = lookup(value.source)
        if document is UNKNOWN:
            return UNKNOWN
        field: Any = json.loads(document)
        for step in value.path:
            field = field[step]
        return field
    if isinstance(value, Json):
        doc = resolve(value.value, lookup)
        return UNKNOWN if contains_unknown(doc) else json.dumps(doc, sort_keys=True)
    if isinstance(value, dict):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, lookup) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
