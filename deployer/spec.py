"""spec.yaml: its typed shape, loading, and validation before any AWS call.

The shape is a tree of dataclasses; `load_spec` checks the YAML against it generically (unknown
keys, wrong types, missing required keys), then `check_semantics` checks what types cannot say
(CIDRs, regions, names). Every error names the spec path and, where known, its line.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from deployer.aws import DeployerError

# Regions where every service of the stack exists (RDS cross-region backups included).
KNOWN_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
        "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "sa-east-1",
    }
)  # fmt: skip

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$")
DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass
class Workspace:
    region: str


@dataclass
class Workspaces:
    primary: Workspace
    secondary: Workspace


@dataclass
class RegionNetwork:
    vpc_cidr: str
    public_subnets: list[str]
    private_subnets: list[str]


@dataclass
class Network:
    primary: RegionNetwork
    secondary: RegionNetwork
    # One NAT gateway per AZ (resilient) or a single one (cheaper).
    nat_gateways: Literal["per_az", "single"] = "per_az"
    # Log groups keep a year by default: PCI DSS (10.5.1) wants 12 months of audit log history.
    flow_logs_retention_days: int = 365


@dataclass
class Kms:
    deletion_window_days: int = 30
    rotation_period_days: int = 365


@dataclass
class S3Lifecycle:
    noncurrent_version_expiration_days: int = 90
    transition_to_ia_days: int = 30
    abort_incomplete_multipart_days: int = 7


@dataclass
class S3:
    lifecycle: S3Lifecycle = field(default_factory=S3Lifecycle)
    replication_storage_class: Literal["STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR"] = (
        "STANDARD"
    )


@dataclass
class DynamoDB:
    point_in_time_recovery: bool = True
    stream_view_type: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] = (
        "NEW_AND_OLD_IMAGES"
    )
    idempotency_ttl_hours: int = 24


@dataclass
class Rds:
    engine_version: str = "15.7"
    instance_class: str = "db.t3.medium"
    allocated_storage_gb: int = 50
    multi_az: bool = True
    backup_retention_days: int = 7
    deletion_protection: bool = True
    master_username: str = "payments_admin"
    database_name: str = "payments"
    replica_instance_class: str = "db.t3.medium"


@dataclass
class Lambda:
    runtime: str = "python3.12"
    memory_mb: int = 256
    timeout_s: int = 10
    log_retention_days: int = 365
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Concurrency reserved for the payment function: capacity no other function of the account
    # can take, and a cap so that a flood cannot use up the account's. None: no reservation.
    # AWS keeps 100 unreserved, so the account's quota must be at least this plus 100.
    reserved_concurrency: int | None = 100


@dataclass
class Api:
    stage: str = "prod"
    # Payment routes: IAM (SigV4) or an API key with a usage plan. /health is always open.
    auth: Literal["iam", "api_key"] = "iam"
    throttling_burst_limit: int = 100
    throttling_rate_limit: float = 50.0
    log_retention_days: int = 365


@dataclass
class Dns:
    domain: str
    # Create the hosted zone, or use an existing one with this id.
    zone_id: str | None = None
    api_subdomain: str = "api"
    health_check_interval_s: Literal[10, 30] = 30
    health_check_failure_threshold: int = 3


@dataclass
class Alarms:
    email: str | None = None
    rds_replica_lag_seconds: int = 300
    rds_cpu_percent: int = 80
    rds_free_storage_gb: int = 5
    lambda_errors: int = 5
    lambda_throttles: int = 1
    api_5xx: int = 5
    api_latency_p99_ms: int = 2000
    dynamodb_throttles: int = 1


@dataclass
class Failover:
    """Which workspace holds the single writers (the database). `deployer failover` and
    `deployer failback` rewrite `writer`, so that the spec says the topology state records."""

    writer: Literal["primary", "secondary"] = "primary"
    # `failover` refuses while the read replica lags more than this (seconds).
    max_replica_lag_s: int = 60


@dataclass
class BackendConfig:
    """Where state lives: `local` (the state directory) or `s3` (a bucket, with an S3 lock)."""

    type: Literal["local", "s3"] = "local"
    bucket: str | None = None
    region: str | None = None
    prefix: str = ""
    kms_key_id: str | None = None


REGION_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass
class Spec:
    project: str
    environment_suffix: str
    workspaces: Workspaces
    network: Network
    dns: Dns
    kms: Kms = field(default_factory=Kms)
    s3: S3 = field(default_factory=S3)
    dynamodb: DynamoDB = field(default_factory=DynamoDB)
    rds: Rds = field(default_factory=Rds)
    # `lambda` is a Python keyword: the YAML key is `lambda`, the attribute `lambda_`.
    lambda_: Lambda = field(default_factory=Lambda, metadata={"key": "lambda"})
    api: Api = field(default_factory=Api)
    alarms: Alarms = field(default_factory=Alarms)
    tags: dict[str, str] = field(default_factory=dict)
    # The regions' roles: read by the stack, written by `deployer failover`; the exported HCL
    # carries the topology it makes, not a variable.
    failover: Failover = field(default_factory=Failover, metadata={"export": False})
    # Where state lives: read by load_spec, not part of the environment (no Terraform variable).
    backend: BackendConfig | None = field(default=None, metadata={"internal": True})
    path: str = field(default="spec.yaml", metadata={"internal": True})

    def region(self, workspace: str) -> str:
        ws: Workspace = getattr(self.workspaces, workspace)
        return ws.region

    def workspace_network(self, workspace: str) -> RegionNetwork:
        net: RegionNetwork = getattr(self.network, workspace)
        return net

    def name(self, *parts: str) -> str:
        """A deterministic resource name carrying the environment suffix."""
        return "-".join((self.project, *parts, self.environment_suffix))

    def workspace_for(self, region_or_workspace: str) -> str:
        """`--region` takes a region name or a workspace name."""
        for ws in ("primary", "secondary"):
            if region_or_workspace in (ws, self.region(ws)):
                return ws
        raise DeployerError(
            f"--region {region_or_workspace}: not a workspace of this spec "
            f"(primary = {self.region('primary')}, secondary = {self.region('secondary')})"
        )


class SpecError(DeployerError):
    pass


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file; raise SpecError naming every problem found."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec: {exc.strerror}") from exc
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}: YAML syntax error: {problem}") from exc
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise SpecError("\n".join(f"{path}:{line}: {problem}" for line, problem in duplicates))
    lines = _line_numbers(root)
    errors: list[tuple[str, str]] = []
    backend = None
    if isinstance(raw, dict) and "backend" in raw:
        raw = dict(raw)
        backend = _build(BackendConfig, raw.pop("backend"), ("backend",), errors)
    spec = _build(Spec, raw, (), errors)
    if not errors:
        assert isinstance(spec, Spec)
        spec.path = str(path)
        spec.backend = backend
        errors.extend(check_semantics(spec))
    if errors:
        raise SpecError("\n".join(_format(path, p, msg, lines) for p, msg in errors))
    assert isinstance(spec, Spec)
    return spec


def _format(path: Path, spec_path: str, message: str, lines: dict[str, int]) -> str:
    line = lines.get(spec_path)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {spec_path or '(top level)'}: {message}"


def _duplicate_keys(node: yaml.Node | None, prefix: str = "") -> list[tuple[int, str]]:
    """Keys given twice in one mapping, with both lines: YAML loaders keep the last silently,
    so a second `rds:` section would replace the first without a word."""
    out: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            line = key.start_mark.line + 1
            if key.value in first:
                out.append(
                    (
                        line,
                        f"{path}: duplicate key (first at line {first[key.value]}, again at "
                        f"line {line}); give it once",
                    )
                )
            else:
                first[key.value] = line
            out.extend(_duplicate_keys(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.extend(_duplicate_keys(item, f"{prefix}[{i}]"))
    return out


def _line_numbers(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            out[path] = key.start_mark.line + 1
            out.update(_line_numbers(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}[{i}]"
            out[path] = item.start_mark.line + 1
            out.update(_line_numbers(item, path))
    return out


def _join(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _build(tp: Any, value: Any, path: tuple[str | int, ...], errors: list[tuple[str, str]]) -> Any:
    """Check `value` against type `tp`, returning the typed value (dataclasses built)."""
    where = _join(path)
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            errors.append((where, f"expected a mapping, got {_describe(value)}"))
            return None
        fields = {
            f.metadata.get("key", f.name): f
            for f in dataclasses.fields(tp)
            if not f.metadata.get("internal")
        }
        hints = typing.get_type_hints(tp)
        for key in value:
            if key not in fields:
                known = ", ".join(sorted(fields))
                errors.append((_join((*path, str(key))), f"unknown key (known keys: {known})"))
        kwargs: dict[str, Any] = {}
        for key, f in fields.items():
            if key in value:
                kwargs[f.name] = _build(hints[f.name], value[key], (*path, key), errors)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                errors.append((_join((*path, key)), "required key is missing"))
        try:
            return typing.cast(Any, tp)(**kwargs)
        except TypeError:
            return None
    if origin is Literal:
        if value not in typing.get_args(tp) or isinstance(value, bool):
            errors.append((where, f"expected {_type_name(tp)}, got {value!r}"))
        return value
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value, path, errors)
    if origin is list:
        if not isinstance(value, list):
            errors.append((where, f"expected {_type_name(tp)}, got {_describe(value)}"))
            return []
        (item_type,) = typing.get_args(tp)
        return [_build(item_type, v, (*path, i), errors) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            errors.append((where, f"expected a mapping, got {_describe(value)}"))
            return {}
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                errors.append((_join((*path, str(k))), "expected string keys and values"))
        return value
    ok = (
        isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        if tp is not float
        else isinstance(value, int | float) and not isinstance(value, bool)
    )
    if not ok:
        errors.append((where, f"expected {_type_name(tp)}, got {_describe(value)}"))
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "a mapping"
    )
    return f"{kind} ({value!r})" if not isinstance(value, dict | list) else kind


def check_semantics(spec: Spec) -> list[tuple[str, str]]:
    """What the types cannot say: names, regions, CIDRs and their layout."""
    errors: list[tuple[str, str]] = []
    errors.extend(_check_backend(spec.backend))
    if not DNS_LABEL.match(spec.environment_suffix):
        errors.append(
            (
                "environment_suffix",
                f"{spec.environment_suffix!r} is not DNS-safe: use 1-16 lower-case letters, "
                "digits or hyphens, starting and ending with a letter or digit",
            )
        )
    if not DNS_LABEL.match(spec.project):
        errors.append(
            ("project", f"{spec.project!r} must be 1-16 lower-case letters, digits or hyphens")
        )
    for ws in ("primary", "secondary"):
        region = spec.region(ws)
        if region not in KNOWN_REGIONS:
            errors.append((f"workspaces.{ws}.region", f"unknown region {region!r}"))
    if spec.region("primary") == spec.region("secondary"):
        errors.append(
            (
                "workspaces.secondary.region",
                f"the secondary workspace must be in another region than the primary "
                f"(both are {spec.region('primary')})",
            )
        )
    errors.extend(_check_network(spec.network))
    if not DOMAIN.match(spec.dns.domain):
        errors.append(("dns.domain", f"{spec.dns.domain!r} is not a valid domain name"))
    if not DNS_LABEL.match(spec.dns.api_subdomain):
        errors.append(("dns.api_subdomain", f"{spec.dns.api_subdomain!r} is not a DNS label"))
    positive = {
        "network.flow_logs_retention_days": spec.network.flow_logs_retention_days,
        "rds.allocated_storage_gb": spec.rds.allocated_storage_gb,
        "lambda.memory_mb": spec.lambda_.memory_mb,
        "lambda.timeout_s": spec.lambda_.timeout_s,
        "dynamodb.idempotency_ttl_hours": spec.dynamodb.idempotency_ttl_hours,
        "failover.max_replica_lag_s": spec.failover.max_replica_lag_s,
    }
    if spec.lambda_.reserved_concurrency is not None:
        positive["lambda.reserved_concurrency"] = spec.lambda_.reserved_concurrency
    for path, value in positive.items():
        if value <= 0:
            errors.append((path, f"must be positive, got {value}"))
    if spec.s3.lifecycle.transition_to_ia_days < 30:
        errors.append(
            (
                "s3.lifecycle.transition_to_ia_days",
                "S3 moves objects to STANDARD_IA after 30 days at the earliest",
            )
        )
    if not 7 <= spec.kms.deletion_window_days <= 30:
        errors.append(("kms.deletion_window_days", "must be between 7 and 30 (AWS's limits)"))
    if not 1 <= spec.rds.backup_retention_days <= 35:
        errors.append(("rds.backup_retention_days", "must be between 1 and 35"))
    return errors


def _check_network(network: Network) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    vpcs: dict[str, ipaddress.IPv4Network] = {}
    for ws in ("primary", "secondary"):
        net: RegionNetwork = getattr(network, ws)
        base = f"network.{ws}"
        vpc = _parse_cidr(net.vpc_cidr, f"{base}.vpc_cidr", errors)
        if vpc is not None:
            if not 16 <= vpc.prefixlen <= 28:
                errors.append((f"{base}.vpc_cidr", "a VPC's prefix must be between /16 and /28"))
            vpcs[ws] = vpc
        subnets: list[tuple[str, ipaddress.IPv4Network]] = []
        for kind in ("public_subnets", "private_subnets"):
            cidrs: list[str] = getattr(net, kind)
            if len(cidrs) != 3:
                errors.append(
                    (f"{base}.{kind}", f"needs exactly 3 subnets (one per AZ), got {len(cidrs)}")
                )
            for i, cidr in enumerate(cidrs):
                path = f"{base}.{kind}[{i}]"
                subnet = _parse_cidr(cidr, path, errors)
                if subnet is None:
                    continue
                if vpc is not None and not subnet.subnet_of(vpc):
                    errors.append((path, f"subnet {subnet} is outside the VPC {vpc}"))
                for other_path, other in subnets:
                    if subnet.overlaps(other):
                        errors.append((path, f"subnet {subnet} overlaps {other_path} ({other})"))
                subnets.append((path, subnet))
    if len(vpcs) == 2 and vpcs["primary"].overlaps(vpcs["secondary"]):
        errors.append(
            (
                "network.secondary.vpc_cidr",
                f"{vpcs['secondary']} overlaps the primary VPC {vpcs['primary']}",
            )
        )
    return errors


def _parse_cidr(
    text: str, path: str, errors: list[tuple[str, str]]
) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        errors.append((path, f"invalid CIDR {text!r}: {exc}"))
        return None


def _check_backend(backend: BackendConfig | None) -> list[tuple[str, str]]:
    if backend is None:
        return []
    errors: list[tuple[str, str]] = []
    if backend.type == "s3":
        if not backend.bucket:
            errors.append(("backend.bucket", "required when backend.type is s3"))
        elif not BUCKET_NAME.match(backend.bucket) or ".." in backend.bucket:
            errors.append(("backend.bucket", f"{backend.bucket!r} is not a valid S3 bucket name"))
        if backend.region is not None and not REGION_NAME.match(backend.region):
            errors.append(("backend.region", f"{backend.region!r} is not an AWS region name"))
    elif backend.bucket or backend.kms_key_id:
        errors.append(("backend", "bucket and kms_key_id apply only to backend.type s3"))
    return errors
