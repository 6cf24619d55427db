"""The RDS automated-backups replication extension, in-process under moto.mock_aws."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from deployer.emulator import ENV_DEFAULTS, apply_env_defaults, install_extensions

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    install_extensions()
    with mock_aws():
        yield


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


def test_install_extensions_is_idempotent() -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    install_extensions()
    describe = RDSBackend.describe_db_instance_automated_backups
    start = RDSResponse.start_db_instance_automated_backups_replication  # type: ignore[attr-defined]
    install_extensions()
    assert RDSBackend.describe_db_instance_automated_backups is describe
    assert RDSResponse.start_db_instance_automated_backups_replication is start  # type: ignore[attr-defined]


def test_apply_env_defaults_keeps_values_already_set() -> None:
    environ = {"MOTO_ACM_VALIDATION_WAIT": "5"}
    apply_env_defaults(environ)
    assert environ == {**ENV_DEFAULTS, "MOTO_ACM_VALIDATION_WAIT": "5"}


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


def test_kms_rotation_period_is_kept_and_reported(aws: None) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert (status["KeyRotationEnabled"], status["RotationPeriodInDays"]) == (True, 180)
    kms.enable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["RotationPeriodInDays"] == 365
    kms.disable_key_rotation(KeyId=key_id)
    assert "RotationPeriodInDays" not in kms.get_key_rotation_status(KeyId=key_id)
