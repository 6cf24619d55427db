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
state entry manages (Resource Groups Tagging API, one paginated call per region), and for
subnets, security groups and their rules, route tables and routes inside the managed VPCs that
nobody manages (one batched describe call per kind and VPC). With both workspaces it compares
the secondary's live attributes with the primary's wherever the spec declares them the same.

Drift only reads: it fails if any write call was made while it ran.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from deployer.aws import Clients, DeployerError, describe_error, is_read_operation, paginate
from deployer.diff import diff_attributes, equivalent
from deployer.graph import Graph
from deployer.model import (
    UNKNOWN,
    WORKSPACES,
    Interp,
    Json,
    Node,
    Ref,
    contains_unknown,
    is_write_only,
    iter_refs,
    node_key,
    resolve,
)
from deployer.planner import PlanError, Values, context_for, prefetch_reads
from deployer.resource import DataSource, Resource, driver_for, resource_driver
from deployer.schema import block_schema
from deployer.state import State

FORMAT_VERSION = 1

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


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeChange:
    """One attribute that differs: for drift, expected = last applied and actual = live;
    for a pending change, expected = the spec's (desired) value and actual = last applied."""

    name: str
    expected: Any
    actual: Any


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


@dataclass(frozen=True)
class Unmanaged:
    """A resource of the environment that no state entry manages."""

    workspace: str
    region: str
    kind: str
    id: str
    reason: str


@dataclass(frozen=True)
class ParityBreak:
    """An attribute the spec declares the same in both regions whose live values differ."""

    address: str
    attribute: str
    primary: Any
    secondary: Any


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
        """Attributes, over all resources, that the live reads cannot see."""
        return sum(len(r.unchecked) for r in self.resources)

    @property
    def has_drift(self) -> bool:
        """Anything drifted, missing, unmanaged or a parity break (exit code 2).

        Pending changes and unchecked attributes alone are not drift.
        """
        return bool(
            self.with_status(DRIFTED) or self.with_status(MISSING) or self.unmanaged or self.parity
        )


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------


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
    lives = _read_live(graph, nodes, states, clients, parallelism)
    desired = _resolve_desired(graph, nodes, states, clients)

    for node in nodes:
        if node.stored:
            report.resources.append(
                _compare(node, states[node.workspace].get(node.address), desired, lives)
            )
    for workspace in wanted:
        for address in states[workspace].addresses():
            if node_key(workspace, address) in graph:
                continue
            entry = states[workspace].get(address) or {}
            report.resources.append(
                ResourceDrift(
                    workspace,
                    address,
                    str(entry.get("type", "?")),
                    PENDING,
                    id=entry.get("id"),
                    reason="no longer in the spec: the next apply destroys it",
                )
            )
    report.resources.sort(key=lambda r: (WORKSPACES.index(r.workspace), r.address))

    live_ok = {r.key for r in report.resources if r.status in (IN_SYNC, DRIFTED, PENDING)}
    report.unmanaged = _unmanaged(graph, states, clients, wanted, live_ok)
    if "primary" in wanted and "secondary" in wanted:
        report.parity = _parity(graph, desired, lives, live_ok)

    delta = Counter(clients.counter.calls)
    delta.subtract(before)
    calls = {op: n for op, n in sorted(delta.items()) if n > 0}
    writes = {op: n for op, n in calls.items() if not is_read_operation(op.split(":", 1)[1])}
    if writes:
        raise DriftError(f"drift must only read, yet it made write calls: {writes}")
    report.calls = calls
    report.api_calls = sum(calls.values())
    return report


# The live value of a resource whose driver has no read: nothing can be checked.
UNREADABLE: dict[str, Any] = {"__unreadable__": True}


def _read_live(
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


def _resolve_desired(
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


def _compare(
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
    result.planned = [
        change
        for name, (have, want_value) in sorted(diff_attributes(want, applied).items())
        for change in _narrow(name, want_value, have)
    ]
    live = lives.get(node.key)
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
        change
        for name, (actual, expected) in sorted(drift.items())
        for change in _narrow(name, expected, actual)
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


def _narrow(path: str, expected: Any, actual: Any) -> list[AttributeChange]:
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
                out.extend(_narrow(f"{path}.{key}", expected[key], actual[key]))
        return out or [AttributeChange(path, expected, actual)]
    if (
        _is_blocks(expected)
        and len(expected) == 1
        and isinstance(actual, list)
        and len(actual) == 1
        and isinstance(actual[0], dict)
    ):
        out = []
        for key, value in expected[0].items():
            have = actual[0].get(key)
            if value is not None and not equivalent(value, have, top_level_name=key):
                out.extend(_narrow(f"{path}[0].{key}", value, have))
        return out or [AttributeChange(path, expected, actual)]
    return [AttributeChange(path, expected, actual)]


# ---------------------------------------------------------------------------------------------
# Unmanaged resources
# ---------------------------------------------------------------------------------------------

# ARN (service, resource type) → the Terraform type, for the kinds this environment uses.
ARN_KINDS: dict[tuple[str, str], str] = {
    ("s3", ""): "aws_s3_bucket",
    ("ec2", "vpc"): "aws_vpc",
    ("ec2", "subnet"): "aws_subnet",
    ("ec2", "security-group"): "aws_security_group",
    ("ec2", "route-table"): "aws_route_table",
    ("ec2", "internet-gateway"): "aws_internet_gateway",
    ("ec2", "natgateway"): "aws_nat_gateway",
    ("ec2", "elastic-ip"): "aws_eip",
    ("ec2", "vpc-endpoint"): "aws_vpc_endpoint",
    ("ec2", "vpc-flow-log"): "aws_flow_log",
    ("kms", "key"): "aws_kms_key",
    ("kms", "alias"): "aws_kms_alias",
    ("lambda", "function"): "aws_lambda_function",
    ("dynamodb", "table"): "aws_dynamodb_table",
    ("rds", "db"): "aws_db_instance",
    ("rds", "subgrp"): "aws_db_subnet_group",
    ("rds", "pg"): "aws_db_parameter_group",
    ("logs", "log-group"): "aws_cloudwatch_log_group",
    ("sns", ""): "aws_sns_topic",
    ("cloudwatch", "alarm"): "aws_cloudwatch_metric_alarm",
    ("cloudwatch", "dashboard"): "aws_cloudwatch_dashboard",
    ("acm", "certificate"): "aws_acm_certificate",
    ("secretsmanager", "secret"): "aws_secretsmanager_secret",
    ("iam", "role"): "aws_iam_role",
    ("route53", "hostedzone"): "aws_route53_zone",
    ("route53", "healthcheck"): "aws_route53_health_check",
    ("apigateway", "restapis"): "aws_api_gateway_rest_api",
    ("apigateway", "stages"): "aws_api_gateway_stage",
    ("apigateway", "domainnames"): "aws_api_gateway_domain_name",
}
ANY_REGION = "*"


def _parse_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(service, region, resource type, resource id) of an ARN, None if it is not one."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, region, resource = parts[2], parts[3], parts[5]
    if resource.endswith(":*"):
        resource = resource[:-2]
    resource = resource.lstrip("/")
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return service, region, "", resource
    return service, region, resource[:cut], resource[cut + 1 :]


def _arn_kind(parsed: tuple[str, str, str, str] | None) -> str:
    """The Terraform type an ARN names where known, else `service:resource-type`."""
    if parsed is None:
        return "unknown"
    service, _, rtype, rest = parsed
    if service == "apigateway" and "/" in rest:  # /restapis/<id>/stages/<name>
        rtype = rest.split("/")[-2]
    return ARN_KINDS.get((service, rtype), f"{service}:{rtype}" if rtype else service)


def _arn_candidates(arn: str) -> set[str]:
    """The ARN and the ids a state entry may use for the same resource."""
    out = {arn, arn.removesuffix(":*")}
    parsed = _parse_arn(arn)
    if parsed is not None:
        _, _, kind, rest = parsed
        out |= {rest, rest.rsplit("/", 1)[-1], rest.rsplit(":", 1)[-1]}
        if kind:
            out.add(f"{kind}/{rest}")
    return {c for c in out if c}


def _known_ids(graph: Graph, states: dict[str, State]) -> dict[str, set[str]]:
    """region (or ANY_REGION for global services) → the ids and ARNs state entries hold."""
    known: dict[str, set[str]] = {}
    for workspace, state in states.items():
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


def _unmanaged(
    graph: Graph,
    states: dict[str, State],
    clients: Clients,
    workspaces: list[str],
    live_ok: set[str],
) -> list[Unmanaged]:
    spec = graph.spec
    known = _known_ids(graph, states)
    found: dict[tuple[str, str], Unmanaged] = {}
    for workspace in workspaces:
        region = spec.region(workspace)
        for item in _unmanaged_in_vpcs(workspace, region, states, clients, known, live_ok):
            found[(region, item.id)] = item
    tag_filters = [
        {"Key": "Project", "Values": [spec.project]},
        {"Key": "Environment", "Values": [spec.environment_suffix]},
    ]
    for workspace in workspaces:
        region = spec.region(workspace)
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
                f"{workspace}: discovering tagged resources in {region} failed: "
                f"{describe_error(exc)}"
            ) from exc
        for mapping in mappings:
            arn = str(mapping.get("ResourceARN", ""))
            parsed = _parse_arn(arn)
            # ARNs without a region (S3, IAM, Route 53) may be any workspace's resource.
            candidates = all_ids if parsed is not None and not parsed[1] else ids
            if not arn or _arn_candidates(arn) & candidates or _derived(parsed):
                continue
            if (
                parsed is not None
                and parsed[0] == "s3"
                and _bucket_region(clients, region, parsed[3]) != region
            ):
                continue  # some endpoints list buckets in every region: report it in its own
            tags = {t.get("Key"): t.get("Value") for t in mapping.get("Tags", [])}
            owner = str(tags.get("Workspace") or workspace)
            if owner in WORKSPACES and owner not in workspaces and owner not in states:
                continue  # another workspace's resource, whose state we were not given
            kind = _arn_kind(parsed)
            duplicate = next(
                (key for key in found if key[0] == region and key[1] in _arn_candidates(arn)),
                None,
            )
            reason = (
                f"tagged Project={spec.project} Environment={spec.environment_suffix} "
                "but in no state"
            )
            if duplicate is not None:
                seen = found[duplicate]
                found[duplicate] = Unmanaged(
                    seen.workspace, seen.region, seen.kind, seen.id, f"{seen.reason}; {reason}"
                )
                continue
            # A global resource (no region in its ARN) is reported once, whichever region
            # listed it first.
            key = (region if parsed is None or parsed[1] else "", arn)
            if key in found:
                continue
            found[key] = Unmanaged(
                owner if owner in WORKSPACES else workspace, region, kind, arn, reason
            )
    return sorted(
        found.values(), key=lambda u: (_workspace_order(u.workspace), u.region, u.kind, u.id)
    )


def _derived(parsed: tuple[str, str, str, str] | None) -> bool:
    """Resources AWS makes on behalf of a managed one (and copies its tags to)."""
    if parsed is None:
        return False
    service, _, kind, rest = parsed
    if service == "rds" and kind in ("snapshot", "cluster-snapshot"):
        return rest.startswith("rds:")  # automated snapshots of a managed instance
    return service == "rds" and kind == "auto-backup"


def _bucket_region(clients: Clients, region: str, bucket: str) -> str:
    """The region of a bucket (S3's `null` location constraint is us-east-1)."""
    try:
        location = clients("s3", region).get_bucket_location(Bucket=bucket)
    except Exception as exc:
        raise DriftError(f"locating bucket {bucket} failed: {describe_error(exc)}") from exc
    constraint = str(location.get("LocationConstraint") or "us-east-1")
    return "eu-west-1" if constraint == "EU" else constraint


def _workspace_order(workspace: str) -> int:
    return WORKSPACES.index(workspace) if workspace in WORKSPACES else len(WORKSPACES)


def _unmanaged_in_vpcs(
    workspace: str,
    region: str,
    states: dict[str, State],
    clients: Clients,
    known: dict[str, set[str]],
    live_ok: set[str],
) -> Iterable[Unmanaged]:
    """Subnets, security groups and rules, route tables and routes nobody manages, per VPC."""
    state = states[workspace]
    entries = {a: state.get(a) or {} for a in state.addresses()}
    vpcs = [
        str(e["id"])
        for a, e in entries.items()
        if e.get("type") == "aws_vpc"
        and e.get("status") == "created"
        and e.get("id")
        and node_key(workspace, a) in live_ok
    ]
    if not vpcs:
        return
    ids = known.get(region, set()) | known.get(ANY_REGION, set())
    managed_routes: set[tuple[str, str]] = set()
    for entry in entries.values():
        applied = entry.get("applied") or {}
        if entry.get("type") == "aws_route":
            table = applied.get("route_table_id")
            for dest_key in (
                "destination_cidr_block",
                "destination_ipv6_cidr_block",
                "destination_prefix_list_id",
            ):
                if applied.get(dest_key):
                    managed_routes.add((str(table), str(applied[dest_key])))
        elif entry.get("type") == "aws_route_table" and entry.get("id"):
            for block in applied.get("route") or []:
                for dest_key in ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"):
                    if isinstance(block, dict) and block.get(dest_key):
                        managed_routes.add((str(entry["id"]), str(block[dest_key])))

    ec2 = clients("ec2", region)
    for vpc in vpcs:
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc]}]
        where = f"in managed VPC {vpc} but in no state"
        for subnet in paginate(ec2, "describe_subnets", "Subnets", Filters=vpc_filter):
            if subnet["SubnetId"] not in ids:
                yield Unmanaged(workspace, region, "aws_subnet", subnet["SubnetId"], where)

        managed_groups: list[str] = []
        for group in paginate(
            ec2, "describe_security_groups", "SecurityGroups", Filters=vpc_filter
        ):
            if group.get("GroupName") == "default":
                continue
            if group["GroupId"] in ids:
                managed_groups.append(group["GroupId"])
            else:
                yield Unmanaged(workspace, region, "aws_security_group", group["GroupId"], where)
        if managed_groups:
            for rule in paginate(
                ec2,
                "describe_security_group_rules",
                "SecurityGroupRules",
                Filters=[{"Name": "group-id", "Values": sorted(managed_groups)}],
            ):
                rule_id = str(rule.get("SecurityGroupRuleId", ""))
                if rule_id and rule_id not in ids:
                    kind = (
                        "aws_vpc_security_group_egress_rule"
                        if rule.get("IsEgress")
                        else "aws_vpc_security_group_ingress_rule"
                    )
                    yield Unmanaged(
                        workspace,
                        region,
                        kind,
                        rule_id,
                        f"a rule of managed security group {rule.get('GroupId')} in no state",
                    )

        for table in paginate(ec2, "describe_route_tables", "RouteTables", Filters=vpc_filter):
            table_id = table["RouteTableId"]
            if any(a.get("Main") for a in table.get("Associations", [])):
                continue
            if table_id not in ids:
                yield Unmanaged(workspace, region, "aws_route_table", table_id, where)
                continue
            for route in table.get("Routes", []):
                if route.get("GatewayId") == "local" or route.get("DestinationPrefixListId"):
                    continue
                destination = route.get("DestinationCidrBlock") or route.get(
                    "DestinationIpv6CidrBlock"
                )
                if destination and (table_id, destination) not in managed_routes:
                    yield Unmanaged(
                        workspace,
                        region,
                        "aws_route",
                        f"{table_id}_{destination}",
                        f"a route of managed route table {table_id} in no state",
                    )


# ---------------------------------------------------------------------------------------------
# Region parity
# ---------------------------------------------------------------------------------------------


def _parity(
    graph: Graph,
    desired: dict[str, dict[str, Any]],
    lives: dict[str, dict[str, Any] | None],
    live_ok: set[str],
) -> list[ParityBreak]:
    """The secondary's live attributes against the primary's, where the spec makes them equal."""
    spec = graph.spec
    regions = {ws: spec.region(ws) for ws in ("primary", "secondary")}
    breaks: list[ParityBreak] = []
    for node in graph.nodes("primary"):
        other_key = node_key("secondary", node.address)
        if not node.stored or other_key not in graph:
            continue
        other = graph.node(other_key)
        if other.type != node.type or node.key not in live_ok or other_key not in live_ok:
            continue
        live_p, live_s = lives.get(node.key), lives.get(other_key)
        if live_p is None or live_s is None:
            continue
        driver = resource_driver(node.type)
        checker = _ParityChecker(node.address, regions["primary"], regions["secondary"])
        for name in sorted(set(node.attributes) & set(other.attributes)):
            if name in driver.write_only or is_write_only(name):
                continue
            checker.compare(
                name,
                node.attributes[name],
                other.attributes[name],
                desired[node.key].get(name),
                desired[other_key].get(name),
                live_p.get(name),
                live_s.get(name),
                top_level=True,
            )
        breaks.extend(checker.breaks)
    return breaks


def _has_refs(value: Any) -> bool:
    return next(iter_refs(value), None) is not None


def _is_blocks(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class _ParityChecker:
    """Walks one attribute of both workspaces' nodes, as far as the spec makes them equal."""

    def __init__(self, address: str, primary_region: str, secondary_region: str) -> None:
        self.address = address
        self.regions = (primary_region, secondary_region)
        self.breaks: list[ParityBreak] = []

    def regionless(self, value: Any, index: int) -> Any:
        region = self.regions[index]
        if isinstance(value, str):
            return value.replace(region, REGION_PLACEHOLDER)
        if isinstance(value, dict):
            return {self.regionless(k, index): self.regionless(v, index) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.regionless(v, index) for v in value]
        return value

    def report(self, path: str, primary: Any, secondary: Any) -> None:
        self.breaks.append(ParityBreak(self.address, path, primary, secondary))

    def compare(
        self,
        path: str,
        want_p: Any,
        want_s: Any,
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
        top_level: bool = False,
    ) -> None:
        """want_*: unresolved desired; res_*: resolved desired; live_*: live values."""
        if isinstance(want_p, dict) and isinstance(want_s, dict):
            self._compare_map(path, want_p, want_s, res_p, res_s, live_p, live_s, top_level)
        elif _is_blocks(want_p) and _is_blocks(want_s):
            self._compare_blocks(path, want_p, want_s, res_p, res_s, live_p, live_s)
        elif _has_refs(want_p) or _has_refs(want_s):
            return  # region-specific by construction (a reference to the region's resource)
        elif isinstance(want_p, Interp | Json) or isinstance(want_s, Interp | Json):
            return
        elif self.regionless(want_p, 0) != self.regionless(want_s, 1):
            return  # the spec declares the value region-specific
        elif not _same(self.regionless(live_p, 0), self.regionless(live_s, 1)):
            self.report(path, live_p, live_s)

    def _compare_map(
        self,
        path: str,
        want_p: dict[str, Any],
        want_s: dict[str, Any],
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
        top_level: bool,
    ) -> None:
        """Maps (tags, environment variables): the same key set, and equal values where the
        spec gives both the same literal."""
        if not isinstance(live_p, dict) or not isinstance(live_s, dict):
            if (live_p is None) != (live_s is None):
                self.report(path, live_p, live_s)
            return
        tags = top_level and path in ("tags", "tags_all")
        keys_p = {k for k in live_p if not (tags and str(k).startswith("aws:"))}
        keys_s = {k for k in live_s if not (tags and str(k).startswith("aws:"))}
        if set(want_p) == set(want_s) and keys_p != keys_s:
            self.report(f"{path} (keys)", sorted(keys_p), sorted(keys_s))
        res_p = res_p if isinstance(res_p, dict) else {}
        res_s = res_s if isinstance(res_s, dict) else {}
        for key in sorted(set(want_p) & set(want_s) & keys_p & keys_s):
            self.compare(
                f"{path}.{key}",
                want_p[key],
                want_s[key],
                res_p.get(key),
                res_s.get(key),
                live_p[key],
                live_s[key],
            )

    def _compare_blocks(
        self,
        path: str,
        want_p: list[dict[str, Any]],
        want_s: list[dict[str, Any]],
        res_p: Any,
        res_s: Any,
        live_p: Any,
        live_s: Any,
    ) -> None:
        """Nested blocks: each desired block against the live block that stands for it."""
        if len(want_p) != len(want_s):
            return
        if not isinstance(live_p, list) or not isinstance(live_s, list):
            if bool(live_p) != bool(live_s):
                self.report(path, live_p, live_s)
            return
        used_p: set[int] = set()
        used_s: set[int] = set()
        res_p = res_p if isinstance(res_p, list) else []
        res_s = res_s if isinstance(res_s, list) else []
        for i, (block_p, block_s) in enumerate(zip(want_p, want_s, strict=True)):
            match_p = _best_block(live_p, res_p[i] if i < len(res_p) else block_p, used_p)
            match_s = _best_block(live_s, res_s[i] if i < len(res_s) else block_s, used_s)
            if match_p is None or match_s is None:
                if (match_p is None) != (match_s is None):
                    self.report(f"{path}[{i}]", match_p, match_s)
                continue
            rp = res_p[i] if i < len(res_p) and isinstance(res_p[i], dict) else {}
            rs = res_s[i] if i < len(res_s) and isinstance(res_s[i], dict) else {}
            for key in sorted(set(block_p) & set(block_s)):
                self.compare(
                    f"{path}[{i}].{key}",
                    block_p[key],
                    block_s[key],
                    rp.get(key),
                    rs.get(key),
                    match_p.get(key),
                    match_s.get(key),
                )


def _best_block(live: list[Any], want: Any, used: set[int]) -> dict[str, Any] | None:
    """The unused live block that agrees with the resolved desired block on most keys."""
    best: tuple[int, int] | None = None
    for index, candidate in enumerate(live):
        if index in used or not isinstance(candidate, dict):
            continue
        score = 0
        if isinstance(want, dict):
            score = sum(
                1
                for k, v in want.items()
                if v is not None and v is not UNKNOWN and equivalent(v, candidate.get(k), k)
            )
        if best is None or score > best[0]:
            best = (score, index)
    if best is None:
        return None
    used.add(best[1])
    block: dict[str, Any] = live[best[1]]
    return block


def _same(a: Any, b: Any) -> bool:
    """Two live values are the same, under diff's normalisation (both ways round)."""
    if a is None or b is None:
        return a is None and b is None
    return equivalent(a, b) and equivalent(b, a)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

_RED, _YELLOW, _MAGENTA, _CYAN, _GREEN = "\033[31m", "\033[33m", "\033[35m", "\033[36m", "\033[32m"
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"

# Sections of the table, in order: (key, title, colour).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (DRIFTED, "Drifted: changed outside the deployer", _RED),
    (MISSING, "Missing: deleted outside the deployer", _RED),
    ("unmanaged", "Unmanaged: in the environment but in no state", _YELLOW),
    ("parity", "Region parity breaks: secondary differs from primary", _MAGENTA),
    (PENDING, "Pending: the spec changed (a plan, not drift)", _CYAN),
    (UNCHECKED, "Unchecked: the live read cannot see these", _DIM),
    (IN_SYNC, "In sync", _GREEN),
)


def _value_text(value: Any, limit: int = 100) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    text = json.dumps(_json_value(value), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_value(value: Any) -> Any:
    if value is UNKNOWN:
        return {"unknown": True}
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def summary(report: DriftReport) -> dict[str, int]:
    """Counts: resources by status, findings, and unchecked attributes and resources."""
    counts = report.counts()
    return {
        "resources": len(report.resources),
        **counts,
        "unmanaged": len(report.unmanaged),
        "parity_breaks": len(report.parity),
        "unchecked_attributes": report.unchecked_count,
        "unchecked_resources": sum(1 for r in report.resources if r.unchecked),
    }


def _summary_line(report: DriftReport) -> str:
    s = summary(report)
    verdict = "Drift detected" if report.has_drift else "No drift"
    return (
        f"{verdict} in {', '.join(report.workspaces)}: {s[DRIFTED]} drifted, {s[MISSING]} "
        f"missing, {s['unmanaged']} unmanaged, {s['parity_breaks']} parity breaks; "
        f"{s[PENDING]} pending, {s[IN_SYNC]} in sync, {s['unchecked_attributes']} attributes "
        f"unchecked. {report.api_calls} read API calls."
    )


def _change_lines(changes: list[AttributeChange], pending: bool = False) -> list[str]:
    if pending:
        return [
            f"      ~ {c.name}: {_value_text(c.actual)} -> {_value_text(c.expected)}"
            for c in changes
        ]
    return [
        f"      ~ {c.name}: expected {_value_text(c.expected)}, actual {_value_text(c.actual)}"
        for c in changes
    ]


def render_table(report: DriftReport, colour: bool) -> str:
    """A report for people: one section per status or finding, ANSI colour when `colour`."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    sections: dict[str, list[str]] = {key: [] for key, _, _ in SECTIONS}
    counts: dict[str, int] = {key: 0 for key, _, _ in SECTIONS}
    for r in report.resources:
        if r.status == IN_SYNC:
            counts[IN_SYNC] += 1
            continue
        counts[r.status] += 1
        where = f"  {r.workspace:<9} {r.address}"
        if r.status in (DRIFTED, MISSING):
            sections[r.status].append(f"{where}  (id {r.id})")
            sections[r.status] += _change_lines(r.changes)
        elif r.status == PENDING:
            sections[PENDING].append(f"{where}  ({r.reason})")
            sections[PENDING] += _change_lines(r.planned, pending=True)
        else:
            sections[UNCHECKED].append(f"{where}  ({r.reason})")
    unchecked = [r for r in report.resources if r.unchecked and r.status != UNCHECKED]
    for r in unchecked:
        sections[UNCHECKED].append(f"  {r.workspace:<9} {r.address}: {', '.join(r.unchecked)}")
    counts[UNCHECKED] += sum(len(r.unchecked) for r in unchecked)
    width = max((len(u.kind) for u in report.unmanaged), default=0)
    for u in report.unmanaged:
        sections["unmanaged"].append(f"  {u.workspace:<9} {u.region:<14} {u.kind:<{width}}  {u.id}")
        sections["unmanaged"].append(f"      {u.reason}")
    counts["unmanaged"] = len(report.unmanaged)
    for p in report.parity:
        sections["parity"].append(f"  {p.address}  {p.attribute}")
        sections["parity"].append(
            f"      primary {_value_text(p.primary)}, secondary {_value_text(p.secondary)}"
        )
    counts["parity"] = len(report.parity)
    with_unchecked = sum(1 for r in report.resources if r.status == IN_SYNC and r.unchecked)
    if with_unchecked:
        sections[IN_SYNC].append(
            f"  ({with_unchecked} of them with unchecked attributes, listed above)"
        )

    lines: list[str] = []
    for key, title, code in SECTIONS:
        if not counts[key] and key != IN_SYNC:
            continue
        lines.append(paint(code + _BOLD if colour else "", f"{title} ({counts[key]})"))
        lines += sections[key]
        lines.append("")
    lines.append(paint(_RED if report.has_drift else _GREEN, _summary_line(report)))
    return "\n".join(lines)


def _change_json(change: AttributeChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "expected": _json_value(change.expected),
        "actual": _json_value(change.actual),
    }


def report_to_json(report: DriftReport) -> dict[str, Any]:
    """The report as the document described in docs/drift.md (format version 1)."""
    return {
        "format_version": FORMAT_VERSION,
        "workspaces": list(report.workspaces),
        "has_drift": report.has_drift,
        "summary": summary(report),
        "api_calls": report.api_calls,
        "api_calls_by_operation": dict(report.calls),
        "resources": [
            {
                "workspace": r.workspace,
                "address": r.address,
                "type": r.type,
                "id": r.id,
                "status": r.status,
                "reason": r.reason or None,
                "changes": [_change_json(c) for c in r.changes],
                "planned": [_change_json(c) for c in r.planned],
                "unchecked": list(r.unchecked),
            }
            for r in report.resources
        ],
        "unmanaged": [
            {
                "workspace": u.workspace,
                "region": u.region,
                "kind": u.kind,
                "id": u.id,
                "reason": u.reason,
            }
            for u in report.unmanaged
        ],
        "parity": [
            {
                "address": p.address,
                "attribute": p.attribute,
                "primary": _json_value(p.primary),
                "secondary": _json_value(p.secondary),
            }
            for p in report.parity
        ],
    }


def render_json(report: DriftReport) -> str:
    """The JSON document, keys sorted, so that two reports diff line by line."""
    return json.dumps(report_to_json(report), indent=2, sort_keys=True)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_value(value: Any) -> str:
    return f"`{_md(_value_text(value, 80))}`"


def render_markdown(report: DriftReport) -> str:
    """A report for a pull request or an audit ticket: a summary table, then one table per
    kind of finding."""
    s = summary(report)
    verdict = "Drift detected" if report.has_drift else "No drift"
    lines = [
        "## Drift report",
        "",
        f"**{verdict}** in {', '.join(f'`{w}`' for w in report.workspaces)} "
        f"({report.api_calls} read API calls, no write).",
        "",
        "| Finding | Count |",
        "| --- | ---: |",
    ]
    for key, label in (
        (DRIFTED, "Drifted"),
        (MISSING, "Missing"),
        ("unmanaged", "Unmanaged"),
        ("parity_breaks", "Parity breaks"),
        (PENDING, "Pending (not drift)"),
        (UNCHECKED, "Unreadable resources"),
        ("unchecked_attributes", "Unchecked attributes"),
        (IN_SYNC, "In sync"),
    ):
        lines.append(f"| {label} | {s[key]} |")
    drifted = [r for r in report.resources if r.status in (DRIFTED, MISSING)]
    if drifted:
        lines += [
            "",
            "### Drifted and missing resources",
            "",
            "| Workspace | Address | Status | Attribute | Expected | Actual |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in drifted:
            if not r.changes:
                lines.append(f"| {r.workspace} | `{_md(r.address)}` | {r.status} | | | |")
            for c in r.changes:
                lines.append(
                    f"| {r.workspace} | `{_md(r.address)}` | {r.status} | `{_md(c.name)}` | "
                    f"{_md_value(c.expected)} | {_md_value(c.actual)} |"
                )
    if report.unmanaged:
        lines += [
            "",
            "### Unmanaged resources",
            "",
            "| Workspace | Region | Kind | Id | Reason |",
            "| --- | --- | --- | --- | --- |",
        ]
        for u in report.unmanaged:
            lines.append(
                f"| {u.workspace} | {u.region} | `{_md(u.kind)}` | `{_md(u.id)}` | "
                f"{_md(u.reason)} |"
            )
    if report.parity:
        lines += [
            "",
            "### Region parity breaks",
            "",
            "| Address | Attribute | Primary | Secondary |",
            "| --- | --- | --- | --- |",
        ]
        for p in report.parity:
            lines.append(
                f"| `{_md(p.address)}` | `{_md(p.attribute)}` | {_md_value(p.primary)} | "
                f"{_md_value(p.secondary)} |"
            )
    pending = report.with_status(PENDING)
    if pending:
        lines += [
            "",
            "### Pending changes (the spec changed; not drift)",
            "",
            "| Workspace | Address | Reason | Attributes |",
            "| --- | --- | --- | --- |",
        ]
        for r in pending:
            names = ", ".join(f"`{_md(c.name)}`" for c in r.planned)
            lines.append(f"| {r.workspace} | `{_md(r.address)}` | {_md(r.reason)} | {names} |")
    unchecked = [r for r in report.resources if r.unchecked]
    if unchecked:
        lines += [
            "",
            "### Unchecked attributes (the live read cannot see them)",
            "",
            "| Workspace | Address | Attributes |",
            "| --- | --- | --- |",
        ]
        for r in unchecked:
            names = ", ".join(f"`{_md(n)}`" for n in r.unchecked)
            lines.append(f"| {r.workspace} | `{_md(r.address)}` | {names} |")
    lines.append("")
    return "\n".join(lines)
