"""The local AWS emulator: moto's server plus the few actions moto 5.2 lacks.

Run as ``python -m deployer.emulator --host 127.0.0.1 --port N`` (``deployer sandbox start``
does this). It serves every service moto emulates on one loopback port, in the foreground,
until SIGTERM or SIGINT.

Before moto is imported the process sets, unless already set:

- ``MOTO_ACM_VALIDATION_WAIT=0``: ACM certificates are ISSUED at once (moto's default 60 s);
- ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``: AWS managed policies (``arn:aws:iam::aws:policy/...``)
  exist, as they always do on AWS.

The extensions below (``install_extensions``) add KMS custom rotation periods and RDS
``StartDBInstanceAutomatedBackupsReplication``
and ``StopDBInstanceAutomatedBackupsReplication``, and correct moto where it departs from AWS on
what the deployer relies on (each correction is a small patch of its own, listed in
``RDS_CORRECTIONS``, ``S3_CORRECTIONS``, ``DYNAMODB_CORRECTIONS``, ``EC2_CORRECTIONS``,
``LAMBDA_CORRECTIONS`` and ``APIGATEWAY_CORRECTIONS``):

- RDS: enhanced monitoring and Performance Insights settings, ModifyDBSubnetGroup,
  ResetDBParameterGroup, the `user` source of the parameters set, cross-region read replicas,
  and the refusal of a replica of a source whose master password Secrets Manager manages;
- S3: GetBucketReplication returns the configuration as it was put;
- DynamoDB: UpdateTable's stream changes (disable, then enable anew) and attribute definitions
  (merged, pruned to the keys in use), and TagResource on a key the table already has;
- EC2: DescribeVpcEndpoints filtered by `vpc-endpoint-id`;
- Lambda: a function's KMSKeyArn (the key of its environment variables) is kept and reported;
- API Gateway and ACM: UpdateDomainName, and ACM's refusal to delete a certificate in use; an
  integration created without a timeout reports AWS's default of 29000 ms.

It patches moto's classes, so it works in this server and in-process under ``moto.mock_aws``
alike. This module imports moto lazily: importing it has no side effect on the environment or on
moto.
"""

from __future__ import annotations

import argparse
import copy
import errno
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

# Environment the server process sets before importing moto, unless the caller set it already.
ENV_DEFAULTS: Mapping[str, str] = {
    "MOTO_ACM_VALIDATION_WAIT": "0",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}

# Exit status of the server when its port is taken (the sandbox then retries on another port).
EXIT_ADDRESS_IN_USE = 3

log = logging.getLogger("deployer.emulator")


def apply_env_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Set ``ENV_DEFAULTS`` in ``environ`` (default ``os.environ``) where not already set."""
    target = os.environ if environ is None else environ
    for name, value in ENV_DEFAULTS.items():
        target.setdefault(name, value)


# ---------------------------------------------------------------------------------------------
# RDS extension: cross-region replication of DB instance automated backups.
#
# Hooks (see install_extensions):
# - RDSResponse gains start_/stop_db_instance_automated_backups_replication. moto dispatches a
#   Query action by its snake_case name among the response class's methods, and serialises the
#   returned ActionResult against botocore's output shape, reading each member from the result
#   object by its snake_case attribute name (ReplicatedAutomatedBackup below).
# - RDSBackend gains the two matching methods and a wrapped describe_db_instance_automated_backups
#   that also returns the replications held by that (destination) region's backend.
# State: each destination RDSBackend holds its replications in its own __dict__ (so moto's reset
# clears them), and the source DBInstance lists them in `db_instance_automated_backups_replications`
# (shown by DescribeDBInstances, as on AWS; also the "already replicating" marker).
# ---------------------------------------------------------------------------------------------

_INSTALLED_MARK = "_deployer_extensions_installed"
_REPLICATIONS_ATTR = "_deployer_backup_replications"
_SOURCE_REPLICATIONS_ATTR = "db_instance_automated_backups_replications"
_install_lock = threading.Lock()
_replication_lock = threading.Lock()

# AWS: "You can replicate up to 20 backups to each destination AWS Region for each AWS account."
MAX_REPLICATED_BACKUPS_PER_REGION = 20
DEFAULT_REPLICATED_BACKUP_RETENTION_DAYS = 7

_DB_INSTANCE_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):rds:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):db:(?P<id>[^:]+)$"
)


def _rds_error(code: str, message: str) -> ServiceException:
    """An RDS error moto serialises with ``code`` and the HTTP status botocore's model gives it."""
    from moto.rds.exceptions import RDSClientError

    return RDSClientError(code, message)


@dataclass(eq=False)
class ReplicatedAutomatedBackup:
    """A ``DBInstanceAutomatedBackup`` replicated into another region.

    Attribute names are botocore's member names in snake_case: moto's serializer reads them.
    Engine, storage and the other instance properties are read from the source instance.
    """

    source: Any  # moto.rds.models.DBInstance
    source_backend: Any  # moto.rds.models.RDSBackend of the source region
    db_instance_automated_backups_arn: str
    kms_key_id: str | None
    backup_retention_period: int
    created: datetime
    tag_list: list[dict[str, str]] = field(default_factory=list)
    stopped: bool = False
    backup_target = "region"

    @property
    def status(self) -> str:
        source_gone = (
            self.source_backend.databases.get(self.db_instance_identifier) is not self.source
        )
        return "retained" if self.stopped or source_gone else "replicating"

    @property
    def db_instance_arn(self) -> str:
        return str(self.source.db_instance_arn)

    @property
    def db_instance_identifier(self) -> str:
        return str(self.source.db_instance_identifier)

    @property
    def dbi_resource_id(self) -> str:
        return str(self.source.dbi_resource_id)

    @property
    def region(self) -> str:
        return str(self.source_backend.region_name)

    @property
    def encrypted(self) -> bool:
        return bool(self.kms_key_id) or bool(getattr(self.source, "storage_encrypted", False))

    @property
    def restore_window(self) -> dict[str, datetime]:
        from moto.core.utils import utcnow

        return {"EarliestTime": self.created, "LatestTime": utcnow()}

    @property
    def iam_database_authentication_enabled(self) -> bool:
        return bool(getattr(self.source, "enable_iam_database_authentication", False))

    def __getattr__(self, name: str) -> Any:
        # Engine, storage, port, master user, ...: as the source instance has them.
        if name in _COPIED_FROM_SOURCE:
            return getattr(self.source, name, None)
        raise AttributeError(name)


_COPIED_FROM_SOURCE = frozenset(
    {
        "allocated_storage",
        "port",
        "instance_create_time",
        "master_username",
        "engine",
        "engine_version",
        "license_model",
        "iops",
        "storage_throughput",
        "storage_type",
        "preferred_backup_window",
    }
)


def _replications(backend: Any) -> dict[str, ReplicatedAutomatedBackup]:
    """Replications held by a destination-region backend, by automated-backups ARN."""
    registry: dict[str, ReplicatedAutomatedBackup] = backend.__dict__.setdefault(
        _REPLICATIONS_ATTR, {}
    )
    return registry


def _source_instance(backend: Any, source_arn: str) -> tuple[Any, Any]:
    """The source DB instance named by ``source_arn`` and its region's backend."""
    from moto.rds.models import rds_backends

    match = _DB_INSTANCE_ARN.match(source_arn or "")
    if match is None:
        raise _rds_error(
            "InvalidParameterValue",
            f"Invalid SourceDBInstanceArn: {source_arn!r} is not a DB instance ARN.",
        )
    account_backends = rds_backends[match["account"]]
    if match["region"] not in account_backends:
        raise _rds_error("DBInstanceNotFound", f"DBInstance {source_arn} not found.")
    source_backend = account_backends[match["region"]]
    instance = source_backend.databases.get(match["id"])
    if instance is None:
        raise _rds_error("DBInstanceNotFound", f"DBInstance {source_arn} not found.")
    return instance, source_backend


def _destination_key_arn(backend: Any, kms_key_id: str) -> str:
    """The ARN of ``kms_key_id`` (id, ARN or alias) in the destination region, or an error."""
    from moto.kms.models import kms_backends

    try:
        if kms_key_id.startswith("arn:") and kms_key_id.split(":")[3] != backend.region_name:
            raise LookupError(f"{kms_key_id} is not in {backend.region_name}")
        key = kms_backends[backend.account_id][backend.region_name].describe_key(kms_key_id)
    except Exception as exc:
        raise _rds_error(
            "KMSKeyNotAccessibleFault",
            f"KMS key {kms_key_id} does not exist or is not accessible in {backend.region_name}.",
        ) from exc
    return str(key.arn)


def _backend_start_replication(
    self: Any,
    source_db_instance_arn: str,
    kms_key_id: str | None = None,
    backup_retention_period: int | None = None,
    tags: Iterable[Mapping[str, str]] | None = None,
    **_: Any,
) -> ReplicatedAutomatedBackup:
    """RDSBackend.start_db_instance_automated_backups_replication, in the destination region."""
    from moto.core.utils import utcnow
    from moto.moto_api._internal import mock_random

    source, source_backend = _source_instance(self, source_db_instance_arn)
    if source_backend.region_name == self.region_name:
        raise _rds_error(
            "InvalidParameterValue",
            "The source DB instance must be in a different region from the replicated backups.",
        )
    if not getattr(source, "backup_retention_period", 0):
        raise _rds_error(
            "InvalidDBInstanceState",
            f"Automated backups are not enabled for DB instance {source.db_instance_identifier}.",
        )
    key_arn = _destination_key_arn(self, kms_key_id) if kms_key_id else None
    registry = _replications(self)
    with _replication_lock:
        if getattr(source, _SOURCE_REPLICATIONS_ATTR, None):
            raise _rds_error(
                "DBInstanceAutomatedBackupQuotaExceeded",
                f"DB instance {source.db_instance_identifier} is already replicating its "
                "automated backups.",
            )
        active = [r for r in registry.values() if r.status == "replicating"]
        if len(active) >= MAX_REPLICATED_BACKUPS_PER_REGION:
            raise _rds_error(
                "DBInstanceAutomatedBackupQuotaExceeded",
                f"At most {MAX_REPLICATED_BACKUPS_PER_REGION} automated backups can be replicated "
                f"to {self.region_name}.",
            )
        suffix = mock_random.get_random_string(26, lower_case=True)
        arn = (
            f"arn:{self.partition}:rds:{self.region_name}:{self.account_id}:auto-backup:ab-{suffix}"
        )
        replication = ReplicatedAutomatedBackup(
            source=source,
            source_backend=source_backend,
            db_instance_automated_backups_arn=arn,
            kms_key_id=key_arn,
            backup_retention_period=(
                DEFAULT_REPLICATED_BACKUP_RETENTION_DAYS
                if backup_retention_period is None
                else int(backup_retention_period)
            ),
            created=utcnow(),
            tag_list=[{"Key": t["Key"], "Value": t["Value"]} for t in tags or []],
        )
        registry[arn] = replication
        setattr(source, _SOURCE_REPLICATIONS_ATTR, [{"DBInstanceAutomatedBackupsArn": arn}])
    return replication


def _backend_stop_replication(
    self: Any, source_db_instance_arn: str, **_: Any
) -> ReplicatedAutomatedBackup:
    """RDSBackend.stop_db_instance_automated_backups_replication, in the destination region."""
    source, _source_backend = _source_instance(self, source_db_instance_arn)
    registry = _replications(self)
    with _replication_lock:
        replication = next(
            (r for r in registry.values() if r.source is source and r.status == "replicating"),
            None,
        )
        if replication is None:
            raise _rds_error(
                "InvalidDBInstanceState",
                f"DB instance {source.db_instance_identifier} is not replicating its automated "
                f"backups to {self.region_name}.",
            )
        del registry[replication.db_instance_automated_backups_arn]
        setattr(source, _SOURCE_REPLICATIONS_ATTR, [])
        replication.stopped = True
    return replication


def _filter_values(filters: Iterable[Mapping[str, Any]] | None) -> dict[str, set[str]]:
    return {f["Name"]: set(f.get("Values") or []) for f in filters or []}


def _wrap_describe(original: Any) -> Any:
    def describe_db_instance_automated_backups(
        self: Any,
        db_instance_identifier: str | None = None,
        dbi_resource_id: str | None = None,
        db_instance_automated_backups_arn: str | None = None,
        filters: Iterable[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """moto's automated backups of this region, plus the backups replicated into it."""
        wanted = _filter_values(filters)

        def keep(
            ident: str, arn: str | None, dbi: str | None, backup_arn: str | None, st: str
        ) -> bool:
            checks = [
                db_instance_identifier in (None, ident, arn),
                dbi_resource_id in (None, dbi),
                db_instance_automated_backups_arn in (None, backup_arn),
                "status" not in wanted or st in wanted["status"],
                "db-instance-id" not in wanted or bool(wanted["db-instance-id"] & {ident, arn}),
                "dbi-resource-id" not in wanted or dbi in wanted["dbi-resource-id"],
            ]
            return all(checks)

        native = [
            backup
            for backup in original(self, db_instance_identifier=None, **kwargs)
            if keep(
                backup.db_instance_identifier,
                getattr(self.databases.get(backup.db_instance_identifier), "arn", None),
                getattr(self.databases.get(backup.db_instance_identifier), "dbi_resource_id", None),
                None,
                backup.status,
            )
        ]
        replicated = [
            r
            for r in _replications(self).values()
            if keep(
                r.db_instance_identifier,
                r.db_instance_arn,
                r.dbi_resource_id,
                r.db_instance_automated_backups_arn,
                r.status,
            )
        ]
        found = native + replicated
        if not found and (dbi_resource_id or db_instance_automated_backups_arn):
            raise _rds_error(
                "DBInstanceAutomatedBackupNotFound",
                "No automated backup found for "
                f"{db_instance_automated_backups_arn or dbi_resource_id}.",
            )
        return found

    describe_db_instance_automated_backups.__wrapped__ = original  # type: ignore[attr-defined]
    return describe_db_instance_automated_backups


def _response_start_replication(self: Any) -> ActionResult:
    """RDSResponse action StartDBInstanceAutomatedBackupsReplication."""
    from moto.core.responses import ActionResult

    backup = self.backend.start_db_instance_automated_backups_replication(**self.params)
    return ActionResult({"DBInstanceAutomatedBackup": backup})


def _response_stop_replication(self: Any) -> ActionResult:
    """RDSResponse action StopDBInstanceAutomatedBackupsReplication."""
    from moto.core.responses import ActionResult

    backup = self.backend.stop_db_instance_automated_backups_replication(**self.params)
    return ActionResult({"DBInstanceAutomatedBackup": backup})


# ---------------------------------------------------------------------------------------------
# KMS extension: custom rotation periods (EnableKeyRotation's RotationPeriodInDays, 2024).
# moto 5.2 accepts the parameter but drops it and never reports RotationPeriodInDays; AWS keeps
# it (90-2560 days, default 365) and returns it from GetKeyRotationStatus.
# ---------------------------------------------------------------------------------------------

_ROTATION_PERIOD_ATTR = "_deployer_rotation_period_in_days"
DEFAULT_ROTATION_PERIOD_DAYS = 365


def _kms_enable_key_rotation(self: Any) -> str:
    import json

    from moto.kms.exceptions import ValidationException

    key_id = self._get_param("KeyId")
    period = self._get_param("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD_DAYS
    if not 90 <= int(period) <= 2560:
        raise ValidationException(
            f"1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed "
            "to satisfy constraint: Member must have value between 90 and 2560"
        )
    self._validate_cmk_id(key_id)
    self.kms_backend.enable_key_rotation(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    setattr(key, _ROTATION_PERIOD_ATTR, int(period))
    return json.dumps(None)


def _kms_get_key_rotation_status(self: Any) -> str:
    import json

    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
    body: dict[str, Any] = {"KeyId": key.id, "KeyRotationEnabled": key.key_rotation_status}
    if key.key_rotation_status:
        body["RotationPeriodInDays"] = getattr(
            key, _ROTATION_PERIOD_ATTR, DEFAULT_ROTATION_PERIOD_DAYS
        )
    return json.dumps(body)


# ---------------------------------------------------------------------------------------------
# RDS corrections: moto 5.2 departs from RDS in the ways below. Each is one small patch that
# `_patch` applies at most once (it marks the functions it installs), so that calling
# install_extensions again, or from the server and a test in one process, changes nothing.
# ---------------------------------------------------------------------------------------------

_PATCHES_ATTR = "_deployer_patches"
Wrapper = Callable[[Any], Any]


def _patch(owner: Any, name: str, tag: str, make: Wrapper) -> None:
    """Replace ``owner.name`` by ``make(current)`` unless the patch ``tag`` is already there.

    Patches of one method stack: each wraps what is installed, and the tags accumulate.
    """
    current = getattr(owner, name, None)
    applied: frozenset[str] = getattr(current, _PATCHES_ATTR, frozenset())
    if tag in applied:
        return
    replacement = make(current)
    setattr(replacement, _PATCHES_ATTR, applied | {tag})
    replacement.__wrapped__ = current
    setattr(owner, name, replacement)


# --- RDS: enhanced monitoring and Performance Insights ----------------------------------------
# moto drops MonitoringInterval, MonitoringRoleArn and the Performance Insights settings at
# CreateDBInstance and CreateDBInstanceReadReplica, and never reports MonitoringInterval or
# PerformanceInsightsEnabled. AWS keeps and reports them (0 and false when unset), refuses an
# interval outside 0/1/5/10/15/30/60 and a non-zero interval without a monitoring role, and
# defaults the Performance Insights retention to 7 days. A read replica has its own settings:
# it does not inherit the source's.

MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
_MONITORING_SETTINGS = (
    "monitoring_interval",
    "monitoring_role_arn",
    "performance_insights_enabled",
    "performance_insights_kms_key_id",
    "performance_insights_retention_period",
)
# What DescribeDBInstances reports for an instance that never set them (class attributes, read
# by moto's serializer where an instance has no value of its own).
_MONITORING_DEFAULTS: Mapping[str, Any] = {
    "monitoring_interval": 0,
    "monitoring_role_arn": None,
    "performance_insights_enabled": False,
    "performance_insights_kms_key_id": None,
    "performance_insights_retention_period": None,
}


def _check_monitoring(db_kwargs: Mapping[str, Any], current: Any = None) -> None:
    """AWS's checks of the monitoring settings an instance would have after the call."""
    requested = db_kwargs.get("monitoring_interval")
    interval = int(getattr(current, "monitoring_interval", 0) if requested is None else requested)
    if interval not in MONITORING_INTERVALS:
        raise _rds_error(
            "InvalidParameterValue",
            f"Invalid value {interval} for MonitoringInterval: valid values are "
            f"{', '.join(map(str, MONITORING_INTERVALS))}.",
        )
    role = db_kwargs.get("monitoring_role_arn") or getattr(current, "monitoring_role_arn", None)
    if interval and not role:
        raise _rds_error(
            "InvalidParameterCombination",
            "A MonitoringRoleARN value is required if you specify a MonitoringInterval value "
            "other than 0.",
        )


def _apply_monitoring(db: Any, db_kwargs: Mapping[str, Any]) -> None:
    for name in ("monitoring_interval", "monitoring_role_arn"):
        if db_kwargs.get(name) is not None:
            setattr(db, name, db_kwargs[name])
    db.__dict__.pop("enable_performance_insights", None)  # moto's update sets it as is
    enabled = db_kwargs.get("enable_performance_insights")
    if enabled is not None:
        db.performance_insights_enabled = bool(enabled)
        if not enabled:  # AWS reports neither key nor retention once it is off
            db.__dict__.pop("performance_insights_kms_key_id", None)
            db.__dict__.pop("performance_insights_retention_period", None)
    for name in ("performance_insights_kms_key_id", "performance_insights_retention_period"):
        if db_kwargs.get(name) is not None:
            setattr(db, name, db_kwargs[name])
    if db.performance_insights_enabled and db.performance_insights_retention_period is None:
        db.performance_insights_retention_period = DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS


def _monitoring_on_create(original: Any) -> Any:
    def create_db_instance(self: Any, db_kwargs: dict[str, Any]) -> Any:
        _check_monitoring(db_kwargs)
        db = original(self, db_kwargs)
        _apply_monitoring(db, db_kwargs)
        return db

    return create_db_instance


def _monitoring_on_modify(original: Any) -> Any:
    def modify_db_instance(self: Any, db_instance_identifier: str, db_kwargs: Any) -> Any:
        current = self.describe_db_instances(db_instance_identifier)[0]
        _check_monitoring(db_kwargs, current)
        db = original(self, db_instance_identifier, db_kwargs)
        _apply_monitoring(db, db_kwargs)
        return db

    return modify_db_instance


def _monitoring_on_replica(original: Any) -> Any:
    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        _check_monitoring(db_kwargs)
        replica = original(self, db_kwargs)
        for name in _MONITORING_SETTINGS:  # copied from the source by moto: not the replica's
            replica.__dict__.pop(name, None)
        _apply_monitoring(replica, db_kwargs)
        return replica

    return create_db_instance_read_replica


def _install_rds_monitoring() -> None:
    from moto.rds.models import DBInstance, RDSBackend

    for name, default in _MONITORING_DEFAULTS.items():
        if name not in vars(DBInstance):
            setattr(DBInstance, name, default)
    _patch(RDSBackend, "create_db_instance", "monitoring", _monitoring_on_create)
    _patch(RDSBackend, "modify_db_instance", "monitoring", _monitoring_on_modify)
    _patch(RDSBackend, "create_db_instance_read_replica", "monitoring", _monitoring_on_replica)


# --- RDS: ModifyDBSubnetGroup -----------------------------------------------------------------
# moto pops the group out of the region while modifying it and never puts it back, so the group
# is gone afterwards (and a missing group raises a Python KeyError rather than
# DBSubnetGroupNotFoundFault).


def _subnet_group_modify(original: Any) -> Any:
    def modify_db_subnet_group(
        self: Any, subnet_name: str, description: str | None, subnets: Any
    ) -> Any:
        from moto.rds.exceptions import DBSubnetGroupNotFoundError

        if subnet_name not in self.subnet_groups:
            raise DBSubnetGroupNotFoundError(subnet_name)
        group = original(self, subnet_name, description, subnets)
        self.subnet_groups[subnet_name] = group
        return group

    return modify_db_subnet_group


def _install_rds_subnet_group_modify() -> None:
    from moto.rds.models import RDSBackend

    _patch(RDSBackend, "modify_db_subnet_group", "keeps-the-group", _subnet_group_modify)


# --- RDS: ResetDBParameterGroup ---------------------------------------------------------------
# Not implemented by moto. On AWS it returns the named parameters (or, with ResetAllParameters,
# all of them) to the family's defaults: they are no longer reported as `user` parameters, which
# is all moto's DescribeDBParameters lists.


def _backend_reset_parameter_group(
    self: Any, db_parameter_group_name: str, reset_all: bool, names: Iterable[str]
) -> Any:
    from moto.rds.exceptions import DBParameterGroupNotFoundError

    group = self.db_parameter_groups.get(db_parameter_group_name)
    if group is None:
        raise DBParameterGroupNotFoundError(db_parameter_group_name)
    names = list(names)
    if reset_all == bool(names):
        raise _rds_error(
            "InvalidParameterCombination",
            "Specify either ResetAllParameters or a list of Parameters to reset.",
        )
    if reset_all:
        group.parameters.clear()
    for name in names:
        group.parameters.pop(name, None)
    return group


def _response_reset_parameter_group(self: Any) -> ActionResult:
    """RDSResponse action ResetDBParameterGroup."""
    from moto.core.responses import ActionResult

    group = self.backend.reset_db_parameter_group(
        self.params.get("DBParameterGroupName"),
        bool(self.params.get("ResetAllParameters")),
        [p["ParameterName"] for p in self.params.get("Parameters") or []],
    )
    return ActionResult({"DBParameterGroupName": group.name})


def _install_rds_reset_parameter_group() -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    _patch(
        RDSBackend, "reset_db_parameter_group", "reset", lambda _: _backend_reset_parameter_group
    )
    _patch(
        RDSResponse, "reset_db_parameter_group", "reset", lambda _: _response_reset_parameter_group
    )


# --- RDS: read replicas are instances of their own ----------------------------------------------
# moto makes a replica as a shallow copy of its source. For a cross-region replica that means:
# - DBSubnetGroupName is looked up in the source's region (a group of that name there is used;
#   none there fails), while AWS uses the group of the replica's own region;
# - the replica shares the source's lists (log exports, tags, security groups, roles): changing
#   one changes the other; it also shows the source's automated-backups replications;
# - it shares the source's managed master-user secret, and deleting it deletes that secret;
# - the source lists it by ARN but removes it by identifier, so deleting the replica fails with a
#   Python ValueError (an HTTP 500).
# AWS exports to CloudWatch Logs what the replica's own request names.


def _replica_of_its_own(original: Any) -> Any:
    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])
        subnet_group = db_kwargs.pop("db_subnet_group_name", None)
        replica = original(self, db_kwargs)
        shared = vars(source)
        for name, value in list(vars(replica).items()):
            if isinstance(value, list | dict | set) and shared.get(name) is value:
                setattr(replica, name, copy.copy(value))
        replica.enabled_cloudwatch_logs_exports = list(
            db_kwargs.get("enable_cloudwatch_logs_exports") or []
        )
        replica.__dict__.pop(_SOURCE_REPLICATIONS_ATTR, None)
        replica.__dict__.pop("master_user_secret", None)
        replica.manage_master_user_password = False
        if subnet_group is not None:
            replica.db_subnet_group_name = subnet_group  # resolved in the replica's region now
        return replica

    return create_db_instance_read_replica


def _remove_replica(_original: Any) -> Any:
    def remove_replica(self: Any, replica: Any) -> None:
        for reference in (replica.db_instance_identifier, replica.db_instance_arn):
            if reference in self.replicas:
                self.replicas.remove(reference)

    return remove_replica


def _install_rds_replicas() -> None:
    from moto.rds.models import DBInstance, RDSBackend

    _patch(RDSBackend, "create_db_instance_read_replica", "own-instance", _replica_of_its_own)
    _patch(DBInstance, "remove_replica", "by-arn-too", _remove_replica)


# --- RDS: no replica of a source whose master password Secrets Manager manages ------------------
# AWS refuses CreateDBInstanceReadReplica when the source has ManageMasterUserPassword, for every
# engine but SQL Server (RDS User Guide, "Password management with Amazon RDS and AWS Secrets
# Manager", limitations); moto creates the replica.


def _refuse_managed_password_source(original: Any) -> Any:
    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])
        engine = str(getattr(source, "engine", ""))
        if getattr(source, "manage_master_user_password", False) and not engine.startswith(
            "sqlserver"
        ):
            raise _rds_error(
                "InvalidParameterValue",
                f"Creating read replicas for source instance with engine {engine} where "
                "ManageMasterUserPassword is enabled is not supported.",
            )
        return original(self, db_kwargs)

    return create_db_instance_read_replica


def _install_rds_managed_password_replicas() -> None:
    from moto.rds.models import RDSBackend

    _patch(
        RDSBackend,
        "create_db_instance_read_replica",
        "refuse-managed-password-source",
        _refuse_managed_password_source,
    )


# --- RDS: the source of a parameter's value ------------------------------------------------
# DescribeDBParameters reports each parameter's `Source` (`engine-default`, `system` or `user`)
# and its `Source` filter returns only those (RDS API reference, DescribeDBParameters and
# Parameter). moto keeps only the parameters that were set (CreateDBParameterGroup has none,
# ModifyDBParameterGroup sets them), which on AWS are exactly the `user` ones, but reports no
# Source and ignores the filter: Terraform's provider then drops them from a refreshed state.


def _parameters_with_source(original: Any) -> Any:
    def describe_db_parameters(self: Any) -> ActionResult:
        from moto.core.responses import ActionResult

        answer: ActionResult = original(self)
        result: Any = answer.result
        parameters = [
            {**parameter, "Source": parameter.get("Source") or "user"}
            for parameter in result["Parameters"]
        ]
        wanted = self.params.get("Source")
        if wanted:
            parameters = [p for p in parameters if p["Source"] == wanted]
        return ActionResult({**result, "Parameters": parameters})

    return describe_db_parameters


def _install_rds_parameter_source() -> None:
    from moto.rds.responses import RDSResponse

    _patch(RDSResponse, "describe_db_parameters", "source", _parameters_with_source)


# The RDS corrections, in the order they are applied (later ones wrap earlier ones).
RDS_CORRECTIONS: tuple[Callable[[], None], ...] = (
    _install_rds_monitoring,
    _install_rds_subnet_group_modify,
    _install_rds_reset_parameter_group,
    _install_rds_parameter_source,
    _install_rds_replicas,
    _install_rds_managed_password_replicas,
)


# ---------------------------------------------------------------------------------------------
# S3 corrections (applied with `_patch`, as the RDS ones).
# ---------------------------------------------------------------------------------------------

# --- S3: GetBucketReplication returns the configuration that was put --------------------------
# moto keeps PutBucketReplication's document, but GetBucketReplication rebuilds each rule from
# its ID, Priority, Status and Destination alone, adding `Filter` {"Prefix": ""} and
# `DeleteMarkerReplication` Disabled whatever was put: SourceSelectionCriteria,
# ExistingObjectReplication, the rule's own Filter (or V1 Prefix) and DeleteMarkerReplication are
# lost. AWS returns the rules as they were put, every member included (and an ID S3 chose for a
# rule put without one). moto also gives a rule put without a Priority priority 1; AWS reports
# none for a V1 rule (a Prefix, no Filter), as it was put.
#
# moto stores the request body as xmltodict parsed it (XML element names, text values, a single
# repeated element as a dict, an empty element as None); `_from_parsed_xml` reads it back through
# botocore's shape of the configuration, so that moto's serializer writes every member.


def _from_parsed_xml(value: Any, shape: Any) -> Any:
    """``value`` (an xmltodict element) as the botocore ``shape`` describes it, for serializing."""
    kind = shape.type_name
    if kind == "structure":
        element = value if isinstance(value, dict) else {}
        return {
            name: _from_parsed_xml(element[member.serialization.get("name", name)], member)
            for name, member in shape.members.items()
            if member.serialization.get("name", name) in element
        }
    if kind == "list":
        if shape.serialization.get("flattened"):
            items = value
        else:
            items = (value or {}).get(shape.member.serialization.get("name", "member"))
        if items is None:
            return []
        return [_from_parsed_xml(item, shape.member) for item in _as_list(items)]
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return "" if value is None else value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _replication_get_as_put(_original: Any) -> Any:
    def get_bucket_replication(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.core.utils import get_service_model
        from moto.s3.exceptions import ReplicationConfigurationNotFoundError

        self.data["Action"] = "GetBucketReplication"
        stored = self.backend.get_bucket_replication(self.bucket_name)
        if not stored:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        output = get_service_model("s3").operation_model("GetBucketReplication").output_shape
        config = _from_parsed_xml(stored, output.members["ReplicationConfiguration"])
        return self.serialized(ActionResult({"ReplicationConfiguration": config}))

    return get_bucket_replication


def _replication_put_v1_priority(original: Any) -> Any:
    def put_bucket_replication(self: Any, bucket_name: str, replication: dict[str, Any]) -> None:
        rules = [r for r in _as_list(replication.get("Rule") or []) if isinstance(r, dict)]
        v1_unprioritised = [r for r in rules if "Priority" not in r and "Filter" not in r]
        original(self, bucket_name, replication)  # keeps these rule dicts, adds Priority 1
        for rule in v1_unprioritised:
            rule.pop("Priority", None)

    return put_bucket_replication


def _install_s3_replication_as_put() -> None:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    _patch(S3Response, "get_bucket_replication", "as-put", _replication_get_as_put)
    _patch(S3Backend, "put_bucket_replication", "v1-priority", _replication_put_v1_priority)


S3_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_s3_replication_as_put,)


# --- EC2: DescribeVpcEndpoints by the `vpc-endpoint-id` filter ----------------------------------
# AWS filters endpoints by id (the deployer's batched reads ask for many at once that way);
# moto 5.2 answers "not implemented" for that filter.


def _endpoint_id_filter(original: Any) -> Any:
    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "vpc-endpoint-id":
            return self.id
        return original(self, filter_name, method_name)

    return get_filter_value


def _install_ec2_endpoint_id_filter() -> None:
    from moto.ec2.models.vpcs import VPCEndPoint

    _patch(VPCEndPoint, "get_filter_value", "endpoint-id", _endpoint_id_filter)


EC2_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_ec2_endpoint_id_filter,)


# --- API Gateway and ACM: a custom domain and its certificate ----------------------------------
# moto 5.2 has no UpdateDomainName (AWS replaces the domain's fields by patch operations, the
# certificate among them), and deletes a certificate that a custom domain still uses, which
# ACM refuses (ResourceInUseException): the order of a certificate replacement matters on AWS.


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _update_domain_name(self: Any) -> str:
    from urllib.parse import unquote

    from moto.apigateway.exceptions import BadRequestException

    domain = self.backend.get_domain_name(unquote(self.path.split("/")[2]))
    for operation in self._get_param("patchOperations") or []:
        attribute = _camel_to_snake(str(operation.get("path", "")).strip("/"))
        if operation.get("op") != "replace" or not hasattr(domain, attribute):
            raise BadRequestException(f"Invalid patch operation {operation}")
        setattr(domain, attribute, operation.get("value"))
    return json.dumps(domain.to_json())


def _refuse_certificate_in_use(original: Any) -> Any:
    def delete_certificate(self: Any, arn: str) -> None:
        from moto.acm.exceptions import AWSError
        from moto.apigateway.models import apigateway_backends

        class ResourceInUse(AWSError):
            TYPE = "ResourceInUseException"

        domains = apigateway_backends[self.account_id][self.region_name].domain_names.values()
        users = [
            d.domain_name for d in domains if arn in (d.certificate_arn, d.regional_certificate_arn)
        ]
        if users:
            raise ResourceInUse(message=f"Certificate {arn} is in use by {', '.join(users)}")
        original(self, arn)

    return delete_certificate


def _install_domain_certificates() -> None:
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.apigateway.responses import APIGatewayResponse

    if not hasattr(APIGatewayResponse, "update_domain_name"):
        setattr(APIGatewayResponse, "update_domain_name", _update_domain_name)  # noqa: B010
    _patch(AWSCertificateManagerBackend, "delete_certificate", "in-use", _refuse_certificate_in_use)


# --- API Gateway: an integration's default timeout ---------------------------------------------
# AWS reports `timeoutInMillis` 29000 for an integration created without one ("The default value
# is 29,000 milliseconds or 29 seconds": API Gateway REST API reference, Integration,
# timeoutInMillis); moto reports none, which Terraform reads as 0 and then plans to change.
DEFAULT_INTEGRATION_TIMEOUT_MS = 29000


def _integration_default_timeout(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        if self.timeout_in_millis in (None, ""):
            self.timeout_in_millis = DEFAULT_INTEGRATION_TIMEOUT_MS

    return __init__


def _install_integration_default_timeout() -> None:
    from moto.apigateway.models import Integration

    _patch(Integration, "__init__", "default-timeout", _integration_default_timeout)


APIGATEWAY_CORRECTIONS: tuple[Callable[[], None], ...] = (
    _install_domain_certificates,
    _install_integration_default_timeout,
)


# ---------------------------------------------------------------------------------------------
# DynamoDB corrections (applied with `_patch`, as the RDS ones).
# ---------------------------------------------------------------------------------------------

# --- DynamoDB: a stream is disabled, then enabled anew ----------------------------------------
# AWS (UpdateTable, StreamSpecification): "You receive a ValidationException if you try to enable
# a stream on a table that already has a stream, or if you try to disable a stream on a table
# that doesn't have a stream." Once disabled, a stream can be enabled again, with any view type
# (a new stream: new label and ARN); that is how the view type of a table's stream changes.
# moto refuses every enable once the table ever had a stream (ResourceInUseException, so a
# disabled stream never comes back), accepts disabling a stream that is not there, and
# re-enables the stream when a disable names a view type.


def _streams_disable_then_enable(_original: Any) -> Any:
    def update_table_streams(self: Any, table: Any, stream_specification: dict[str, Any]) -> None:
        from moto.dynamodb.exceptions import MockValidationException

        enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
        if stream_specification.get("StreamEnabled"):
            if enabled:
                raise MockValidationException(
                    f"Table already has an enabled stream: TableName: {table.name}"
                )
            table.set_stream_specification(dict(stream_specification))
        else:
            if not enabled:
                raise MockValidationException(
                    f"Table has no enabled stream to disable: TableName: {table.name}"
                )
            table.set_stream_specification({"StreamEnabled": False})

    return update_table_streams


def _install_dynamodb_streams() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(
        DynamoDBBackend,
        "update_table_streams",
        "disable-then-enable",
        _streams_disable_then_enable,
    )


# --- DynamoDB: UpdateTable's AttributeDefinitions -----------------------------------------------
# A table's AttributeDefinitions are those of the attributes its key schema and its indexes' key
# schemas use. UpdateTable's AttributeDefinitions add to (or restate) them, and "if you are
# adding a new global secondary index to the table, AttributeDefinitions must include the key
# element(s) of the new index" (AWS UpdateTable); once an index is deleted, the definitions only
# its keys used are gone. moto replaces the table's definitions by the request's (losing the
# table's own key definitions when the request leaves them out), never drops a deleted index's,
# and creates an index whose keys the request does not define.


def _attribute_definitions_merged(original: Any) -> Any:
    def update_table(
        self: Any,
        name: str,
        attr_definitions: list[dict[str, str]] | None,
        global_index: list[dict[str, Any]] | None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        from moto.dynamodb.exceptions import MockValidationException

        requested = {a["AttributeName"]: dict(a) for a in attr_definitions or []}
        for update in global_index or []:
            keys = [k["AttributeName"] for k in (update.get("Create") or {}).get("KeySchema", [])]
            missing = [k for k in keys if k not in requested]
            if missing:
                raise MockValidationException(
                    "One or more parameter values were invalid: Some index key attributes are "
                    f"not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
                    f"AttributeDefinitions: [{', '.join(requested)}]"
                )
        defined = {a["AttributeName"]: a for a in self.get_table(name).attr}
        table = original(self, name, attr_definitions, global_index, *args, **kwargs)
        defined.update(requested)
        used = {k["AttributeName"] for k in table.schema}
        for index in [*table.global_indexes, *table.indexes]:
            used |= {k["AttributeName"] for k in index.schema}
        table.attr = [a for attribute, a in defined.items() if attribute in used]
        return table

    return update_table


def _install_dynamodb_attribute_definitions() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(DynamoDBBackend, "update_table", "merged-definitions", _attribute_definitions_merged)


# --- DynamoDB: TagResource replaces the value of a key the table already has --------------------
# On AWS a resource has one value per tag key: tagging with a key it already has overwrites that
# value. moto appends, so ListTagsOfResource then lists the key twice, old value and new.


def _tags_overwritten(_original: Any) -> Any:
    def tag_resource(self: Any, table_arn: str, tags: list[dict[str, str]]) -> None:
        for table in self.tables.values():
            if table.table_arn != table_arn:
                continue
            values = {t["Key"]: t["Value"] for t in table.tags}
            values.update({t["Key"]: t["Value"] for t in tags})
            table.tags = [{"Key": key, "Value": value} for key, value in values.items()]

    return tag_resource


def _install_dynamodb_tags() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    _patch(DynamoDBBackend, "tag_resource", "overwrites", _tags_overwritten)


DYNAMODB_CORRECTIONS: tuple[Callable[[], None], ...] = (
    _install_dynamodb_streams,
    _install_dynamodb_attribute_definitions,
    _install_dynamodb_tags,
)


# ---------------------------------------------------------------------------------------------
# Lambda corrections (applied with `_patch`, as the RDS ones).
# ---------------------------------------------------------------------------------------------

# --- Lambda: the customer-managed key of a function's environment ------------------------------
# AWS keeps CreateFunction's and UpdateFunctionConfiguration's KMSKeyArn and reports it in the
# function's configuration (absent while Lambda's own key is used; an empty KMSKeyArn goes back
# to it). moto accepts the parameter and drops it.


def _lambda_kms_on_create(original: Any) -> Any:
    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original(self, account_id, spec, *args, **kw)
        self.kms_key_arn = spec.get("KMSKeyArn") or None

    return __init__


def _lambda_kms_on_update(original: Any) -> Any:
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        result: dict[str, Any] = original(self, config_updates)
        return result

    return update_configuration


def _lambda_kms_reported(original: Any) -> Any:
    def get_configuration(self: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        config: dict[str, Any] = original(self, *args, **kw)
        if getattr(self, "kms_key_arn", None):
            config["KMSKeyArn"] = self.kms_key_arn
        return config

    return get_configuration


def _install_lambda_kms_key() -> None:
    from moto.awslambda.models import LambdaFunction

    _patch(LambdaFunction, "__init__", "kms-key", _lambda_kms_on_create)
    _patch(LambdaFunction, "update_configuration", "kms-key", _lambda_kms_on_update)
    _patch(LambdaFunction, "get_configuration", "kms-key", _lambda_kms_reported)


LAMBDA_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_lambda_kms_key,)


def install_extensions() -> None:
    """Patch moto's RDS and KMS classes with the behaviour moto 5.2 lacks, and apply the
    RDS_CORRECTIONS, S3_CORRECTIONS, DYNAMODB_CORRECTIONS, EC2_CORRECTIONS,
    LAMBDA_CORRECTIONS and APIGATEWAY_CORRECTIONS.

    Idempotent and thread-safe; affects every moto backend in this process (server or
    ``mock_aws``).
    """
    from moto.kms.responses import KmsResponse
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    with _install_lock:
        if getattr(RDSBackend, _INSTALLED_MARK, False):
            return
        backend_methods = {
            "start_db_instance_automated_backups_replication": _backend_start_replication,
            "stop_db_instance_automated_backups_replication": _backend_stop_replication,
            "describe_db_instance_automated_backups": _wrap_describe(
                RDSBackend.describe_db_instance_automated_backups
            ),
        }
        response_methods = {
            "start_db_instance_automated_backups_replication": _response_start_replication,
            "stop_db_instance_automated_backups_replication": _response_stop_replication,
        }
        for name, function in backend_methods.items():
            setattr(RDSBackend, name, function)
        for name, function in response_methods.items():
            setattr(RDSResponse, name, function)
        setattr(KmsResponse, "enable_key_rotation", _kms_enable_key_rotation)  # noqa: B010
        setattr(KmsResponse, "get_key_rotation_status", _kms_get_key_rotation_status)  # noqa: B010
        for correct in (
            *RDS_CORRECTIONS,
            *S3_CORRECTIONS,
            *DYNAMODB_CORRECTIONS,
            *EC2_CORRECTIONS,
            *LAMBDA_CORRECTIONS,
            *APIGATEWAY_CORRECTIONS,
        ):
            correct()
        setattr(RDSBackend, _INSTALLED_MARK, True)


# ---------------------------------------------------------------------------------------------
# Server process
# ---------------------------------------------------------------------------------------------


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(host: str, port: int) -> int:
    """Serve moto and the extensions on ``host:port`` until SIGTERM/SIGINT; return exit code."""
    family, socktype, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, socktype, proto)
    try:
        # Bound here, before the slow moto import, rather than by werkzeug (which exits with
        # status 1 on any bind error).
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            log.error("port %s on %s is already in use", port, host)
            return EXIT_ADDRESS_IN_USE
        raise

    apply_env_defaults()
    from moto import settings
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    # In case moto was imported before the environment was set.
    settings.ACM_VALIDATION_WAIT = int(os.environ["MOTO_ACM_VALIDATION_WAIT"])
    install_extensions()
    app = DomainDispatcherApplication(create_backend_app)
    with listener:
        server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    # moto builds some URLs (SQS queue URLs, ...) from MOTO_PORT.
    bound_port = int(server.socket.getsockname()[1])
    os.environ["MOTO_PORT"] = str(bound_port)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGINT, _raise_exit)
    print(f"deployer emulator listening on http://{host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    print("deployer emulator stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m deployer.emulator --host H --port N``."""
    parser = argparse.ArgumentParser(
        prog="python -m deployer.emulator", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
