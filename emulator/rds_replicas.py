"""RDS read replicas as disaster recovery needs them: their own settings, a real promotion, and
the replication facts (status, lag) a failover checks first.

moto 5.2 makes a replica as a shallow copy of its source and promotes it by flipping one flag
(the survey on branch `dr-survey`, docs/dr-emulator-survey.md, section 2). These corrections make
it behave as the RDS API Reference documents:

- CreateDBInstanceReadReplica (API Reference, CreateDBInstanceReadReplica): `MultiAZ` and
  `DeletionProtection` are the replica's own request parameters ("By default, deletion
  protection isn't enabled"; a replica is Multi-AZ only if asked), not copied from the source;
  and the source must have automated backups ("Your source DB instance must have backup
  retention enabled", RDS User Guide, *Working with DB instance read replicas*), else
  `InvalidDBInstanceState`.
- PromoteReadReplica (API Reference, PromoteReadReplica: "Promotes a read replica DB instance to
  a standalone DB instance"): refused with `InvalidDBInstanceState` for an instance that is not
  a read replica or not `available`; afterwards the instance has no
  `ReadReplicaSourceDBInstanceIdentifier`, its source (in whichever region) no longer lists it in
  `ReadReplicaDBInstanceIdentifiers`, and the request's `BackupRetentionPeriod` (0 to 35) and
  `PreferredBackupWindow` apply.
- DescribeDBInstances reports a replica's `StatusInfos` (API Reference, DBInstanceStatusInfo:
  `StatusType` "read replication", `Normal`, `Status` "replicating").
- CloudWatch answers `AWS/RDS` `ReplicaLag` (unit Seconds, dimension `DBInstanceIdentifier`;
  RDS User Guide, *Monitoring read replication* and *Amazon CloudWatch metrics for Amazon RDS*)
  for every replica through GetMetricStatistics and GetMetricData: one datapoint a minute since
  the replica was made (at most the last day), each the replica's modelled lag. The lag is 0 s
  unless set: in-process by ``set_replica_lag(region, identifier, seconds)``; in the server
  process (``python -m emulator``) by the admin route ``REPLICA_LAG_ROUTE``:
  ``POST /moto-api/deployer/replica-lag`` with the JSON body
  ``{"region": "eu-west-1", "identifier": "payments-db-replica-dev", "seconds": 12.5}``.
  The model is one value per replica (the latest set), not a history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from emulator.patching import _patch
from emulator.rds import _rds_error

# Where a DBInstance keeps what these corrections add (in its own __dict__: moto's reset drops
# the instance, and with it these).
_LAG_ATTR = "_deployer_replica_lag_s"
_REPLICA_SINCE_ATTR = "_deployer_replica_since"

# API Reference, PromoteReadReplica: "BackupRetentionPeriod ... Default: 1. Constraints: Must be
# a value from 0 to 35."
BACKUP_RETENTION_RANGE = (0, 35)
# RDS publishes its instance metrics once a minute; the emulator keeps a day of them per replica.
REPLICA_LAG_PERIOD = timedelta(minutes=1)
REPLICA_LAG_HISTORY = timedelta(days=1)
REPLICA_LAG_ROUTE = "/moto-api/deployer/replica-lag"

READ_REPLICATION_STATUS = {
    "StatusType": "read replication",
    "Normal": True,
    "Status": "replicating",
}


# --- CreateDBInstanceReadReplica: the replica's own settings; a source with backups -------------


def _replica_settings(original: Any) -> Any:
    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        from moto.core.utils import utcnow

        source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])
        if not int(getattr(source, "backup_retention_period", 0) or 0):
            raise _rds_error(
                "InvalidDBInstanceState",
                f"Automated backups are not enabled for DB instance "
                f"{source.db_instance_identifier}: a read replica needs a source with a "
                "backup retention period greater than 0.",
            )
        replica = original(self, db_kwargs)
        # Copied from the source by moto; on AWS the replica's request says (default false).
        replica.multi_az = bool(db_kwargs.get("multi_az") or False)
        replica.deletion_protection = bool(db_kwargs.get("deletion_protection") or False)
        replica.__dict__.pop(_LAG_ATTR, None)
        setattr(replica, _REPLICA_SINCE_ATTR, utcnow())
        return replica

    return create_db_instance_read_replica


# --- PromoteReadReplica: a standalone instance ---------------------------------------------------


def _source_of(backend: Any, replica: Any) -> Any:
    """The replica's source instance (by identifier in this region, by ARN in another), or None
    where it is gone."""
    from moto.rds.exceptions import RDSClientError

    reference = getattr(replica, "source_db_instance_identifier", None)
    if not reference:
        return None
    try:
        return backend.find_db_from_id(reference)
    except RDSClientError:
        return None


def _promote(original: Any) -> Any:
    def promote_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        from moto.rds.exceptions import DBInstanceNotFoundError

        identifier = db_kwargs["db_instance_identifier"]
        database = self.databases.get(identifier)
        if database is None:
            raise DBInstanceNotFoundError(identifier)
        if not database.is_replica:
            raise _rds_error(
                "InvalidDBInstanceState", f"DB instance {identifier} is not a read replica."
            )
        if database.status != "available":
            raise _rds_error(
                "InvalidDBInstanceState",
                f"DB instance {identifier} is not in the available state ({database.status}).",
            )
        retention = db_kwargs.get("backup_retention_period")
        low, high = BACKUP_RETENTION_RANGE
        if retention is not None and not low <= int(retention) <= high:
            raise _rds_error(
                "InvalidParameterValue",
                f"Invalid backup retention period {retention}: it must be from {low} to {high}.",
            )
        source = _source_of(self, database)
        promoted = original(self, db_kwargs)  # is_replica off, retention and window applied
        if source is not None:
            source.remove_replica(promoted)  # by identifier or ARN (emulator.rds's correction)
        promoted.source_db_instance_identifier = None
        promoted.__dict__.pop(_LAG_ATTR, None)
        promoted.__dict__.pop(_REPLICA_SINCE_ATTR, None)
        return promoted

    return promote_read_replica


# --- DescribeDBInstances: StatusInfos ------------------------------------------------------------


def _status_infos(self: Any) -> list[dict[str, Any]] | None:
    """DBInstanceStatusInfo of a read replica (moto's serializer reads `status_infos`)."""
    return [dict(READ_REPLICATION_STATUS)] if getattr(self, "is_replica", False) else None


# --- ReplicaLag ----------------------------------------------------------------------------------


def _account(account_id: str | None) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return account_id or DEFAULT_ACCOUNT_ID


def set_replica_lag(
    region: str, identifier: str, seconds: float, account_id: str | None = None
) -> None:
    """Model the replication lag of the read replica ``identifier`` in ``region``: what
    CloudWatch's `AWS/RDS` `ReplicaLag` reports for it from now on. ValueError if there is no
    such replica or the lag is negative."""
    from moto.rds.models import rds_backends

    if seconds < 0:
        raise ValueError(f"a replication lag cannot be negative ({seconds})")
    database = rds_backends[_account(account_id)][region].databases.get(identifier)
    if database is None or not database.is_replica:
        raise ValueError(f"no read replica {identifier} in {region}")
    setattr(database, _LAG_ATTR, float(seconds))


def replica_lag(region: str, identifier: str, account_id: str | None = None) -> float | None:
    """The modelled lag of a read replica (0 unless set), None for no such replica."""
    from moto.rds.models import rds_backends

    database = rds_backends[_account(account_id)][region].databases.get(identifier)
    if database is None or not database.is_replica:
        return None
    return float(database.__dict__.get(_LAG_ATTR, 0.0))


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def replica_lag_metrics(account_id: str, region: str) -> list[Any]:
    """`AWS/RDS` `ReplicaLag` datapoints of every replica in ``region``: one a minute, on the
    minute, from the minute the replica was made (at most a day back) to now."""
    from moto.cloudwatch.models import MetricDatum
    from moto.core.utils import utcnow
    from moto.rds.models import rds_backends

    if region not in rds_backends[account_id]:
        return []
    now = utcnow()
    points: list[Any] = []
    for database in list(rds_backends[account_id][region].databases.values()):
        if not database.is_replica:
            continue
        since = database.__dict__.get(_REPLICA_SINCE_ATTR, now)
        moment = _minute(max(since, now - REPLICA_LAG_HISTORY))
        lag = float(database.__dict__.get(_LAG_ATTR, 0.0))
        dimensions = [{"Name": "DBInstanceIdentifier", "Value": database.db_instance_identifier}]
        while moment <= now:
            points.append(
                MetricDatum("AWS/RDS", "ReplicaLag", lag, dimensions, moment, unit="Seconds")
            )
            moment += REPLICA_LAG_PERIOD
    return points


# The CloudWatch metric provider that serves ReplicaLag (moto asks every subclass of its
# CloudWatchMetricProvider); made once by `_install_replica_lag` and kept here so that it lives.
_LAG_PROVIDER: list[type] = []


def _replica_lag_route(
    request: Any, full_url: str, headers: Any
) -> tuple[int, dict[str, str], str]:
    """The server's admin route: ``POST REPLICA_LAG_ROUTE`` with ``region``, ``identifier``,
    ``seconds`` (and optionally ``account_id``) sets a replica's modelled lag."""
    json_type = {"Content-Type": "application/json"}
    if getattr(request, "method", "POST") != "POST":
        return 405, json_type, json.dumps({"error": "use POST"})
    try:
        raw = request.get_data() if hasattr(request, "get_data") else request.data
        body = json.loads(raw or b"{}")
        region, identifier = str(body["region"]), str(body["identifier"])
        seconds = float(body["seconds"])
        set_replica_lag(region, identifier, seconds, body.get("account_id"))
    except (KeyError, TypeError, ValueError) as exc:
        return 400, json_type, json.dumps({"error": str(exc)})
    return (
        200,
        json_type,
        json.dumps({"region": region, "identifier": identifier, "seconds": seconds}),
    )


def _install_replica_lag() -> None:
    """CloudWatch gains the ReplicaLag provider; moto's admin API gains REPLICA_LAG_ROUTE.

    Plain definitions, not `_patch`es: `install_extensions` runs this once per process.
    """
    from moto.core.common_models import CloudWatchMetricProvider
    from moto.moto_api._internal import urls

    if not _LAG_PROVIDER:

        class ReplicaLagMetrics(CloudWatchMetricProvider):
            @staticmethod
            def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
                return replica_lag_metrics(account_id, region)

        _LAG_PROVIDER.append(ReplicaLagMetrics)
    urls.url_paths.setdefault("{0}" + REPLICA_LAG_ROUTE, _replica_lag_route)


def _install_replica_corrections() -> None:
    from moto.rds.models import DBInstance, RDSBackend

    if "status_infos" not in vars(DBInstance):
        DBInstance.status_infos = property(_status_infos)  # type: ignore[attr-defined]
    _patch(RDSBackend, "create_db_instance_read_replica", "replica-settings", _replica_settings)
    _patch(RDSBackend, "promote_read_replica", "standalone", _promote)


# The extension (ReplicaLag, the admin route) and the corrections, in the order they are applied.
RDS_REPLICA_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_replica_lag,)
RDS_REPLICA_CORRECTIONS: tuple[Callable[[], None], ...] = (_install_replica_corrections,)
