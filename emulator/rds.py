"""RDS: cross-region replication of automated backups (an extension), and the corrections.

moto 5.2 has no StartDBInstanceAutomatedBackupsReplication or
StopDBInstanceAutomatedBackupsReplication (``RDS_EXTENSIONS`` adds them), and departs from RDS
on enhanced monitoring and Performance Insights, ModifyDBSubnetGroup, ResetDBParameterGroup, the
`user` source of the parameters set, cross-region read replicas and replicas of a source whose
master password Secrets Manager manages (``RDS_CORRECTIONS``, one patch each).
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.patching import _patch

if TYPE_CHECKING:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

# ---------------------------------------------------------------------------------------------
# RDS extension: cross-region replication of DB instance automated backups.
#
# Hooks (installed by `_install_backup_replication`, below):
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

_REPLICATIONS_ATTR = "_deployer_backup_replications"
_SOURCE_REPLICATIONS_ATTR = "db_instance_automated_backups_replications"
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
        # As DescribeDBInstanceAutomatedBackups reports it in the destination Region:
        # `replicating` while replication runs, `retained` once stopped or the source is deleted
        # (RDS User Guide, *Replicating automated backups to another AWS Region*; the AWS CLI
        # reference, describe-db-instance-automated-backups).
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


def _install_backup_replication() -> None:
    """RDSBackend and RDSResponse gain the two actions, and DescribeDBInstanceAutomatedBackups
    also lists the backups replicated into the region.

    Plain assignments, not `_patch`es: `install_extensions` runs this once per process.
    """
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

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


# The actions moto lacks, installed before the corrections.
RDS_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_backup_replication,)


# ---------------------------------------------------------------------------------------------
# RDS corrections: moto 5.2 departs from RDS in the ways below. Each is one small patch that
# `_patch` applies at most once (it marks the functions it installs), so that calling
# install_extensions again, or from the server and a test in one process, changes nothing.
# ---------------------------------------------------------------------------------------------

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
