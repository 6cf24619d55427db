"""The drift report: statuses, findings and the report that holds them (format version 2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.aws import DeployerError
from deployer.drift.severity import HIGH, MEDIUM, of_missing, rank, worst
from deployer.model import node_key

FORMAT_VERSION = 2

IN_SYNC = "in-sync"
DRIFTED = "drifted"
MISSING = "missing"
PENDING = "pending"
# A resource whose type the driver cannot read at all: every attribute is unchecked.
UNCHECKED = "unchecked"
# The order in which statuses are shown.
STATUSES: tuple[str, ...] = (DRIFTED, MISSING, PENDING, UNCHECKED, IN_SYNC)

# What replaces each workspace's region name in strings compared for parity.
REGION_PLACEHOLDER = "<region>"


class DriftError(DeployerError):
    pass


@dataclass(frozen=True)
class AttributeChange:
    """One attribute that differs: for drift, expected = last applied and actual = live;
    for a pending change, expected = the spec's (desired) value and actual = last applied."""

    name: str
    expected: Any
    actual: Any
    # What changed, in words ("kms key disabled"), and how serious it is (`high`, `medium`,
    # `low`; see deployer/drift/severity.py). Drift fills both; a pending change has no
    # severity (it is not a finding). Not part of equality: the values are the change.
    description: str = field(default="", compare=False)
    severity: str = field(default="", compare=False)


@dataclass
class ResourceDrift:
    """The comparison of one resource of one workspace."""

    workspace: str
    address: str
    type: str
    status: str
    changes: list[AttributeChange] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    id: str | None = None
    # What the next apply would change (the spec against last applied), whatever the status.
    planned: list[AttributeChange] = field(default_factory=list)
    reason: str = ""

    @property
    def key(self) -> str:
        return node_key(self.workspace, self.address)

    @property
    def severity(self) -> str | None:
        """The most serious of its findings: a missing resource is high (see severity.py),
        a drifted one its worst change; None when it is no finding."""
        if self.status == MISSING:
            return of_missing(self.type)
        if self.status == DRIFTED:
            return worst([c.severity or MEDIUM for c in self.changes])
        return None


@dataclass(frozen=True)
class Unmanaged:
    """A resource of the environment that no state entry manages."""

    workspace: str
    region: str
    kind: str
    id: str
    reason: str
    # What it is, from what the search saw (a rule's protocol, ports and source; a subnet's
    # CIDR and AZ), the same in a line, and how serious it is.
    details: Mapping[str, str] = field(default_factory=dict, compare=False)
    description: str = field(default="", compare=False)
    severity: str = field(default=MEDIUM, compare=False)


@dataclass(frozen=True)
class ParityBreak:
    """An attribute the spec declares the same in both regions whose live values differ."""

    address: str
    attribute: str
    primary: Any
    secondary: Any
    # The secondary's value against the primary's in words, and its severity: the rule for
    # drift, applied to the secondary's value.
    description: str = field(default="", compare=False)
    severity: str = field(default=MEDIUM, compare=False)


@dataclass
class DriftReport:
    workspaces: list[str]
    resources: list[ResourceDrift] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    parity: list[ParityBreak] = field(default_factory=list)
    # Read calls made by the drift run, in total and per `service:Operation`.
    api_calls: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def with_status(self, status: str) -> list[ResourceDrift]:
        return [r for r in self.resources if r.status == status]

    def counts(self) -> dict[str, int]:
        out = {status: 0 for status in STATUSES}
        for result in self.resources:
            out[result.status] += 1
        return out

    @property
    def unchecked_count(self) -> int:
        """Attributes, over all resources, that nothing compares (see `ResourceDrift.unchecked`)."""
        return sum(len(r.unchecked) for r in self.resources)

    def severities(self) -> Iterator[str]:
        """The severity of every finding: each drifted attribute, missing resource, unmanaged
        resource and parity break."""
        for result in self.resources:
            if result.status == MISSING:
                yield result.severity or HIGH
            elif result.status == DRIFTED:
                yield from (c.severity or MEDIUM for c in result.changes)
        yield from (u.severity for u in self.unmanaged)
        yield from (p.severity for p in self.parity)

    def fails(self, threshold: str | None) -> bool:
        """Whether the run fails (exit code 2): any drift when `threshold` is None, else a
        finding at or above that severity."""
        if threshold is None:
            return self.has_drift
        return any(rank(s) >= rank(threshold) for s in self.severities())

    @property
    def has_drift(self) -> bool:
        """Anything drifted, missing, unmanaged or a parity break (exit code 2).

        Pending changes and unchecked attributes alone are not drift.
        """
        return bool(
            self.with_status(DRIFTED) or self.with_status(MISSING) or self.unmanaged or self.parity
        )
