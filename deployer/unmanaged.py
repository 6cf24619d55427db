"""What a driver's `unmanaged` hook is given and gives back: drift's search for things inside
a managed resource (a VPC's subnets, groups, rules and routes) that no state entry manages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Managed:
    """What the workspace's state manages: every id and ARN it records (of any type), and the
    last-applied attributes of its entries by Terraform type."""

    ids: frozenset[str]
    # Each entry's last-applied attributes with its `id` (a route table's inline routes
    # belong to the table of that id).
    applied: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    # Entry ids by Terraform type (`aws_route_table` → its ids).
    ids_by_type: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __contains__(self, id: object) -> bool:
        return id in self.ids

    def of_type(self, tf_type: str) -> Iterator[Mapping[str, Any]]:
        """The last-applied attributes (and `id`) of every entry of `tf_type`."""
        yield from self.applied.get(tf_type, ())


@dataclass(frozen=True)
class UnmanagedItem:
    """Something found that no state entry manages: its Terraform type, id and where it is,
    and what it is from the describe call that found it (`details`: a rule's protocol, ports
    and source; a subnet's CIDR and AZ), for a reader who should not need the console."""

    kind: str
    id: str
    reason: str
    details: Mapping[str, str] = field(default_factory=dict)
