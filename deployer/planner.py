"""Desired (graph) vs recorded (state) vs live (driver reads) → one change per resource."""

from __future__ import annotations

import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import Clients, DeployerError, describe_error
from deployer.batch import BatchRead, ReadBatch
from deployer.graph import Graph
from deployer.model import (
    UNKNOWN,
    Node,
    Ref,
    attribute_value,
    contains_unknown,
    is_write_only,
    node_key,
    ref_key,
    resolve,
)
from deployer.resource import (
    GLOBAL_REGION,
    Context,
    DataSource,
    Resource,
    driver_for,
    resource_driver,
)
from deployer.state import State


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"
    READ = "read"


SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.NOOP: " ",
    Action.READ: "<=",
}


class PlanError(DeployerError):
    pass


@dataclass
class Change:
    key: str
    workspace: str
    address: str
    type: str
    action: Action
    diffs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # The live read made while planning, so that apply does not read again.
    live: dict[str, Any] | None = None
    reason: str = ""
    # Attributes whose change forces the replacement.
    forces: list[str] = field(default_factory=list)
    # Ids of objects this resource replaced create-before-destroy and that are still to delete
    # (Terraform's "deposed" objects): an interrupted apply leaves them for the next one.
    deposed: list[str] = field(default_factory=list)


NOOP_CHANGE = Change("", "", "", "", Action.NOOP)


@dataclass
class Plan:
    changes: dict[str, Change]
    workspaces: list[str]

    def actionable(self) -> list[Change]:
        return [
            c
            for c in self.changes.values()
            if c.action not in (Action.NOOP, Action.READ) or c.deposed
        ]

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "replace": 0, "delete": 0}
        for change in self.actionable():
            if change.action.value in out:
                out[change.action.value] += 1
            out["delete"] += len(change.deposed)
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable())


def context_for(
    clients: Clients,
    spec_region: Callable[[str], str],
    node: Node,
    options: dict[str, Any] | None = None,
    batch: ReadBatch | None = None,
    notes: Callable[[str, str], None] | None = None,
) -> Context:
    driver = driver_for(node)
    region = node.attributes.get("region") or spec_region(node.workspace)
    if getattr(driver, "global_service", False):
        region = GLOBAL_REGION
    if isinstance(region, Ref):
        raise PlanError(f"{node.key}: region must be a literal")
    return Context(clients, str(region), node, dict(options or {}), batch, notes)


def prefetch_reads(
    nodes: list[Node],
    states: dict[str, State],
    clients: Clients,
    spec_region: Callable[[str], str],
    parallelism: int = 10,
) -> ReadBatch:
    """Make the batched describe calls the reads of these deployed nodes will need."""
    wanted: list[tuple[str, BatchRead]] = []
    for node in nodes:
        driver = driver_for(node)
        entry = states[node.workspace].get(node.address)
        if not isinstance(driver, Resource) or not entry or entry.get("status") != "created":
            continue
        region = context_for(clients, spec_region, node).region
        recorded = entry.get("attributes") or {}
        wanted += [(region, read) for read in driver.batch_reads(str(entry["id"]), recorded)]
    batch = ReadBatch()
    batch.prefetch(clients, wanted, parallelism)
    return batch


def node_from_entry(workspace: str, address: str, entry: dict[str, Any]) -> Node:
    """A stand-in node for a resource known only from state (deleted from the spec)."""
    name = address.split(".")[-1]
    return Node(entry["type"], name, workspace, dict(entry.get("applied") or {}))


class Values:
    """Attribute values of nodes for resolving references: from this run or from state."""

    def __init__(self, states: dict[str, State]) -> None:
        self.states = states
        self.known: dict[str, dict[str, Any]] = {}

    def set(self, key: str, values: dict[str, Any]) -> None:
        self.known[key] = values

    def lookup_from(self, workspace: str) -> Callable[[Ref], Any]:
        def lookup(ref: Ref) -> Any:
            key = ref_key(ref, workspace)
            values = self.known.get(key)
            if values is None:
                ws, address = key.split(":", 1)
                entry = self.states[ws].get(address) if ws in self.states else None
                if entry is None or entry.get("status") != "created":
                    raise PlanError(
                        f"the {workspace} workspace depends on {key}, which is not "
                        f"deployed: apply the {ws} workspace first"
                    )
                values = {**(entry.get("applied") or {}), **(entry.get("attributes") or {})}
                self.known[key] = values
            return attribute_value(values, ref.attribute, UNKNOWN)

        return lookup


def plan_changes(
    graph: Graph,
    states: dict[str, State],
    clients: Clients,
    *,
    workspaces: list[str],
    refresh: bool = True,
    parallelism: int = 10,
) -> Plan:
    """Compare desired, recorded and live state for every node of the given workspaces."""
    region = graph.spec.region
    nodes = [n for n in graph.nodes() if n.workspace in workspaces]
    _check_cross_workspace(nodes, states, workspaces)
    batch = prefetch_reads(nodes, states, clients, region, parallelism) if refresh else None

    def read_live(node: Node) -> tuple[str, dict[str, Any] | None]:
        driver = driver_for(node)
        entry = states[node.workspace].get(node.address)
        if (
            not isinstance(driver, Resource)
            or entry is None
            or entry.get("status") != "created"
            or not refresh
        ):
            return node.key, (entry or {}).get("attributes")
        try:
            context = context_for(clients, region, node, batch=batch)
            return node.key, driver.read(context, entry["id"])
        except ClientError as exc:  # connection and credential errors speak for themselves
            raise PlanError(
                f"{node.key}: reading the live resource failed: {describe_error(exc)}"
            ) from exc

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        live_reads = dict(pool.map(read_live, nodes))

    values = Values(states)
    changes: dict[str, Change] = {}
    for node in nodes:
        driver = driver_for(node)
        desired = resolve(node.attributes, values.lookup_from(node.workspace))
        entry = states[node.workspace].get(node.address)
        if isinstance(driver, DataSource):
            upstream = [
                changes.get(ref_key(r, node.workspace), NOOP_CHANGE) for r in node.references()
            ]
            # A look-up of something being made or replaced waits for apply, as Terraform's
            # does; one of something updated in place is read now, with the attributes the
            # update changes left unknown: the rest (an ARN, an id) cannot change, so what
            # uses them is not replaced for nothing.
            pending = any(
                c.action not in (Action.NOOP, Action.READ, Action.UPDATE) for c in upstream
            )
            change = _plan_data_source(
                node, driver, desired, clients, region, defer=pending or node.ephemeral
            )
            updated = {name for c in upstream if c.action == Action.UPDATE for name in c.diffs}
            found = {k: UNKNOWN if k in updated else v for k, v in (change.live or {}).items()}
            changes[node.key] = change
            values.set(node.key, {**desired, **found})
            continue
        assert isinstance(driver, Resource)
        desired = driver.with_defaults(desired)
        live = live_reads[node.key]
        change = Change(node.key, node.workspace, node.address, node.type, Action.NOOP, live=live)
        if entry is None or entry.get("status") != "created":
            change.action = Action.CREATE
            if entry is not None:
                change.reason = "an interrupted create is adopted if it made the resource"
            elif node.address in states[node.workspace].forgotten:
                change.reason = "removed by `state rm`: apply adopts it if it still exists"
                change.live = _find_forgotten(node, driver, desired, clients, region, refresh)
                if change.live is not None:
                    change.reason = f"removed by `state rm`: apply adopts {change.live['id']}"
            change.diffs = {k: (None, v) for k, v in desired.items() if v is not None}
        elif live is None:
            change.action = Action.CREATE
            change.reason = "the resource was deleted outside the deployer"
            change.diffs = {k: (None, v) for k, v in desired.items() if v is not None}
        else:
            live = with_state_only(live, entry, driver)
            change.live = live
            diffs = driver.differences(desired, live)
            forces = driver.replacing(diffs)
            change.diffs = diffs
            if forces:
                change.action = Action.REPLACE
                change.forces = forces
            elif diffs:
                change.action = Action.UPDATE
        change.deposed = list((entry or {}).get("deposed") or [])
        if change.action == Action.CREATE and change.live is not None:  # to be adopted
            values.set(node.key, {**desired, **change.live})
        elif change.action in (Action.CREATE, Action.REPLACE):
            values.set(node.key, {k: v for k, v in desired.items() if not contains_unknown(v)})
        elif change.action == Action.UPDATE:
            values.set(node.key, {**(live or {}), **desired})
        else:
            values.set(node.key, {**desired, **(live or {})})
        changes[node.key] = change

    for workspace in workspaces:
        for address in states[workspace].addresses():
            key = node_key(workspace, address)
            if key in graph:
                continue
            entry = states[workspace].get(address) or {}
            changes[key] = Change(
                key,
                workspace,
                address,
                entry.get("type", "?"),
                Action.DELETE,
                diffs={k: (v, None) for k, v in (entry.get("applied") or {}).items()},
                live=entry.get("attributes"),
                reason="no longer in the spec",
                deposed=list(entry.get("deposed") or []),
            )
    return Plan(changes, workspaces)


def destroy_plan(states: dict[str, State], workspaces: list[str]) -> Plan:
    """Every resource the workspaces' states record, to be deleted (no read needed: what is
    already gone is skipped when deleted)."""
    changes: dict[str, Change] = {}
    for ws in workspaces:
        for address in states[ws].addresses():
            entry = states[ws].get(address) or {}
            key = node_key(ws, address)
            tf_type = entry.get("type", "?")
            live = entry.get("attributes")
            changes[key] = Change(key, ws, address, tf_type, Action.DELETE, live=live)
    return Plan(changes, workspaces)


def _find_forgotten(
    node: Node,
    driver: Resource,
    desired: dict[str, Any],
    clients: Clients,
    region: Callable[[str], str],
    refresh: bool,
) -> dict[str, Any] | None:
    """What `deployer state rm` forgot, found again by its driver (name or identity tags) and
    read, or None: apply will adopt it, and its values let the plan resolve what refers to it,
    so that nothing is replaced for an adoption."""
    if not refresh or contains_unknown(desired):
        return None
    context = context_for(clients, region, node)
    try:
        found = driver.find(context, desired)
        return driver.read(context, found) if found is not None else None
    except ClientError as exc:
        raise PlanError(f"{node.key}: looking for it failed: {describe_error(exc)}") from exc


def with_state_only(
    live: dict[str, Any], entry: dict[str, Any], driver: Resource
) -> dict[str, Any]:
    """The live read plus what AWS cannot report, as last applied (Terraform keeps those in
    state): so that changing, say, `password_wo_version` is a change while a fresh read alone
    would never show it."""
    applied = entry.get("applied") or {}
    return {**{k: applied[k] for k in driver.write_only if k in applied}, **live}


def _plan_data_source(
    node: Node,
    driver: DataSource,
    desired: dict[str, Any],
    clients: Clients,
    region: Callable[[str], str],
    *,
    defer: bool,
) -> Change:
    """Read a data source now, or at apply time when what it looks up is still to be made."""
    change = Change(node.key, node.workspace, node.address, node.type, Action.READ)
    if defer or contains_unknown(desired):
        return change
    try:
        live = driver.read(context_for(clients, region, node), desired)
    except ClientError as exc:
        raise PlanError(f"{node.key}: look-up failed: {describe_error(exc)}") from exc
    if live is None:
        raise PlanError(f"{node.key}: the look-up found nothing for {desired}")
    change.live = live
    return change


def _check_cross_workspace(
    nodes: list[Node], states: dict[str, State], workspaces: list[str]
) -> None:
    """A workspace that references another one needs that one applied first (or in this run)."""
    for node in nodes:
        for ref in node.references():
            if ref.workspace is None or ref.workspace in workspaces:
                continue
            entry = states[ref.workspace].get(ref.address) if ref.workspace in states else None
            if entry is None or entry.get("status") != "created":
                raise PlanError(
                    f"the {node.workspace} workspace depends on the {ref.workspace} workspace "
                    f"({node.address} needs {ref.workspace}'s {ref.address}), which is not "
                    f"applied: apply {ref.workspace} first"
                )


def format_value(value: Any) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"' if len(value) < 120 else f'"{value[:100]}…" ({len(value)} chars)'
    return repr(value) if not isinstance(value, dict | list) else _compact(value)


def _compact(value: Any) -> str:
    import json

    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) < 160 else text[:140] + f"… ({len(text)} chars)"


def _removed_in_words(change: Change, name: str, before: Any, after: Any) -> list[str]:
    """For a set whose members name things (an extra inline policy, a rule opened outside the
    deployer), what the update removes, in the driver's words: the reviewer sees `escalate:
    Allow * on *`, not only a name."""
    if not (isinstance(before, list) and isinstance(after, list)):
        return []
    try:
        driver = resource_driver(change.type)
    except KeyError:
        return []
    if type(driver).describe_value is Resource.describe_value:
        return []
    removed = [item for item in before if item not in after]
    if not removed:
        return []
    return [f"        # removes {driver.describe_value(name, removed, change.live)}"]


def render_plan(plan: Plan) -> str:
    """A plan a Terraform user can read: address, action, changed attributes."""
    lines: list[str] = []
    for change in sorted(plan.actionable(), key=lambda c: (c.workspace != "primary", c.key)):
        for old in change.deposed:
            lines.append(
                f"  # {change.address} ({change.workspace}) deposed object {old} will be "
                "destroyed (replaced create-before-destroy by an earlier apply)"
            )
            lines.append("")
        if change.action in (Action.NOOP, Action.READ):
            continue
        symbol = SYMBOLS[change.action]
        verb = {
            Action.CREATE: "will be created",
            Action.UPDATE: "will be updated in-place",
            Action.REPLACE: "must be replaced",
            Action.DELETE: "will be destroyed",
        }[change.action]
        lines.append(f"  # {change.address} ({change.workspace}) {verb}")
        if change.reason:
            lines.append(f"  #   ({change.reason})")
        lines.append(f'  {symbol} resource "{change.type}" "{change.address.split(".")[-1]}" {{')
        for name, (before, after) in sorted(change.diffs.items()):
            if name == "tags" and change.action == Action.CREATE:
                continue
            if is_write_only(name):
                lines.append(f"      ~ {name} = (write-only attribute)")
                continue
            mark = " # forces replacement" if name in change.forces else ""
            if change.action == Action.CREATE:
                lines.append(f"      + {name} = {format_value(after)}")
            elif change.action == Action.DELETE:
                lines.append(f"      - {name} = {format_value(before)}")
            else:
                lines.append(
                    f"      ~ {name} = {format_value(before)} -> {format_value(after)}{mark}"
                )
                lines.extend(_removed_in_words(change, name, before, after))
        lines.append("    }")
        lines.append("")
    counts = plan.counts()
    if not plan.has_changes:
        lines.append("No changes. Your infrastructure matches the configuration.")
    else:
        lines.append(
            f"Plan: {counts['create']} to add, {counts['update']} to change, "
            f"{counts['replace']} to replace, {counts['delete']} to destroy."
        )
    return "\n".join(lines)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    def clean(value: Any) -> Any:
        if value is UNKNOWN:
            return {"unknown": True}
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {
        "format_version": 1,
        "workspaces": plan.workspaces,
        "summary": plan.counts(),
        "changes": [
            {
                "address": c.address,
                "workspace": c.workspace,
                "type": c.type,
                "action": c.action.value,
                "reason": c.reason or None,
                "forces_replacement": c.forces,
                "deposed": c.deposed,
                "attributes": {k: {"write_only": True} for k in c.diffs if is_write_only(k)}
                | {
                    k: {"before": clean(b), "after": clean(a)}
                    for k, (b, a) in sorted(c.diffs.items())
                    if not is_write_only(k)
                },
            }
            for c in sorted(plan.actionable(), key=lambda c: c.key)
        ],
    }
