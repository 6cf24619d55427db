"""RDS read replicas (emulator/rds_replicas.py): their own settings, promotion to a standalone
instance in both regions' books, StatusInfos, and the modelled ReplicaLag metric."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.rds_replicas import REPLICA_LAG_ROUTE, replica_lag, set_replica_lag

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"
PASSWORD = "not-a-real-password-1"


def _rds(region: str) -> Any:
    return boto3.client("rds", region_name=region)


def _source(
    identifier: str = "pay", region: str = PRIMARY, retention: int = 7, **extra: Any
) -> str:
    db = _rds(region).create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t3.medium",
        MasterUsername="payments",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=20,
        BackupRetentionPeriod=retention,
        **extra,
    )["DBInstance"]
    return str(db["DBInstanceArn"])


def _replica(identifier: str, source_arn: str, region: str, **extra: Any) -> dict[str, Any]:
    source_region = source_arn.split(":")[3]
    db: dict[str, Any] = _rds(region).create_db_instance_read_replica(
        DBInstanceIdentifier=identifier,
        SourceDBInstanceIdentifier=source_arn,
        SourceRegion=source_region,
        **extra,
    )["DBInstance"]
    return db


def _describe(identifier: str, region: str) -> dict[str, Any]:
    db: dict[str, Any] = _rds(region).describe_db_instances(DBInstanceIdentifier=identifier)[
        "DBInstances"
    ][0]
    return db


def _error(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _links(identifier: str, region: str) -> tuple[str | None, list[str]]:
    """(its source, its replicas) as DescribeDBInstances reports them."""
    db = _describe(identifier, region)
    return db.get("ReadReplicaSourceDBInstanceIdentifier"), db["ReadReplicaDBInstanceIdentifiers"]


# --- CreateDBInstanceReadReplica -----------------------------------------------------------------


def test_a_cross_region_replica_has_its_own_multi_az_and_deletion_protection(aws: None) -> None:
    source_arn = _source(MultiAZ=True, DeletionProtection=True)
    plain = _replica("pay-r", source_arn, SECONDARY)
    assert (plain["MultiAZ"], plain["DeletionProtection"]) == (False, False)
    described = _describe("pay-r", SECONDARY)
    assert (described["MultiAZ"], described["DeletionProtection"]) == (False, False)
    asked = _replica("pay-r2", source_arn, SECONDARY, MultiAZ=True, DeletionProtection=True)
    assert (asked["MultiAZ"], asked["DeletionProtection"]) == (True, True)
    source = _describe("pay", PRIMARY)
    assert (source["MultiAZ"], source["DeletionProtection"]) == (True, True)


def test_no_replica_of_a_source_without_automated_backups(aws: None) -> None:
    source_arn = _source(retention=0)
    with pytest.raises(ClientError) as exc:
        _replica("pay-r", source_arn, SECONDARY)
    assert _error(exc) == "InvalidDBInstanceState"
    assert _rds(SECONDARY).describe_db_instances()["DBInstances"] == []
    assert _links("pay", PRIMARY) == (None, [])


# --- PromoteReadReplica --------------------------------------------------------------------------


def test_promotion_makes_a_standalone_instance_in_both_regions_books(aws: None) -> None:
    source_arn = _source()
    replica_arn = _replica("pay-r", source_arn, SECONDARY)["DBInstanceArn"]
    assert _links("pay", PRIMARY) == (None, [replica_arn])
    assert _links("pay-r", SECONDARY) == (source_arn, [])

    promoted = _rds(SECONDARY).promote_read_replica(
        DBInstanceIdentifier="pay-r", BackupRetentionPeriod=14, PreferredBackupWindow="03:00-03:30"
    )["DBInstance"]
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    described = _describe("pay-r", SECONDARY)
    assert described.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert described["BackupRetentionPeriod"] == 14
    assert described["PreferredBackupWindow"] == "03:00-03:30"
    assert described["DBInstanceStatus"] == "available"
    assert _links("pay", PRIMARY) == (None, [])
    # A standalone instance can go without touching the former source.
    _rds(SECONDARY).delete_db_instance(DBInstanceIdentifier="pay-r", SkipFinalSnapshot=True)
    assert _describe("pay", PRIMARY)["DBInstanceStatus"] == "available"


def test_promotion_in_the_same_region(aws: None) -> None:
    _source()
    _rds(PRIMARY).create_db_instance_read_replica(
        DBInstanceIdentifier="pay-local", SourceDBInstanceIdentifier="pay"
    )
    assert _links("pay", PRIMARY) == (None, ["pay-local"])
    _rds(PRIMARY).promote_read_replica(DBInstanceIdentifier="pay-local")
    assert _links("pay", PRIMARY) == (None, [])
    assert _links("pay-local", PRIMARY) == (None, [])


def test_promotion_refuses_what_is_not_a_promotable_replica(aws: None) -> None:
    source_arn = _source()
    _replica("pay-r", source_arn, SECONDARY)
    with pytest.raises(ClientError) as exc:
        _rds(PRIMARY).promote_read_replica(DBInstanceIdentifier="pay")
    assert _error(exc) == "InvalidDBInstanceState"
    with pytest.raises(ClientError) as exc:
        _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r", BackupRetentionPeriod=36)
    assert _error(exc) == "InvalidParameterValue"
    assert _links("pay-r", SECONDARY) == (source_arn, [])  # still a replica
    with pytest.raises(ClientError) as exc:
        _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="missing")
    assert _error(exc) == "DBInstanceNotFound"
    _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r")
    with pytest.raises(ClientError) as exc:  # once promoted, no longer a replica
        _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r")
    assert _error(exc) == "InvalidDBInstanceState"


def test_promotion_refuses_an_instance_that_is_not_available(aws: None) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.rds.models import rds_backends

    source_arn = _source()
    _replica("pay-r", source_arn, SECONDARY)
    rds_backends[DEFAULT_ACCOUNT_ID][SECONDARY].databases["pay-r"].status = "modifying"
    with pytest.raises(ClientError) as exc:
        _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r")
    assert _error(exc) == "InvalidDBInstanceState"


def test_failover_and_failback_round_trip_keeps_the_links_right(aws: None) -> None:
    """replica -> promote -> replica back into the first region -> promote, with the source and
    replica links as each region reports them at every step."""
    pay_arn = _source(MultiAZ=True, DeletionProtection=True)
    replica_arn = _replica("pay-r", pay_arn, SECONDARY)["DBInstanceArn"]
    assert _links("pay", PRIMARY) == (None, [replica_arn])
    assert _links("pay-r", SECONDARY) == (pay_arn, [])

    # Failover: the secondary's replica becomes the writer; the old primary goes.
    _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r", BackupRetentionPeriod=7)
    assert _links("pay-r", SECONDARY) == (None, [])
    assert _links("pay", PRIMARY) == (None, [])
    _rds(PRIMARY).modify_db_instance(
        DBInstanceIdentifier="pay", DeletionProtection=False, ApplyImmediately=True
    )
    _rds(PRIMARY).delete_db_instance(DBInstanceIdentifier="pay", SkipFinalSnapshot=True)

    # Failback: a replica of the new writer in the recovered region, then promoted.
    back = _replica("pay", replica_arn, PRIMARY)
    assert back["DBInstanceArn"] == pay_arn
    assert (back["MultiAZ"], back["DeletionProtection"]) == (False, False)
    assert _links("pay", PRIMARY) == (replica_arn, [])
    assert _links("pay-r", SECONDARY) == (None, [pay_arn])

    _rds(PRIMARY).promote_read_replica(DBInstanceIdentifier="pay", BackupRetentionPeriod=7)
    assert _links("pay", PRIMARY) == (None, [])
    assert _links("pay-r", SECONDARY) == (None, [])

    # And the original direction again: the former writer replicates the restored primary.
    _rds(SECONDARY).modify_db_instance(
        DBInstanceIdentifier="pay-r", DeletionProtection=False, ApplyImmediately=True
    )
    _rds(SECONDARY).delete_db_instance(DBInstanceIdentifier="pay-r", SkipFinalSnapshot=True)
    _replica("pay-r", pay_arn, SECONDARY)
    assert _links("pay", PRIMARY) == (None, [replica_arn])
    assert _links("pay-r", SECONDARY) == (pay_arn, [])


def test_a_promoted_instance_without_backups_cannot_be_a_source(aws: None) -> None:
    source_arn = _source()
    replica_arn = _replica("pay-r", source_arn, SECONDARY)["DBInstanceArn"]
    _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r", BackupRetentionPeriod=0)
    with pytest.raises(ClientError) as exc:
        _replica("pay-back", replica_arn, PRIMARY)
    assert _error(exc) == "InvalidDBInstanceState"


# --- StatusInfos and ReplicaLag ------------------------------------------------------------------

READ_REPLICATION = [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]


def test_a_replica_reports_read_replication_status(aws: None) -> None:
    source_arn = _source()
    assert _replica("pay-r", source_arn, SECONDARY)["StatusInfos"] == READ_REPLICATION
    assert _describe("pay-r", SECONDARY)["StatusInfos"] == READ_REPLICATION
    assert "StatusInfos" not in _describe("pay", PRIMARY)
    _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r")
    assert "StatusInfos" not in _describe("pay-r", SECONDARY)


def _lag_statistics(identifier: str, region: str = SECONDARY, **client: Any) -> set[float]:
    """The lags of the last minutes' datapoints (one a minute: the test may cross a minute)."""
    now = datetime.now(UTC)
    points = boto3.client("cloudwatch", region_name=region, **client).get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert all(p["Unit"] == "Seconds" for p in points)
    return {p["Maximum"] for p in points}


def _lag_data(identifier: str, region: str = SECONDARY) -> set[float]:
    now = datetime.now(UTC)
    answer = boto3.client("cloudwatch", region_name=region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
    )
    (result,) = answer["MetricDataResults"]
    return {float(v) for v in result["Values"]}


def test_replica_lag_is_zero_by_default_and_follows_the_model(aws: None) -> None:
    source_arn = _source()
    _replica("pay-r", source_arn, SECONDARY)
    assert _lag_statistics("pay-r") == {0.0}
    assert _lag_data("pay-r") == {0.0}
    assert replica_lag(SECONDARY, "pay-r") == 0.0

    set_replica_lag(SECONDARY, "pay-r", 12.5)
    assert _lag_statistics("pay-r") == {12.5}
    assert _lag_data("pay-r") == {12.5}
    # Only replicas have a lag, and only in their own region.
    assert _lag_statistics("pay", PRIMARY) == set()
    assert _lag_statistics("pay-r", PRIMARY) == set()
    with pytest.raises(ValueError):
        set_replica_lag(PRIMARY, "pay", 1.0)
    with pytest.raises(ValueError):
        set_replica_lag(SECONDARY, "pay-r", -1.0)

    # A promoted instance replicates nothing any more.
    _rds(SECONDARY).promote_read_replica(DBInstanceIdentifier="pay-r")
    assert _lag_statistics("pay-r") == set()
    assert replica_lag(SECONDARY, "pay-r") is None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The emulator's server process (what `deployer sandbox start` runs)."""
    from tests.conftest import running_emulator

    with running_emulator(tmp_path / "sandbox") as endpoint:
        yield endpoint


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_server_sets_a_replica_lag_through_its_admin_route(server: str) -> None:
    rds = boto3.client("rds", region_name=PRIMARY, endpoint_url=server)
    source_arn = rds.create_db_instance(
        DBInstanceIdentifier="pay",
        Engine="postgres",
        DBInstanceClass="db.t3.medium",
        MasterUsername="payments",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
    )["DBInstance"]["DBInstanceArn"]
    boto3.client("rds", region_name=SECONDARY, endpoint_url=server).create_db_instance_read_replica(
        DBInstanceIdentifier="pay-r", SourceDBInstanceIdentifier=source_arn, SourceRegion=PRIMARY
    )
    assert _lag_statistics("pay-r", endpoint_url=server) == {0.0}
    lag = {"region": SECONDARY, "identifier": "pay-r", "seconds": 42}
    assert _post(server + REPLICA_LAG_ROUTE, lag) == (200, {**lag, "seconds": 42.0})
    assert _lag_statistics("pay-r", endpoint_url=server) == {42.0}
    status, answer = _post(server + REPLICA_LAG_ROUTE, {**lag, "identifier": "pay"})
    assert status == 400 and "no read replica" in answer["error"]
    status, _ = _post(server + REPLICA_LAG_ROUTE, {"region": SECONDARY})
    assert status == 400
