"""The three-way comparison of one resource: desired (the spec resolved against state),
applied (what the last apply recorded) and live (a fresh read through its driver)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deployer.aws import Clients, describe_error
from deployer.diff import diff_attributes, equivalent
from deployer.drift.describe import drift_change, planned_change
from deployer.drift.report import (
    DRIFTED,
    IN_SYNC,
    MISSING,
    PENDING,
    UNCHECKED,
    AttributeChange,
    DriftError,
    ResourceDrift,
)
from deployer.graph import Graph
from deployer.model import (
    UNKNOWN,
    WORKSPACES,
    Node,
    Ref,
    contains_unknown,
    is_write_only,
    node_key,
    resolve,
)
from deployer.planner import PlanError, Values, context_for, prefetch_reads
from deployer.resource import DataSource, Resource, driver_for, resource_driver
from deployer.schema import block_schema
from deployer.state import State


def compare_resources(
    graph: Graph,
    nodes: list[Node],
    states: dict[str, State],
    workspaces: list[str],
    desired: dict[str, dict[str, Any]],
    lives: dict[str, dict[str, Any] | None],
) -> list[ResourceDrift]:
    """One result per stored node and per state entry no longer in the spec (pending: the next
    apply destroys it), by workspace (primary first) then address."""
    results = [
        compare(node, states[node.workspace].get(node.address), desired, lives)
        for node in nodes
        if node.stored
    ]
    for workspace in workspaces:
        for address in states[workspace].addresses():
            if node_key(workspace, address) in graph:
                continue
            entry = states[workspace].get(address) or {}
            results.append(
                ResourceDrift(
                    workspace,
                    address,
                    str(entry.get("type", "?")),
                    PENDING,
                    id=entry.get("id"),
                    reason="no longer in the spec: the next apply destroys it",
                )
            )
    results.sort(key=lambda r: (WORKSPACES.index(r.workspace), r.address))
    return results


# The live value of a resource whose driver has no read: nothing can be checked.
UNREADABLE: dict[str, Any] = {"__unreadable__": True}


def read_live(
    graph: Graph,
    nodes: list[Node],
    states: dict[str, State],
    clients: Clients,
    parallelism: int,
) -> dict[str, dict[str, Any] | None]:
    """A fresh driver read of every stored node that state says was created."""

    def read(node: Node) -> tuple[str, dict[str, Any] | None]:
        entry = states[node.workspace].get(node.address) or {}
        driver = driver_for(node)
        assert isinstance(driver, Resource)
        try:
            context = context_for(clients, graph.spec.region, node, batch=batch)
            live = driver.read(context, str(entry["id"]))
        except NotImplementedError:
            return node.key, UNREADABLE
        except Exception as exc:
            raise DriftError(
                f"{node.key}: reading the live resource failed: {describe_error(exc)}"
            ) from exc
        return node.key, live

    todo = [
        n
        for n in nodes
        if n.stored
        and (entry := states[n.workspace].get(n.address)) is not None
        and entry.get("status") == "created"
        and entry.get("id")
    ]
    batch = prefetch_reads(todo, states, clients, graph.spec.region, parallelism)
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return dict(pool.map(read, todo))


def resolve_desired(
    graph: Graph, nodes: list[Node], states: dict[str, State], clients: Clients
) -> dict[str, dict[str, Any]]:
    """Every node's attributes resolved against state (data sources are read again).

    A reference to something not applied yet resolves to UNKNOWN: the node has pending changes.
    """
    values = Values(states)
    out: dict[str, dict[str, Any]] = {}
    for node in nodes:
        lookup = values.lookup_from(node.workspace)

        def safe(ref: Ref, lookup: Callable[[Ref], Any] = lookup) -> Any:
            try:
                return lookup(ref)
            except PlanError:
                return UNKNOWN

        resolved = resolve(node.attributes, safe)
        out[node.key] = resolved
        if node.data and not node.ephemeral:
            driver = driver_for(node)
            assert isinstance(driver, DataSource)
            live: dict[str, Any] | None = None
            if not contains_unknown(resolved):
                try:
                    live = driver.read(context_for(clients, graph.spec.region, node), resolved)
                except Exception as exc:
                    raise DriftError(f"{node.key}: look-up failed: {describe_error(exc)}") from exc
            values.set(node.key, {**resolved, **(live or {})})
    return out


def uncompared(
    tf_type: str, driver: Resource, applied: dict[str, Any], live: dict[str, Any]
) -> list[str]:
    """Settable attributes the read returns that nothing compares: neither the spec nor a
    default of the driver's table sets them, so a change to them would go unseen."""
    try:
        schema = block_schema(tf_type)
    except KeyError:
        return []
    attributes = schema.get("attributes", {})
    settable = {
        name for name, spec in attributes.items() if spec.get("optional") or spec.get("required")
    } | set(schema.get("block_types", {}))
    computed = driver.table.computed if driver.table is not None else frozenset()
    return sorted(
        name
        for name, value in live.items()
        if name in settable
        and name not in applied
        and name not in computed
        and name not in driver.write_only
        and value not in (None, "", [], {})
        and name not in ("id", "tags_all", "region")
    )


def compare(
    node: Node,
    entry: dict[str, Any] | None,
    desired: dict[str, dict[str, Any]],
    lives: dict[str, dict[str, Any] | None],
) -> ResourceDrift:
    result = ResourceDrift(node.workspace, node.address, node.type, PENDING)
    if entry is None:
        result.reason = "not applied yet: the next apply creates it"
        return result
    result.id = entry.get("id")
    if entry.get("status") != "created" or not entry.get("id"):
        result.reason = "an interrupted create: the next apply adopts or creates it"
        return result
    driver = resource_driver(node.type)
    # With the provider's defaults, as the planner compares: an attribute the spec leaves to
    # its default (a key's `is_enabled`) is still watched.
    applied: dict[str, Any] = driver.with_defaults(dict(entry.get("applied") or {}))
    want = driver.with_defaults(desired[node.key])
    # As the planner compares: attributes AWS cannot report (the driver's write_only, such as
    # `password_wo_version`) against their last applied value too.
    live = lives.get(node.key)
    words = None if live is UNREADABLE else live
    result.planned = [
        planned_change(driver, node.type, change, words)
        for name, (have, want_value) in sorted(diff_attributes(want, applied).items())
        for change in narrow(name, want_value, have)
    ]
    if live is UNREADABLE:
        result.status = UNCHECKED
        result.reason = f"the {node.type} driver cannot read the live resource"
        result.unchecked = sorted(
            name
            for name, value in applied.items()
            if value is not None and name not in driver.write_only and not is_write_only(name)
        )
        return result
    if live is None:
        result.status = MISSING
        result.reason = "deleted outside the deployer"
        return result
    result.unchecked = sorted(
        name
        for name, value in applied.items()
        if name not in live
        and value is not None
        and name not in driver.write_only
        and not is_write_only(name)
    )
    drift = diff_attributes(applied, live, driver.write_only | frozenset(result.unchecked))
    result.unchecked = sorted({*result.unchecked, *uncompared(node.type, driver, applied, live)})
    result.changes = [
        drift_change(driver, node.type, change, live)
        for name, (actual, expected) in sorted(drift.items())
        for change in narrow(name, expected, actual)
    ]
    if result.changes:
        result.status = DRIFTED
        result.reason = "changed outside the deployer"
    elif result.planned:
        result.status = PENDING
        result.reason = "the spec changed since the last apply"
    else:
        result.status = IN_SYNC
    return result


def narrow(path: str, expected: Any, actual: Any) -> list[AttributeChange]:
    """The changes inside a differing attribute, as precisely as they can be named.

    A map (tags, environment variables) yields one change per key added, removed or changed;
    a single nested block one change per differing argument (`block[0].field`); anything else
    (lists of several blocks, scalars, policy documents) the attribute as a whole.
    """
    if expected is UNKNOWN:
        return [AttributeChange(path, expected, actual)]
    if isinstance(expected, dict) and isinstance(actual, dict):
        tags = path in ("tags", "tags_all")
        keys = set(expected) | {k for k in actual if not (tags and str(k).startswith("aws:"))}
        out: list[AttributeChange] = []
        for key in sorted(keys, key=str):
            if key not in actual or key not in expected:
                out.append(AttributeChange(f"{path}.{key}", expected.get(key), actual.get(key)))
            elif not equivalent(expected[key], actual[key]):
                out.extend(narrow(f"{path}.{key}", expected[key], actual[key]))
        return out or [AttributeChange(path, expected, actual)]
    if (
        is_blocks(expected)
        and len(expected) == 1
        and isinstance(actual, list)
        and len(actual) == 1
        and isinstance(actual[0], dict)
    ):
        out = []
        for key, value in expected[0].items():
            have = actual[0].get(key)
            if value is not None and not equivalent(value, have, top_level_name=key):
                out.extend(narrow(f"{path}[0].{key}", value, have))
        return out or [AttributeChange(path, expected, actual)]
    return [AttributeChange(path, expected, actual)]


def is_blocks(value: Any) -> bool:
    """A list of nested blocks (dicts), as opposed to a scalar list or a map."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
