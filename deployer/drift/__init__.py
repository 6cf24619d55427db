"""Drift: what changed behind the deployer's back, what nobody manages, whether regions match.

Three sources are compared for every resource in state:

- *desired*: the graph node's attributes resolved against state (what `plan` would apply);
- *applied*: the resolved desired attributes recorded at the last apply;
- *live*: a fresh read through the resource's driver.

A resource is `missing` when the live read finds nothing, `drifted` when live differs from
applied (someone changed it outside the deployer), `pending` when live matches applied but the
spec has changed since (a plan, not drift; also resources not yet applied and state entries no
longer in the spec), `in-sync` otherwise. Attributes of applied that the read does not return
at all are listed as `unchecked`, never counted as in sync.

Beyond state, drift looks for resources that carry the project's identity tags but that no
state entry manages (Resource Groups Tagging API, one paginated call per region), and for what
lives inside the managed resources that nobody manages (the drivers' `unmanaged` hooks: the
subnets, security groups and their rules, route tables and routes of a VPC, one batched
describe call per kind and VPC). With both workspaces it compares the secondary's live
attributes with the primary's wherever the spec declares them the same.

Drift only reads: it fails if any write call was made while it ran.

The package, by job: `report` (the report's types), `detect` (the three-way comparison),
`unmanaged` (discovery), `parity` (region parity), `render` (table, markdown, JSON); here,
`detect_drift`, which runs them in turn.
"""

from __future__ import annotations

from collections import Counter

from deployer.arns import parse_arn as _parse_arn
from deployer.aws import Clients, is_read_operation
from deployer.drift.detect import (
    UNREADABLE,
    compare_resources,
    narrow,
    read_live,
    resolve_desired,
    uncompared,
)
from deployer.drift.parity import ParityChecker, parity_breaks
from deployer.drift.render import (
    SECTIONS,
    render_json,
    render_markdown,
    render_table,
    report_to_json,
    summary,
)
from deployer.drift.report import (
    DRIFTED,
    FORMAT_VERSION,
    IN_SYNC,
    MISSING,
    PENDING,
    REGION_PLACEHOLDER,
    STATUSES,
    UNCHECKED,
    AttributeChange,
    DriftError,
    DriftReport,
    ParityBreak,
    ResourceDrift,
    Unmanaged,
)
from deployer.drift.unmanaged import ANY_REGION, ArnKinds, find_unmanaged
from deployer.graph import Graph
from deployer.model import WORKSPACES
from deployer.state import State

# The names the tests have imported from the single module drift once was.
_narrow = narrow
_ParityChecker = ParityChecker

__all__ = [
    "ANY_REGION",
    "DRIFTED",
    "FORMAT_VERSION",
    "IN_SYNC",
    "MISSING",
    "PENDING",
    "REGION_PLACEHOLDER",
    "SECTIONS",
    "STATUSES",
    "UNCHECKED",
    "UNREADABLE",
    "ArnKinds",
    "AttributeChange",
    "DriftError",
    "DriftReport",
    "ParityBreak",
    "ParityChecker",
    "ResourceDrift",
    "Unmanaged",
    "_ParityChecker",
    "_narrow",
    "_parse_arn",
    "detect_drift",
    "narrow",
    "render_json",
    "render_markdown",
    "render_table",
    "report_to_json",
    "summary",
    "uncompared",
]


def detect_drift(
    graph: Graph,
    states: dict[str, State],
    clients: Clients,
    workspaces: list[str],
    *,
    parallelism: int = 10,
) -> DriftReport:
    """Compare desired, last-applied and live attributes of the given workspaces.

    `states` should hold every workspace's state (cross-workspace references and global
    resources are resolved or recognised through them). Makes read calls only: raises
    `DriftError` if any write call was made while it ran.
    """
    before = Counter(clients.counter.calls)
    wanted = [ws for ws in WORKSPACES if ws in workspaces]
    report = DriftReport(wanted)
    nodes = [n for n in graph.nodes() if n.workspace in wanted]
    lives = read_live(graph, nodes, states, clients, parallelism)
    desired = resolve_desired(graph, nodes, states, clients)
    report.resources = compare_resources(graph, nodes, states, wanted, desired, lives)

    live_ok = {r.key for r in report.resources if r.status in (IN_SYNC, DRIFTED, PENDING)}
    report.unmanaged = find_unmanaged(graph, states, clients, wanted, live_ok)
    if "primary" in wanted and "secondary" in wanted:
        report.parity = parity_breaks(graph, desired, lives, live_ok)

    delta = Counter(clients.counter.calls)
    delta.subtract(before)
    calls = {op: n for op, n in sorted(delta.items()) if n > 0}
    writes = {op: n for op, n in calls.items() if not is_read_operation(op.split(":", 1)[1])}
    if writes:
        raise DriftError(f"drift must only read, yet it made write calls: {writes}")
    report.calls = calls
    report.api_calls = sum(calls.values())
    return report
