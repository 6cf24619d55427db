"""`aws_db_instance_automated_backups_replication`: a source instance's automated backups
copied into this (the secondary's) region, encrypted with a key of this region."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deployer.attributes import Attr, Table
from deployer.aws import DeployerError, NotFound, error_code, or_none, paginate, poll
from deployer.resource import Context, Resource, resource
from resources.rds.common import arn_region, describe_instance

# The Terraform provider's create and delete timeouts of the backups replication.
BACKUPS_REPLICATION_TIMEOUT_S = 75 * 60.0
BACKUPS_REPLICATION_POLL_DELAY_S = 30.0
# Automated-backup replication states (AWS has spelt them in both cases over time).
REPLICATION_ACTIVE_STATUSES = frozenset({"pending", "replicating"})


@resource
class DbInstanceAutomatedBackupsReplication(Resource):
    """The id is the ARN of the replicated backups (`...:auto-backup:ab-...`), as in Terraform.
    Nothing changes in place: AWS has no call to change a replication."""

    type = "aws_db_instance_automated_backups_replication"
    expected_seconds = 300.0
    taggable = False
    table = Table(
        Attr("source_db_instance_arn", "DBInstanceArn", create="SourceDBInstanceArn",
             force_new=True),
        Attr("kms_key_id", "KmsKeyId", force_new=True),
        Attr("retention_period", "BackupRetentionPeriod", force_new=True, default=7,
             to_api=int),
        service="rds",
        create_call="StartDBInstanceAutomatedBackupsReplication",
        described="DBInstanceAutomatedBackup",
    )  # fmt: skip

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params = self.table.create_parameters(desired)
        source_region = arn_region(desired["source_db_instance_arn"])
        if source_region:
            # Only AWS GovCloud needs the presigned URL boto3 then adds; elsewhere it is ignored.
            params["SourceRegion"] = source_region
        backup = ctx.client("rds").start_db_instance_automated_backups_replication(**params)
        return str(backup["DBInstanceAutomatedBackup"]["DBInstanceAutomatedBackupsArn"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        return describe_replicated_backup(ctx.client("rds"), id)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Stops the replication (the copies already made stay, `retained`, until they expire),
        then waits until the source no longer lists it, as Terraform does."""
        rds = ctx.client("rds")
        backup = describe_replicated_backup(rds, id)
        if backup is None:
            return
        source = backup["DBInstanceArn"]
        try:
            rds.stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source)
        except NotFound:
            return
        except ClientError as exc:
            if error_code(exc) == "InvalidDBInstanceState" and "not replicating" in str(exc):
                return
            raise
        source_rds = ctx.client("rds", arn_region(source) or ctx.region)
        poll(
            lambda: True if id not in source_replications(source_rds, source) else None,
            what=f"the source {source} to stop replicating {id}",
            timeout=BACKUPS_REPLICATION_TIMEOUT_S,
            delay=BACKUPS_REPLICATION_POLL_DELAY_S,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Starting twice is refused by AWS, so a replication of the same source is ours."""
        source = desired["source_db_instance_arn"]
        for backup in paginate(
            ctx.client("rds"),
            "describe_db_instance_automated_backups",
            "DBInstanceAutomatedBackups",
            Filters=[{"Name": "db-instance-id", "Values": [source]}],
        ):
            if backup.get("DBInstanceArn") == source and replicating(backup):
                return str(backup["DBInstanceAutomatedBackupsArn"])
        return None

    def wait_ready(self, ctx: Context, id: str) -> None:
        rds = ctx.client("rds")

        def started() -> bool | None:
            backup = describe_replicated_backup(rds, id)
            if backup is None:
                raise DeployerError(f"the replication {id} stopped while it was starting")
            return True if str(backup.get("Status", "")).lower() == "replicating" else None

        poll(
            started,
            what=f"automated backups replication {id} to start",
            timeout=BACKUPS_REPLICATION_TIMEOUT_S,
            delay=BACKUPS_REPLICATION_POLL_DELAY_S,
        )


def replicating(backup: dict[str, Any]) -> bool:
    """Pending or replicating; stopped (`retained`) backups are no replication any more."""
    return str(backup.get("Status", "")).lower() in REPLICATION_ACTIVE_STATUSES


def describe_replicated_backup(rds: Any, arn: str) -> dict[str, Any] | None:
    """The replicated backups by ARN while they replicate; stopped (`retained`) counts as gone."""
    answer = or_none(
        lambda: rds.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn)
    )
    for backup in (answer or {}).get("DBInstanceAutomatedBackups") or []:
        if backup.get("DBInstanceAutomatedBackupsArn") == arn and replicating(backup):
            return dict(backup)
    return None


def source_replications(rds: Any, source_arn: str) -> set[str]:
    """ARNs of the backup replications the source instance still lists (none once it is gone)."""
    db = describe_instance(rds, source_arn)
    if db is None:
        return set()
    return {
        r["DBInstanceAutomatedBackupsArn"]
        for r in db.get("DBInstanceAutomatedBackupsReplications", [])
    }
