"""RDS (emulator/rds.py): automated-backups replication across regions, and the corrections."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import install_extensions

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"


def _source_db(identifier: str = "payments") -> str:
    rds = boto3.client("rds", region_name=PRIMARY)
    key = boto3.client("kms", region_name=PRIMARY).create_key()["KeyMetadata"]["Arn"]
    db = rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t3.medium",
        MasterUsername="payments",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        StorageEncrypted=True,
        KmsKeyId=key,
        BackupRetentionPeriod=7,
    )["DBInstance"]
    return str(db["DBInstanceArn"])


def _secondary_key() -> str:
    kms = boto3.client("kms", region_name=SECONDARY)
    return str(kms.create_key(Description="secondary rds")["KeyMetadata"]["Arn"])


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- Automated-backups replication --------------------------------------------------------------


def test_start_describe_stop_replication(aws: None) -> None:
    source_arn = _source_db()
    key_arn = _secondary_key()
    rds = boto3.client("rds", region_name=SECONDARY)

    started = rds.start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source_arn, KmsKeyId=key_arn, BackupRetentionPeriod=7
    )["DBInstanceAutomatedBackup"]
    assert started["DBInstanceArn"] == source_arn
    assert started["DBInstanceIdentifier"] == "payments"
    assert started["Region"] == PRIMARY
    assert started["KmsKeyId"] == key_arn
    assert started["Status"] == "replicating"
    assert started["BackupRetentionPeriod"] == 7
    assert started["Encrypted"] is True
    assert started["Engine"] == "postgres"
    assert started["DbiResourceId"].startswith("db-")
    backup_arn = started["DBInstanceAutomatedBackupsArn"]
    assert backup_arn.startswith(f"arn:aws:rds:{SECONDARY}:123456789012:auto-backup:ab-")

    listed = rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
    assert [b["DBInstanceAutomatedBackupsArn"] for b in listed] == [backup_arn]
    assert listed[0]["KmsKeyId"] == key_arn
    assert listed[0]["Status"] == "replicating"
    for query in (
        {"DBInstanceIdentifier": "payments"},
        {"DbiResourceId": started["DbiResourceId"]},
        {"DBInstanceAutomatedBackupsArn": backup_arn},
        {"Filters": [{"Name": "status", "Values": ["replicating"]}]},
        {"Filters": [{"Name": "db-instance-id", "Values": [source_arn]}]},
    ):
        found = rds.describe_db_instance_automated_backups(**query)["DBInstanceAutomatedBackups"]
        assert [b["DBInstanceAutomatedBackupsArn"] for b in found] == [backup_arn], query
    assert not rds.describe_db_instance_automated_backups(DBInstanceIdentifier="other")[
        "DBInstanceAutomatedBackups"
    ]
    assert not rds.describe_db_instance_automated_backups(
        Filters=[{"Name": "status", "Values": ["retained"]}]
    )["DBInstanceAutomatedBackups"]

    # The source region keeps its own automated backups and shows the replication on the instance.
    primary = boto3.client("rds", region_name=PRIMARY)
    own = primary.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
    assert [(b["DBInstanceIdentifier"], b["Status"]) for b in own] == [("payments", "active")]
    instance = primary.describe_db_instances(DBInstanceIdentifier="payments")["DBInstances"][0]
    assert instance["DBInstanceAutomatedBackupsReplications"] == [
        {"DBInstanceAutomatedBackupsArn": backup_arn}
    ]

    stopped = rds.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source_arn)[
        "DBInstanceAutomatedBackup"
    ]
    assert stopped["DBInstanceAutomatedBackupsArn"] == backup_arn
    assert stopped["Status"] == "retained"
    assert rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"] == []
    with pytest.raises(ClientError) as exc:
        rds.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=backup_arn)
    assert _error(exc) == ("DBInstanceAutomatedBackupNotFound", 404)
    instance = primary.describe_db_instances(DBInstanceIdentifier="payments")["DBInstances"][0]
    assert not instance.get("DBInstanceAutomatedBackupsReplications")

    with pytest.raises(ClientError) as exc:
        rds.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source_arn)
    assert _error(exc) == ("InvalidDBInstanceState", 400)

    # Replication can be started again once stopped.
    again = rds.start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source_arn, KmsKeyId=key_arn, BackupRetentionPeriod=7
    )["DBInstanceAutomatedBackup"]
    assert again["Status"] == "replicating"
    assert again["DBInstanceAutomatedBackupsArn"] != backup_arn


def test_duplicate_start_is_rejected(aws: None) -> None:
    source_arn = _source_db()
    key_arn = _secondary_key()
    rds = boto3.client("rds", region_name=SECONDARY)
    rds.start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source_arn, KmsKeyId=key_arn, BackupRetentionPeriod=7
    )
    with pytest.raises(ClientError) as exc:
        rds.start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=source_arn, KmsKeyId=key_arn, BackupRetentionPeriod=7
        )
    assert _error(exc) == ("DBInstanceAutomatedBackupQuotaExceeded", 400)
    # An instance replicates to one region at a time.
    other_key = boto3.client("kms", region_name="us-west-2").create_key()["KeyMetadata"]["Arn"]
    other_rds = boto3.client("rds", region_name="us-west-2")
    with pytest.raises(ClientError) as exc:
        other_rds.start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=source_arn, KmsKeyId=other_key
        )
    assert _error(exc) == ("DBInstanceAutomatedBackupQuotaExceeded", 400)
    assert len(rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]) == 1


def test_unknown_source_instance(aws: None) -> None:
    _source_db()
    key_arn = _secondary_key()
    rds = boto3.client("rds", region_name=SECONDARY)
    missing = f"arn:aws:rds:{PRIMARY}:123456789012:db:missing"
    with pytest.raises(ClientError) as exc:
        rds.start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=missing, KmsKeyId=key_arn, BackupRetentionPeriod=7
        )
    assert _error(exc) == ("DBInstanceNotFound", 404)
    with pytest.raises(ClientError) as exc:
        rds.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=missing)
    assert _error(exc) == ("DBInstanceNotFound", 404)
    assert rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"] == []


def test_invalid_requests(aws: None) -> None:
    source_arn = _source_db()
    primary_key = boto3.client("kms", region_name=PRIMARY).create_key()["KeyMetadata"]["Arn"]
    rds = boto3.client("rds", region_name=SECONDARY)
    # The key must be in the destination region.
    with pytest.raises(ClientError) as exc:
        rds.start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=source_arn, KmsKeyId=primary_key
        )
    assert _error(exc) == ("KMSKeyNotAccessibleFault", 400)
    # Replication goes to another region than the source's.
    with pytest.raises(ClientError) as exc:
        boto3.client("rds", region_name=PRIMARY).start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=source_arn, KmsKeyId=primary_key
        )
    assert _error(exc) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as exc:
        rds.start_db_instance_automated_backups_replication(SourceDBInstanceArn="payments")
    assert _error(exc) == ("InvalidParameterValue", 400)
    assert rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"] == []


def test_replicated_backup_is_retained_when_source_is_deleted(aws: None) -> None:
    source_arn = _source_db()
    rds = boto3.client("rds", region_name=SECONDARY)
    rds.start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source_arn, KmsKeyId=_secondary_key(), BackupRetentionPeriod=7
    )
    boto3.client("rds", region_name=PRIMARY).delete_db_instance(
        DBInstanceIdentifier="payments", SkipFinalSnapshot=True
    )
    listed = rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
    assert [(b["DBInstanceArn"], b["Status"]) for b in listed] == [(source_arn, "retained")]
    with pytest.raises(ClientError) as exc:
        rds.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source_arn)
    assert _error(exc) == ("DBInstanceNotFound", 404)


# --- RDS corrections -----------------------------------------------------------------------------


def _subnet_group(region: str, name: str = "payments-db") -> list[str]:
    """A DB subnet group over two fresh subnets of a new VPC in `region`; returns the subnet ids."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("abc")
    ]
    boto3.client("rds", region_name=region).create_db_subnet_group(
        DBSubnetGroupName=name, DBSubnetGroupDescription="private", SubnetIds=subnets[:2]
    )
    return subnets


def _monitoring(db: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in db.items() if k.startswith(("Monitoring", "PerformanceInsights"))}


MONITORING_ROLE = "arn:aws:iam::123456789012:role/rds-monitoring"


def test_install_extensions_patches_each_method_once() -> None:
    from moto.rds.models import DBInstance, RDSBackend
    from moto.rds.responses import RDSResponse

    install_extensions()
    methods = [
        (RDSBackend, "create_db_instance"),
        (RDSBackend, "modify_db_instance"),
        (RDSBackend, "create_db_instance_read_replica"),
        (RDSBackend, "modify_db_subnet_group"),
        (RDSBackend, "reset_db_parameter_group"),
        (RDSResponse, "reset_db_parameter_group"),
        (DBInstance, "remove_replica"),
    ]
    before = [getattr(owner, name) for owner, name in methods]
    from emulator.rds import RDS_CORRECTIONS

    for correct in RDS_CORRECTIONS:  # applying a correction again changes nothing
        correct()
    install_extensions()
    assert [getattr(owner, name) for owner, name in methods] == before
    replica = RDSBackend.create_db_instance_read_replica
    assert replica._deployer_patches == {  # type: ignore[attr-defined]
        "monitoring",
        "own-instance",
        "refuse-managed-password-source",
        "replica-settings",  # emulator/rds_replicas.py
    }


def test_monitoring_and_performance_insights_are_kept_and_reported(aws: None) -> None:
    rds = boto3.client("rds", region_name=PRIMARY)
    base = {
        "Engine": "postgres",
        "DBInstanceClass": "db.t3.medium",
        "MasterUsername": "payments",
        "MasterUserPassword": "not-a-real-password-1",
        "AllocatedStorage": 20,
    }
    plain = rds.create_db_instance(DBInstanceIdentifier="plain", **base)["DBInstance"]
    assert _monitoring(plain) == {"MonitoringInterval": 0, "PerformanceInsightsEnabled": False}

    key = boto3.client("kms", region_name=PRIMARY).create_key()["KeyMetadata"]["Arn"]
    rds.create_db_instance(
        DBInstanceIdentifier="watched",
        MonitoringInterval=60,
        MonitoringRoleArn=MONITORING_ROLE,
        EnablePerformanceInsights=True,
        PerformanceInsightsKMSKeyId=key,
        PerformanceInsightsRetentionPeriod=31,
        **base,
    )
    watched = rds.describe_db_instances(DBInstanceIdentifier="watched")["DBInstances"][0]
    assert _monitoring(watched) == {
        "MonitoringInterval": 60,
        "MonitoringRoleArn": MONITORING_ROLE,
        "PerformanceInsightsEnabled": True,
        "PerformanceInsightsKMSKeyId": key,
        "PerformanceInsightsRetentionPeriod": 31,
    }

    rds.modify_db_instance(
        DBInstanceIdentifier="plain",
        MonitoringInterval=30,
        MonitoringRoleArn=MONITORING_ROLE,
        EnablePerformanceInsights=True,
        ApplyImmediately=True,
    )
    plain = rds.describe_db_instances(DBInstanceIdentifier="plain")["DBInstances"][0]
    assert _monitoring(plain) == {
        "MonitoringInterval": 30,
        "MonitoringRoleArn": MONITORING_ROLE,
        "PerformanceInsightsEnabled": True,
        "PerformanceInsightsRetentionPeriod": 7,
    }
    # The role is already there: the interval alone may change.
    rds.modify_db_instance(DBInstanceIdentifier="plain", MonitoringInterval=5)
    plain = rds.describe_db_instances(DBInstanceIdentifier="plain")["DBInstances"][0]
    assert plain["MonitoringInterval"] == 5
    rds.modify_db_instance(DBInstanceIdentifier="plain", EnablePerformanceInsights=False)
    plain = rds.describe_db_instances(DBInstanceIdentifier="plain")["DBInstances"][0]
    assert _monitoring(plain) == {
        "MonitoringInterval": 5,
        "MonitoringRoleArn": MONITORING_ROLE,
        "PerformanceInsightsEnabled": False,
    }


def test_monitoring_interval_needs_a_role_and_a_valid_value(aws: None) -> None:
    rds = boto3.client("rds", region_name=PRIMARY)
    base = {
        "DBInstanceIdentifier": "db",
        "Engine": "postgres",
        "DBInstanceClass": "db.t3.medium",
        "MasterUsername": "payments",
        "MasterUserPassword": "not-a-real-password-1",
        "AllocatedStorage": 20,
    }
    with pytest.raises(ClientError) as exc:
        rds.create_db_instance(MonitoringInterval=60, **base)
    assert _error(exc) == ("InvalidParameterCombination", 400)
    with pytest.raises(ClientError) as exc:
        rds.create_db_instance(MonitoringInterval=7, MonitoringRoleArn=MONITORING_ROLE, **base)
    assert _error(exc) == ("InvalidParameterValue", 400)
    assert rds.describe_db_instances()["DBInstances"] == []
    rds.create_db_instance(**base)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="db", MonitoringInterval=60)
    assert _error(exc) == ("InvalidParameterCombination", 400)
    assert rds.describe_db_instances()["DBInstances"][0]["MonitoringInterval"] == 0


def test_modify_db_subnet_group_keeps_the_group(aws: None) -> None:
    subnets = _subnet_group(PRIMARY)
    rds = boto3.client("rds", region_name=PRIMARY)
    modified = rds.modify_db_subnet_group(
        DBSubnetGroupName="payments-db", DBSubnetGroupDescription="all three", SubnetIds=subnets
    )["DBSubnetGroup"]
    assert modified["DBSubnetGroupName"] == "payments-db"
    (group,) = rds.describe_db_subnet_groups(DBSubnetGroupName="payments-db")["DBSubnetGroups"]
    assert group["DBSubnetGroupDescription"] == "all three"
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(subnets)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_subnet_group(DBSubnetGroupName="missing", SubnetIds=subnets)
    assert _error(exc) == ("DBSubnetGroupNotFoundFault", 404)


def test_reset_db_parameter_group(aws: None) -> None:
    rds = boto3.client("rds", region_name=PRIMARY)
    rds.create_db_parameter_group(
        DBParameterGroupName="pg", DBParameterGroupFamily="postgres15", Description="test"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="pg",
        Parameters=[
            {"ParameterName": name, "ParameterValue": "1", "ApplyMethod": "immediate"}
            for name in ("log_connections", "log_disconnections", "log_lock_waits")
        ],
    )

    def user_parameters() -> list[str]:
        return sorted(
            p["ParameterName"]
            for p in rds.describe_db_parameters(DBParameterGroupName="pg", Source="user")[
                "Parameters"
            ]
        )

    reset = rds.reset_db_parameter_group(
        DBParameterGroupName="pg",
        Parameters=[{"ParameterName": "log_lock_waits", "ApplyMethod": "immediate"}],
    )
    assert reset["DBParameterGroupName"] == "pg"
    assert user_parameters() == ["log_connections", "log_disconnections"]
    rds.reset_db_parameter_group(DBParameterGroupName="pg", ResetAllParameters=True)
    assert user_parameters() == []
    with pytest.raises(ClientError) as exc:
        rds.reset_db_parameter_group(DBParameterGroupName="pg")
    assert _error(exc) == ("InvalidParameterCombination", 400)
    with pytest.raises(ClientError) as exc:
        rds.reset_db_parameter_group(DBParameterGroupName="missing", ResetAllParameters=True)
    assert _error(exc) == ("DBParameterGroupNotFound", 404)


def test_cross_region_replica_is_an_instance_of_its_own(aws: None) -> None:
    _subnet_group(PRIMARY)
    secondary_subnets = _subnet_group(SECONDARY)
    source_arn = _source_db()
    primary = boto3.client("rds", region_name=PRIMARY)
    primary.modify_db_instance(
        DBInstanceIdentifier="payments",
        CloudwatchLogsExportConfiguration={"EnableLogTypes": ["postgresql", "upgrade"]},
        MonitoringInterval=60,
        MonitoringRoleArn=MONITORING_ROLE,
        ApplyImmediately=True,
    )
    rds = boto3.client("rds", region_name=SECONDARY)
    rds.start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source_arn, KmsKeyId=_secondary_key()
    )
    replica = rds.create_db_instance_read_replica(
        DBInstanceIdentifier="payments-replica",
        SourceDBInstanceIdentifier=source_arn,
        SourceRegion=PRIMARY,
        KmsKeyId=_secondary_key(),
        DBSubnetGroupName="payments-db",
        EnableCloudwatchLogsExports=["postgresql"],
        Tags=[{"Key": "Name", "Value": "replica"}],
    )["DBInstance"]
    replica_arn = replica["DBInstanceArn"]
    assert replica_arn.startswith(f"arn:aws:rds:{SECONDARY}:")
    # The subnet group of the replica's region, not the source's group of the same name.
    group = replica["DBSubnetGroup"]
    assert group["DBSubnetGroupArn"].startswith(f"arn:aws:rds:{SECONDARY}:")
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} <= set(secondary_subnets)
    # Its own settings: log exports as requested, no monitoring it did not ask for, no
    # backups replication of its own.
    assert replica["EnabledCloudwatchLogsExports"] == ["postgresql"]
    assert _monitoring(replica) == {"MonitoringInterval": 0, "PerformanceInsightsEnabled": False}
    assert not replica.get("DBInstanceAutomatedBackupsReplications")

    # Changing the replica leaves the source alone.
    rds.modify_db_instance(
        DBInstanceIdentifier="payments-replica",
        CloudwatchLogsExportConfiguration={"DisableLogTypes": ["postgresql"]},
        ApplyImmediately=True,
    )
    rds.add_tags_to_resource(ResourceName=replica_arn, Tags=[{"Key": "k", "Value": "v"}])
    source = primary.describe_db_instances(DBInstanceIdentifier="payments")["DBInstances"][0]
    assert sorted(source["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert source["ReadReplicaDBInstanceIdentifiers"] == [replica_arn]
    assert primary.list_tags_for_resource(ResourceName=source_arn)["TagList"] == []

    # Deleting the replica takes it off the source's list and leaves the source as it was.
    rds.delete_db_instance(DBInstanceIdentifier="payments-replica", SkipFinalSnapshot=True)
    assert rds.describe_db_instances()["DBInstances"] == []
    source = primary.describe_db_instances(DBInstanceIdentifier="payments")["DBInstances"][0]
    assert source["ReadReplicaDBInstanceIdentifiers"] == []
    assert source["DBInstanceStatus"] == "available"
    assert source["MonitoringInterval"] == 60


def test_cross_region_replica_subnet_group_only_in_its_own_region(aws: None) -> None:
    _subnet_group(SECONDARY, "replica-only")
    source_arn = _source_db()
    rds = boto3.client("rds", region_name=SECONDARY)
    replica = rds.create_db_instance_read_replica(
        DBInstanceIdentifier="payments-replica",
        SourceDBInstanceIdentifier=source_arn,
        SourceRegion=PRIMARY,
        KmsKeyId=_secondary_key(),
        DBSubnetGroupName="replica-only",
    )["DBInstance"]
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == "replica-only"


def test_no_replica_of_a_source_with_a_managed_master_password(aws: None) -> None:
    primary = boto3.client("rds", region_name=PRIMARY)
    source_arn = primary.create_db_instance(
        DBInstanceIdentifier="managed",
        Engine="postgres",
        DBInstanceClass="db.t3.medium",
        MasterUsername="payments",
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
    )["DBInstance"]["DBInstanceArn"]
    rds = boto3.client("rds", region_name=SECONDARY)
    with pytest.raises(ClientError) as exc:
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier="managed-replica",
            SourceDBInstanceIdentifier=source_arn,
            SourceRegion=PRIMARY,
        )
    assert _error(exc) == ("InvalidParameterValue", 400)
    assert "ManageMasterUserPassword" in str(exc.value)
    assert rds.describe_db_instances()["DBInstances"] == []
    # A source with its own password can be replicated.
    _source_db("own-password")
    replica = primary.create_db_instance_read_replica(
        DBInstanceIdentifier="own-password-replica", SourceDBInstanceIdentifier="own-password"
    )["DBInstance"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "own-password"


def test_parameters_set_are_reported_as_the_users(aws: None) -> None:
    rds = boto3.client("rds", "us-east-1")
    rds.create_db_parameter_group(
        DBParameterGroupName="sourced", DBParameterGroupFamily="postgres15", Description="d"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="sourced",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    everything = rds.describe_db_parameters(DBParameterGroupName="sourced")["Parameters"]
    assert [(p["ParameterName"], p["Source"]) for p in everything] == [("rds.force_ssl", "user")]
    users = rds.describe_db_parameters(DBParameterGroupName="sourced", Source="user")
    assert len(users["Parameters"]) == 1
    defaults = rds.describe_db_parameters(DBParameterGroupName="sourced", Source="engine-default")
    assert defaults["Parameters"] == []
