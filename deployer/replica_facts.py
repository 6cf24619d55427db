"""What a failover reads before it promotes a cross-region read replica, and why it would refuse.

A promotion stops replication for good: whatever the replica has not received is lost (the RPO).
The RDS User Guide (*Promoting a read replica to be a standalone DB instance*) asks to check
the replica first: the replication running (DescribeDBInstances' `StatusInfos`, "read
replication", API Reference DBInstanceStatusInfo) and its lag (CloudWatch `AWS/RDS`
`ReplicaLag`, *Monitoring read replication*). The primary's automated backups replicated into the
replica's region (DescribeDBInstanceAutomatedBackups there, `Status` "replicating") are the other
way back to the data if the promotion goes wrong.

Everything is read through boto3, so the same checks run on AWS and on the emulator
(emulator/rds_replicas.py models StatusInfos and ReplicaLag, 0 s unless a test or the server's
admin route sets another). A lag CloudWatch has no datapoint for is unknown, never taken as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deployer.aws import or_none

# RDS publishes ReplicaLag once a minute: the latest datapoint of the last five minutes is the
# lag now; none in that window means CloudWatch does not know it.
REPLICA_LAG_WINDOW = timedelta(minutes=5)
REPLICA_LAG_PERIOD_S = 60
READ_REPLICATION = "read replication"
REPLICATING = "replicating"


@dataclass(frozen=True)
class ReplicaFacts:
    """One read replica as a failover's preconditions see it (None: not reported)."""

    identifier: str
    region: str
    # DBInstanceStatus; None when the instance does not exist.
    status: str | None = None
    # ReadReplicaSourceDBInstanceIdentifier (the source's ARN for a cross-region replica).
    source: str | None = None
    # The "read replication" entry of StatusInfos.
    replication_status: str | None = None
    replication_normal: bool | None = None
    replication_message: str | None = None
    # The latest ReplicaLag datapoint (seconds).
    lag_seconds: float | None = None
    # Whether the source's automated backups replicate into this region.
    backups_replicating: bool | None = None

    def problems(self, max_lag_seconds: float) -> list[str]:
        """Why a failover to this replica should be refused (empty: go ahead)."""
        where = f"RDS read replica {self.identifier} in {self.region}"
        if self.status is None:
            return [f"{where} does not exist"]
        found: list[str] = []
        if not self.source:
            found.append(f"{where} is no read replica (it has no source)")
        if self.status != "available":
            found.append(f"{where} is {self.status}, not available")
        if self.source and (
            self.replication_status != REPLICATING or self.replication_normal is False
        ):
            detail = f": {self.replication_message}" if self.replication_message else ""
            found.append(
                f"{where}: read replication is {self.replication_status or 'not reported'}{detail}"
            )
        if self.lag_seconds is None:
            found.append(
                f"{where}: CloudWatch has no ReplicaLag datapoint in the last "
                f"{int(REPLICA_LAG_WINDOW.total_seconds() // 60)} minutes, so the data a "
                "promotion would lose is unknown"
            )
        elif self.lag_seconds > max_lag_seconds:
            found.append(
                f"{where}: replica lag {self.lag_seconds:g} s is above the limit of "
                f"{max_lag_seconds:g} s"
            )
        if self.source and self.backups_replicating is False:
            found.append(
                f"the automated backups of {self.source} are not replicating into {self.region}"
            )
        return found


def db_instance(clients: Any, region: str, identifier: str) -> dict[str, Any] | None:
    """DescribeDBInstances of one instance; None when it does not exist."""
    rds = clients("rds", region)
    answer = or_none(lambda: rds.describe_db_instances(DBInstanceIdentifier=identifier))
    instances: list[dict[str, Any]] = (answer or {}).get("DBInstances") or []
    return instances[0] if instances else None


def read_replica_facts(
    clients: Any, region: str, identifier: str, *, now: datetime | None = None
) -> ReplicaFacts:
    """The facts of the replica `identifier` in `region`; `clients(service, region)` gives
    boto3 clients (deployer.aws.Clients)."""
    rds = clients("rds", region)
    db = db_instance(clients, region, identifier)
    if db is None:
        return ReplicaFacts(identifier, region)
    source = db.get("ReadReplicaSourceDBInstanceIdentifier") or None
    replication: dict[str, Any] = next(
        (s for s in db.get("StatusInfos") or [] if s.get("StatusType") == READ_REPLICATION), {}
    )
    return ReplicaFacts(
        identifier,
        region,
        status=db.get("DBInstanceStatus"),
        source=source,
        replication_status=replication.get("Status"),
        replication_normal=replication.get("Normal"),
        replication_message=replication.get("Message"),
        lag_seconds=replica_lag(clients("cloudwatch", region), identifier, now=now),
        backups_replicating=backups_replicating(rds, source) if source else None,
    )


def replica_lag(cloudwatch: Any, identifier: str, *, now: datetime | None = None) -> float | None:
    """The latest `AWS/RDS` `ReplicaLag` (seconds, the minute's maximum) of a replica within
    REPLICA_LAG_WINDOW; None when CloudWatch has none."""
    end = now or datetime.now(UTC)
    points = (
        cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
            StartTime=end - REPLICA_LAG_WINDOW,
            EndTime=end + timedelta(seconds=REPLICA_LAG_PERIOD_S),
            Period=REPLICA_LAG_PERIOD_S,
            Statistics=["Maximum"],
        ).get("Datapoints")
        or []
    )
    if not points:
        return None
    latest = max(points, key=lambda point: point["Timestamp"])
    return float(latest["Maximum"])


def backups_replicating(rds: Any, source_arn: str) -> bool:
    """Whether the automated backups of `source_arn` replicate into the region of `rds`
    (DescribeDBInstanceAutomatedBackups there lists them with Status "replicating")."""
    answer = or_none(
        lambda: rds.describe_db_instance_automated_backups(
            Filters=[{"Name": "db-instance-id", "Values": [source_arn]}]
        )
    )
    return any(
        backup.get("DBInstanceArn") == source_arn
        and str(backup.get("Status", "")).lower() == REPLICATING
        for backup in (answer or {}).get("DBInstanceAutomatedBackups") or []
    )
