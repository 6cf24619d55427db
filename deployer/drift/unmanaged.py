"""Unmanaged resources: what is in the environment but in no state.

Two searches, both batched. Inside every managed resource drift could read, its driver's
`unmanaged` hook lists what no state entry manages (a VPC's subnets, groups, rules, route tables
and routes: one describe call per kind and VPC). Across each workspace's region, the Resource
Groups Tagging API (one paginated call) lists what carries the project's identity tags; an ARN
no state entry holds is reported under the Terraform type whose driver declares its kind
(`ArnKinds`, built from the registry), unless a driver claims it as made by AWS on behalf of
a resource of its own (a database's automated snapshots).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from deployer.arns import Arn, Claim, parse_arn
from deployer.aws import Clients, describe_error, paginate
from deployer.drift.describe import describe_unmanaged
from deployer.drift.report import DriftError, Unmanaged
from deployer.drift.severity import of_unmanaged
from deployer.graph import Graph
from deployer.model import WORKSPACES, Node, node_key
from deployer.planner import context_for
from deployer.resource import Context, Resource, registered_resources, resource_driver
from deployer.state import State
from deployer.unmanaged import Managed

# The "region" of the ids of global services' resources (IAM, Route 53): any workspace's.
ANY_REGION = "*"


class ArnKinds:
    """What the registered drivers say an ARN is: each driver's `arn_claim` first, then the
    `arn_kind`s they declare (no two drivers declare the same)."""

    def __init__(self, drivers: Mapping[str, Resource]) -> None:
        self.drivers = dict(drivers)
        self.by_kind: dict[tuple[str, str], str] = {}
        for tf_type, driver in sorted(self.drivers.items()):
            if driver.arn_kind is None:
                continue
            other = self.by_kind.setdefault(driver.arn_kind, tf_type)
            if other != tf_type:
                raise ValueError(f"{other} and {tf_type} both declare ARN kind {driver.arn_kind}")

    @classmethod
    def from_registry(cls) -> ArnKinds:
        return cls(registered_resources())

    def claim(self, arn: Arn) -> tuple[str, Claim] | None:
        """The Terraform type that owns `arn`, or whose resource AWS made it for."""
        for tf_type, driver in self.drivers.items():
            claim = driver.arn_claim(arn)
            if claim is not None:
                return tf_type, claim
        owner = self.by_kind.get(arn.kind)
        return None if owner is None else (owner, Claim.OWN)

    def name(self, arn: str) -> str:
        """The Terraform type an ARN names where a driver knows its kind, else
        `service:resource-type` (the service alone where the ARN has no type)."""
        parsed = parse_arn(arn)
        if parsed is None:
            return "unknown"
        claimed = self.claim(parsed)
        if claimed is not None:
            return claimed[0]
        service, _, resource_type, _ = parsed
        return f"{service}:{resource_type}" if resource_type else service


def arn_candidates(arn: str) -> set[str]:
    """The ARN and the ids a state entry may use for the same resource."""
    out = {arn, arn.removesuffix(":*")}
    parsed = parse_arn(arn)
    if parsed is not None:
        _, _, kind, rest = parsed
        out |= {rest, rest.rsplit("/", 1)[-1], rest.rsplit(":", 1)[-1]}
        if kind:
            out.add(f"{kind}/{rest}")
    return {c for c in out if c}


def known_ids(graph: Graph, states: dict[str, State]) -> dict[str, set[str]]:
    """region (or ANY_REGION for global services) → the ids and ARNs state entries hold."""
    known: dict[str, set[str]] = {}
    for workspace, state in states.items():
        # Kept on purpose (a failback's snapshot): recorded, so not unmanaged.
        known.setdefault(ANY_REGION, set()).update(state.kept)
        for address in state.addresses():
            entry = state.get(address) or {}
            try:
                driver = resource_driver(str(entry.get("type")))
                global_service = driver.global_service
            except KeyError:
                global_service = False
            applied = entry.get("applied") or {}
            attributes = entry.get("attributes") or {}
            region = applied.get("region")
            if global_service:
                region = ANY_REGION
            elif not isinstance(region, str) or not region:
                try:
                    region = graph.spec.region(workspace)
                except AttributeError:
                    region = ANY_REGION
            ids = known.setdefault(region, set())
            for value in (
                entry.get("id"),
                attributes.get("id"),
                attributes.get("arn"),
                applied.get("arn"),
            ):
                if isinstance(value, str) and value:
                    ids.add(value)
                    ids.add(value.removesuffix(":*"))
    return known


def find_unmanaged(
    graph: Graph,
    states: dict[str, State],
    clients: Clients,
    workspaces: list[str],
    live_ok: set[str],
) -> list[Unmanaged]:
    """Everything unmanaged in the workspaces' regions, by workspace, region, kind and id.

    `live_ok`: the keys of the resources whose live read succeeded (only they are looked into).
    """
    spec = graph.spec
    known = known_ids(graph, states)
    found: dict[tuple[str, str], Unmanaged] = {}
    for workspace in workspaces:
        region = spec.region(workspace)
        managed = managed_in(
            states[workspace], known.get(region, set()) | known.get(ANY_REGION, set())
        )
        for item in _inside_managed(graph, states[workspace], clients, workspace, managed, live_ok):
            found[(item.region, item.id)] = item
    kinds = ArnKinds.from_registry()
    for workspace in workspaces:
        _tagged(graph, states, clients, workspaces, workspace, known, kinds, found)
    return sorted(
        found.values(), key=lambda u: (_workspace_order(u.workspace), u.region, u.kind, u.id)
    )


def managed_in(state: State, ids: set[str]) -> Managed:
    """What a driver's `unmanaged` hook is told: the ids and ARNs state holds in the region,
    and the workspace's entries' last-applied attributes (with their ids) by type."""
    applied: dict[str, list[Mapping[str, Any]]] = {}
    ids_by_type: dict[str, set[str]] = {}
    for address in state.addresses():
        entry = state.get(address) or {}
        tf_type = str(entry.get("type"))
        applied.setdefault(tf_type, []).append(
            {**(entry.get("applied") or {}), "id": entry.get("id")}
        )
        if entry.get("id"):
            ids_by_type.setdefault(tf_type, set()).add(str(entry["id"]))
    return Managed(
        frozenset(ids),
        {t: tuple(entries) for t, entries in applied.items()},
        {t: frozenset(entry_ids) for t, entry_ids in ids_by_type.items()},
    )


def _inside_managed(
    graph: Graph,
    state: State,
    clients: Clients,
    workspace: str,
    managed: Managed,
    live_ok: set[str],
) -> Iterable[Unmanaged]:
    """What each created resource of the workspace that drift could read holds that no state
    entry manages, in state order, as its driver's `unmanaged` hook finds it."""
    for address in state.addresses():
        entry = state.get(address) or {}
        key = node_key(workspace, address)
        if entry.get("status") != "created" or not entry.get("id") or key not in live_ok:
            continue
        try:
            driver = resource_driver(str(entry.get("type")))
        except KeyError:
            continue
        if type(driver).unmanaged is Resource.unmanaged:
            continue  # nothing inside it to look for
        try:
            ctx = _context(graph, clients, workspace, address, entry)
            items = list(driver.unmanaged(ctx, str(entry["id"]), managed))
        except Exception as exc:
            raise DriftError(
                f"{key}: looking inside it for unmanaged resources failed: {describe_error(exc)}"
            ) from exc
        for item in items:
            yield Unmanaged(
                workspace,
                ctx.region,
                item.kind,
                item.id,
                item.reason,
                dict(item.details),
                describe_unmanaged(item.kind, item.id, item.details),
                of_unmanaged(item.kind, item.details),
            )


def _context(
    graph: Graph, clients: Clients, workspace: str, address: str, entry: dict[str, Any]
) -> Context:
    """The driver context of a state entry: its node's, or, for an entry no longer in the
    spec, one in its workspace's region."""
    key = node_key(workspace, address)
    if key in graph:
        node = graph.node(key)
    else:
        node = Node(str(entry.get("type")), address.split(".", 1)[-1], workspace, {})
    return context_for(clients, graph.spec.region, node)


def _tagged(
    graph: Graph,
    states: dict[str, State],
    clients: Clients,
    workspaces: list[str],
    workspace: str,
    known: dict[str, set[str]],
    kinds: ArnKinds,
    found: dict[tuple[str, str], Unmanaged],
) -> None:
    """Adds to `found` what the tagging API lists in the workspace's region with the project's
    tags and whose ARN no state entry holds."""
    spec = graph.spec
    region = spec.region(workspace)
    tag_filters = [
        {"Key": "Project", "Values": [spec.project]},
        {"Key": "Environment", "Values": [spec.environment_suffix]},
    ]
    ids = known.get(region, set()) | known.get(ANY_REGION, set())
    all_ids = set().union(*known.values()) if known else set()
    tagging = clients("resourcegroupstaggingapi", region)
    try:
        mappings = list(
            paginate(
                tagging,
                "get_resources",
                "ResourceTagMappingList",
                TagFilters=tag_filters,
                ResourcesPerPage=100,
            )
        )
    except Exception as exc:
        raise DriftError(
            f"{workspace}: discovering tagged resources in {region} failed: {describe_error(exc)}"
        ) from exc
    for mapping in mappings:
        arn = str(mapping.get("ResourceARN", ""))
        parsed = parse_arn(arn)
        # ARNs without a region (S3, IAM, Route 53) may be any workspace's resource.
        candidates = all_ids if parsed is not None and not parsed.region else ids
        if not arn or arn_candidates(arn) & candidates:
            continue
        claimed = kinds.claim(parsed) if parsed is not None else None
        if claimed is not None and claimed[1] is Claim.DERIVED:
            continue
        if parsed is not None and not parsed.region and claimed is not None:
            home = _region_of(kinds.drivers[claimed[0]], clients, region, parsed)
            if home is not None and home != region:
                continue  # some endpoints list it in every region: report it in its own
        tags = {t.get("Key"): t.get("Value") for t in mapping.get("Tags", [])}
        owner = str(tags.get("Workspace") or workspace)
        if owner in WORKSPACES and owner not in workspaces and owner not in states:
            continue  # another workspace's resource, whose state we were not given
        kind = kinds.name(arn)
        duplicate = next(
            (key for key in found if key[0] == region and key[1] in arn_candidates(arn)),
            None,
        )
        reason = (
            f"tagged Project={spec.project} Environment={spec.environment_suffix} but in no state"
        )
        if duplicate is not None:
            seen = found[duplicate]
            found[duplicate] = dataclasses.replace(seen, reason=f"{seen.reason}; {reason}")
            continue
        # A global resource (no region in its ARN) is reported once, whichever region listed
        # it first.
        key = (region if parsed is None or parsed.region else "", arn)
        if key in found:
            continue
        found[key] = Unmanaged(
            owner if owner in WORKSPACES else workspace,
            region,
            kind,
            arn,
            reason,
            description=describe_unmanaged(kind, arn, {}),
            severity=of_unmanaged(kind, {}),
        )


def _region_of(driver: Resource, clients: Clients, region: str, arn: Arn) -> str | None:
    try:
        return driver.region_of(clients, region, arn)
    except Exception as exc:
        raise DriftError(f"locating {arn.resource_id} failed: {describe_error(exc)}") from exc


def _workspace_order(workspace: str) -> int:
    return WORKSPACES.index(workspace) if workspace in WORKSPACES else len(WORKSPACES)
