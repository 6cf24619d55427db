"""RDS: DB instances (sources and cross-region read replicas), subnet and parameter groups, and
the cross-region replication of an instance's automated backups.

The master password. An instance can take it through the write-only `password_wo` (Terraform
1.11+): sent at create, and again only when `password_wo_version` changes; never stored, compared
or shown. Terraform writes `password_wo = jsondecode(<secret>.secret_string)["password"]`; a
node may instead refer to the whole `secret_string` (a JSON credentials document), from which
the driver takes the `password` field (`master_password`); a plain password is taken as it is.

Terraform's import id of `aws_db_instance` is the identifier, which is also our id (the provider's
own `id` attribute has been the `resource_id` since v5: references name `identifier`).

RDS is slow: creating a Multi-AZ instance or a cross-region replica takes tens of minutes, so
`create` returns as soon as RDS has accepted the request (the identifier and ARN are known then)
and `wait_ready` waits for `available`; only dependents that need the instance ready wait for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from deployer.arns import Arn, Claim
from deployer.aws import (
    DeployerError,
    error_code,
    iam_propagation_error,
    is_not_found,
    paginate,
    poll,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.diff import equivalent
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource

# Timeouts. The same wait follows a create and an update, so it takes the longer of the Terraform
# provider's defaults for aws_db_instance (create 40 min, which AWS's Multi-AZ creates can use up;
# update 80 min, for class or storage changes of a Multi-AZ instance).
DB_INSTANCE_READY_TIMEOUT_S = 80 * 60.0
# The Terraform provider's default delete timeout for aws_db_instance.
DB_INSTANCE_DELETE_TIMEOUT_S = 60 * 60.0
# The botocore waiters `db_instance_available` / `db_instance_deleted` poll every 30 s.
DB_INSTANCE_POLL_DELAY_S = 30.0
# The Terraform provider's create and delete timeouts of the backups replication.
BACKUPS_REPLICATION_TIMEOUT_S = 75 * 60.0
BACKUPS_REPLICATION_POLL_DELAY_S = 30.0
# A subnet or parameter group stays "in use" for a moment after its instance is gone; AWS
# documents no bound, so wait a few minutes before giving up.
GROUP_RELEASE_TIMEOUT_S = 5 * 60.0
# A monitoring role or KMS key a few seconds old can be refused by CreateDBInstance while IAM
# propagates; as long as the IAM module waits for the same.
IAM_PROPAGATION_TIMEOUT_S = 120.0
# ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call.
MAX_PARAMETERS_PER_CALL = 20

# DBInstanceStatus values after which `available` will not come without someone's intervention.
FAILED_STATUSES = frozenset(
    {
        "deleted",
        "deleting",
        "failed",
        "inaccessible-encryption-credentials",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
    }
)
# Automated-backup replication states (AWS has spelt them in both cases over time).
REPLICATION_ACTIVE_STATUSES = frozenset({"pending", "replicating"})


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class DbSubnetGroup(Resource):
    type = "aws_db_subnet_group"
    arn_kind = ("rds", "subgrp")
    force_new = frozenset({"name"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        group = ctx.client("rds").create_db_subnet_group(
            DBSubnetGroupName=desired["name"],
            DBSubnetGroupDescription=desired["description"],
            SubnetIds=list(desired["subnet_ids"]),
            Tags=tag_list(desired.get("tags") or {}),
        )["DBSubnetGroup"]
        return str(group["DBSubnetGroupName"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        rds = ctx.client("rds")
        try:
            group = rds.describe_db_subnet_groups(DBSubnetGroupName=id)["DBSubnetGroups"][0]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        arn = group["DBSubnetGroupArn"]
        return {
            "id": group["DBSubnetGroupName"],
            "name": group["DBSubnetGroupName"],
            "arn": arn,
            "description": group.get("DBSubnetGroupDescription", ""),
            "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets", [])),
            "vpc_id": group.get("VpcId"),
            "supported_network_types": sorted(group.get("SupportedNetworkTypes", [])),
            "tags": resource_tags(rds, arn),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        rds = ctx.client("rds")
        if desired["description"] != live.get("description") or sorted(
            desired["subnet_ids"]
        ) != live.get("subnet_ids"):
            rds.modify_db_subnet_group(
                DBSubnetGroupName=id,
                DBSubnetGroupDescription=desired["description"],
                SubnetIds=list(desired["subnet_ids"]),
            )
        update_tags(rds, live["arn"], desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        rds = ctx.client("rds")
        delete_when_released(
            lambda: rds.delete_db_subnet_group(DBSubnetGroupName=id),
            in_use_code="InvalidDBSubnetGroupStateFault",
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        live = self.read(ctx, desired["name"])
        return live["id"] if live and is_ours(live["tags"], desired) else None


@resource
class DbParameterGroup(Resource):
    """Parameters are read back as Terraform does: every parameter AWS reports as set by the
    user, plus those the node names even where AWS reports them at their default (setting a
    parameter to its default value does not make it "user" on AWS)."""

    type = "aws_db_parameter_group"
    arn_kind = ("rds", "pg")
    # RDS has no call that changes a parameter group's family or description.
    force_new = frozenset({"name", "family", "description"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        rds = ctx.client("rds")
        name = str(
            rds.create_db_parameter_group(
                DBParameterGroupName=desired["name"],
                DBParameterGroupFamily=desired["family"],
                Description=desired["description"],
                Tags=tag_list(desired.get("tags") or {}),
            )["DBParameterGroup"]["DBParameterGroupName"]
        )
        try:
            set_parameters(rds, name, desired.get("parameter") or [])
        except Exception:
            # A group without its parameters must not be left behind for the next run to adopt.
            rds.delete_db_parameter_group(DBParameterGroupName=name)
            raise
        return name

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        rds = ctx.client("rds")
        try:
            group = rds.describe_db_parameter_groups(DBParameterGroupName=id)["DBParameterGroups"][
                0
            ]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        arn = group["DBParameterGroupArn"]
        wanted = {p["name"]: p for p in ctx.node.attributes.get("parameter") or []}
        return {
            "id": group["DBParameterGroupName"],
            "name": group["DBParameterGroupName"],
            "arn": arn,
            "family": group["DBParameterGroupFamily"],
            "description": group.get("Description", ""),
            "parameter": read_parameters(rds, id, wanted),
            "tags": resource_tags(rds, arn),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        rds = ctx.client("rds")
        have = {p["name"]: p for p in live.get("parameter") or []}
        want = {p["name"]: p for p in desired.get("parameter") or []}
        changed = [
            p
            for name, p in want.items()
            if name not in have
            or str(p["value"]) != str(have[name]["value"])
            or _apply_method(p) != have[name].get("apply_method")
        ]
        set_parameters(rds, id, changed)
        removed = [p for name, p in have.items() if name not in want]
        for chunk in chunks(removed, MAX_PARAMETERS_PER_CALL):
            rds.reset_db_parameter_group(
                DBParameterGroupName=id,
                Parameters=[
                    {"ParameterName": p["name"], "ApplyMethod": _apply_method(p)} for p in chunk
                ],
            )
        update_tags(rds, live["arn"], desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        rds = ctx.client("rds")
        delete_when_released(
            lambda: rds.delete_db_parameter_group(DBParameterGroupName=id),
            in_use_code="InvalidDBParameterGroupState",
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        live = self.read(ctx, desired["name"])
        return live["id"] if live and is_ours(live["tags"], desired) else None


# Node attribute → CreateDBInstance parameter.
CREATE_PARAMETERS: dict[str, str] = {
    "identifier": "DBInstanceIdentifier",
    "engine": "Engine",
    "engine_version": "EngineVersion",
    "instance_class": "DBInstanceClass",
    "allocated_storage": "AllocatedStorage",
    "max_allocated_storage": "MaxAllocatedStorage",
    "storage_type": "StorageType",
    "iops": "Iops",
    "storage_throughput": "StorageThroughput",
    "storage_encrypted": "StorageEncrypted",
    "kms_key_id": "KmsKeyId",
    "multi_az": "MultiAZ",
    "availability_zone": "AvailabilityZone",
    "db_subnet_group_name": "DBSubnetGroupName",
    "vpc_security_group_ids": "VpcSecurityGroupIds",
    "parameter_group_name": "DBParameterGroupName",
    "option_group_name": "OptionGroupName",
    "network_type": "NetworkType",
    "port": "Port",
    "publicly_accessible": "PubliclyAccessible",
    "db_name": "DBName",
    "username": "MasterUsername",
    "manage_master_user_password": "ManageMasterUserPassword",
    "master_user_secret_kms_key_id": "MasterUserSecretKmsKeyId",
    "iam_database_authentication_enabled": "EnableIAMDatabaseAuthentication",
    "backup_retention_period": "BackupRetentionPeriod",
    "backup_window": "PreferredBackupWindow",
    "maintenance_window": "PreferredMaintenanceWindow",
    "copy_tags_to_snapshot": "CopyTagsToSnapshot",
    "auto_minor_version_upgrade": "AutoMinorVersionUpgrade",
    "deletion_protection": "DeletionProtection",
    "enabled_cloudwatch_logs_exports": "EnableCloudwatchLogsExports",
    "monitoring_interval": "MonitoringInterval",
    "monitoring_role_arn": "MonitoringRoleArn",
    "performance_insights_enabled": "EnablePerformanceInsights",
    "performance_insights_kms_key_id": "PerformanceInsightsKMSKeyId",
    "performance_insights_retention_period": "PerformanceInsightsRetentionPeriod",
    "ca_cert_identifier": "CACertificateIdentifier",
}

# What CreateDBInstanceReadReplica takes: a replica inherits engine, version, storage
# encryption, master user, database name and backup settings from its source.
REPLICA_PARAMETERS: dict[str, str] = {
    attribute: parameter
    for attribute, parameter in CREATE_PARAMETERS.items()
    if attribute
    not in {
        "engine",
        "engine_version",
        "storage_encrypted",
        "db_name",
        "username",
        "manage_master_user_password",
        "master_user_secret_kms_key_id",
        "backup_retention_period",
        "backup_window",
        "maintenance_window",
    }
}

# Node attribute → ModifyDBInstance parameter, for attributes sent alone when they change.
MODIFY_PARAMETERS: dict[str, str] = {
    "instance_class": "DBInstanceClass",
    "allocated_storage": "AllocatedStorage",
    "max_allocated_storage": "MaxAllocatedStorage",
    "storage_type": "StorageType",
    "iops": "Iops",
    "storage_throughput": "StorageThroughput",
    "multi_az": "MultiAZ",
    "vpc_security_group_ids": "VpcSecurityGroupIds",
    "parameter_group_name": "DBParameterGroupName",
    "option_group_name": "OptionGroupName",
    "network_type": "NetworkType",
    "port": "DBPortNumber",
    "publicly_accessible": "PubliclyAccessible",
    "iam_database_authentication_enabled": "EnableIAMDatabaseAuthentication",
    "backup_retention_period": "BackupRetentionPeriod",
    "backup_window": "PreferredBackupWindow",
    "maintenance_window": "PreferredMaintenanceWindow",
    "copy_tags_to_snapshot": "CopyTagsToSnapshot",
    "auto_minor_version_upgrade": "AutoMinorVersionUpgrade",
    "deletion_protection": "DeletionProtection",
    "ca_cert_identifier": "CACertificateIdentifier",
}
# Attributes AWS takes only together (a monitoring interval needs its role; Performance
# Insights' key and retention go with switching it on).
MODIFIED_TOGETHER: tuple[dict[str, str], ...] = (
    {"monitoring_interval": "MonitoringInterval", "monitoring_role_arn": "MonitoringRoleArn"},
    {
        "performance_insights_enabled": "EnablePerformanceInsights",
        "performance_insights_kms_key_id": "PerformanceInsightsKMSKeyId",
        "performance_insights_retention_period": "PerformanceInsightsRetentionPeriod",
    },
)
INTEGER_PARAMETERS = frozenset(
    {
        "AllocatedStorage",
        "MaxAllocatedStorage",
        "Iops",
        "StorageThroughput",
        "Port",
        "DBPortNumber",
        "BackupRetentionPeriod",
        "MonitoringInterval",
        "PerformanceInsightsRetentionPeriod",
    }
)


@resource
class DbInstance(Resource):
    """The primary instance, or (with `replicate_source_db`) a cross-region read replica."""

    type = "aws_db_instance"
    arn_kind = ("rds", "db")
    expected_seconds = 900.0
    replace_needs_consent = True
    force_new = frozenset(
        {
            "identifier",
            "engine",
            "kms_key_id",
            "storage_encrypted",
            "db_name",
            "username",
            "replicate_source_db",
            "db_subnet_group_name",
        }
    )
    # The secondary's Terraform finds the primary through `data "aws_db_instance"`, whose ARN
    # attribute is `db_instance_arn`.
    lookup_by = {"db_instance_identifier": "identifier"}
    lookup_renames = {"arn": "db_instance_arn"}
    # Terraform-side switches that steer deletes and updates; AWS does not report them.
    write_only = frozenset(
        {
            "skip_final_snapshot",
            "final_snapshot_identifier",
            "delete_automated_backups",
            "apply_immediately",
            "allow_major_version_upgrade",
            # Not readable from AWS: compared with what was last applied (see modify_parameters).
            "password_wo_version",
        }
    )
    # A Terraform import cannot know which password version was sent: without this, the first
    # apply after a takeover would send the password again (a ModifyDBInstance).
    import_ignores = frozenset({"password_wo_version"})

    def arn_claim(self, arn: Arn) -> Claim | None:
        """AWS's automated snapshots (`snapshot:rds:<instance>-<time>`) and automated backups
        of an instance carry its tags but are AWS's to keep and delete, not ours."""
        if arn.service != "rds":
            return None
        automated = arn.resource_type in ("snapshot", "cluster-snapshot") and (
            arn.resource_id.startswith("rds:")
        )
        return Claim.DERIVED if automated or arn.resource_type == "auto-backup" else None

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """One call, returning as soon as RDS accepted it: `wait_ready` waits for `available`."""
        rds = ctx.client("rds")
        source = desired.get("replicate_source_db")
        tags = {"Tags": tag_list(desired.get("tags") or {})}
        if source:
            if desired.get("password_wo") is not None:
                raise DeployerError(
                    f"{ctx.node.key}: a read replica has its source's master password; "
                    "password_wo cannot be set on it"
                )
            params = {**api_parameters(desired, REPLICA_PARAMETERS), **tags}
            params["SourceDBInstanceIdentifier"] = source
            source_region = arn_region(source)
            if source_region and source_region != ctx.region:
                # boto3 then presigns the request to the source region (PreSignedUrl).
                params["SourceRegion"] = source_region

            def call() -> dict[str, Any]:
                response: dict[str, Any] = rds.create_db_instance_read_replica(**params)
                return response
        else:
            params = {**api_parameters(desired, CREATE_PARAMETERS), **tags}
            if desired.get("password_wo") is not None:
                params["MasterUserPassword"] = master_password(desired["password_wo"], ctx.node.key)

            def call() -> dict[str, Any]:
                response: dict[str, Any] = rds.create_db_instance(**params)
                return response

        try:
            created = retry_while(
                call, retryable=iam_propagation_error, timeout=IAM_PROPAGATION_TIMEOUT_S
            )["DBInstance"]
        except Exception as exc:
            if error_code(exc) == "DBInstanceAlreadyExists":
                # A retried request whose first attempt went through: adopt only our own.
                adopted = self.find(ctx, desired)
                if adopted is not None:
                    return adopted
            raise
        return str(created["DBInstanceIdentifier"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        db = describe_instance(ctx.client("rds"), id)
        if db is None or db["DBInstanceStatus"] in ("deleting", "deleted"):
            return None
        return instance_attributes(db, ctx.node.attributes.get("engine_version"))

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """One ModifyDBInstance with only what changed; `wait_ready` waits for it to apply."""
        rds = ctx.client("rds")
        changes = modify_parameters(desired, live, ctx.node.key)
        if changes:
            wait_for_instance(rds, id, modifiable, what=f"RDS instance {id} to accept changes")
            rds.modify_db_instance(
                DBInstanceIdentifier=id,
                ApplyImmediately=desired.get("apply_immediately") is not False,
                **changes,
            )
        update_tags(rds, live["arn"], desired, live)

    def check_delete(self, ctx: Context, id: str) -> str | None:
        """Deletion protection holds unless the user switches it off for this destroy."""
        if ctx.options.get("disable_deletion_protection"):
            return None
        db = describe_instance(ctx.client("rds"), id)
        if db is not None and db.get("DeletionProtection"):
            return (
                f"database {id} has deletion protection on: destroy with "
                "--disable-deletion-protection to switch it off (a final snapshot is kept)"
            )
        return None

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Switches deletion protection off (when allowed: `check_delete`), then deletes with a
        final snapshot and waits until the instance is gone (a subnet group in use cannot go
        before it)."""
        rds = ctx.client("rds")
        reason = self.check_delete(ctx, id)
        if reason:
            raise DeployerError(reason)
        db = describe_instance(rds, id)
        if db is None:
            return
        if db["DBInstanceStatus"] not in ("deleting", "deleted"):
            if db.get("DeletionProtection"):
                wait_for_instance(rds, id, modifiable, what=f"RDS instance {id} to accept changes")
                rds.modify_db_instance(
                    DBInstanceIdentifier=id, DeletionProtection=False, ApplyImmediately=True
                )
            attributes = ctx.node.attributes
            params: dict[str, Any] = {
                "DBInstanceIdentifier": id,
                "DeleteAutomatedBackups": attributes.get("delete_automated_backups") is not False,
            }
            if attributes.get("skip_final_snapshot"):
                params["SkipFinalSnapshot"] = True
            elif attributes.get("final_snapshot_identifier"):
                params["FinalDBSnapshotIdentifier"] = attributes["final_snapshot_identifier"]
            else:
                raise DeployerError(
                    f"{ctx.node.key}: neither skip_final_snapshot nor final_snapshot_identifier "
                    "is set, and RDS needs one of them to delete the instance"
                )
            try:
                retry_while(
                    lambda: rds.delete_db_instance(**params),
                    retryable=delete_not_yet_possible,
                    timeout=DB_INSTANCE_DELETE_TIMEOUT_S,
                    first_delay=5.0,
                )
            except Exception as exc:
                if is_not_found(exc):
                    return
                if being_deleted(exc):
                    pass  # someone else's delete got there first: wait for it below
                elif error_code(exc) == "DBSnapshotAlreadyExists":
                    raise DeployerError(
                        f"{ctx.node.key}: the final snapshot {params['FinalDBSnapshotIdentifier']}"
                        " already exists (from an earlier delete): copy it elsewhere or delete it,"
                        " then destroy again"
                    ) from exc
                else:
                    raise
        poll(
            lambda: True if describe_instance(rds, id) is None else None,
            what=f"RDS instance {id} to be deleted",
            timeout=DB_INSTANCE_DELETE_TIMEOUT_S,
            delay=DB_INSTANCE_POLL_DELAY_S,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        db = describe_instance(ctx.client("rds"), desired["identifier"])
        if db is None or db["DBInstanceStatus"] in ("deleting", "deleted"):
            return None
        if not is_ours(tag_dict(db.get("TagList")), desired):
            return None
        return str(db["DBInstanceIdentifier"])

    def wait_ready(self, ctx: Context, id: str) -> None:
        """`available` with no modification pending (right after ModifyDBInstance the status
        still reads `available` for a moment while the change is only pending)."""
        applies_now = ctx.node.attributes.get("apply_immediately") is not False
        wait_for_instance(
            ctx.client("rds"),
            id,
            lambda db: (
                db["DBInstanceStatus"] == "available"
                and (not applies_now or not db.get("PendingModifiedValues"))
            ),
            what=f"RDS instance {id} to be available",
        )


@resource
class DbInstanceAutomatedBackupsReplication(Resource):
    """The primary's automated backups copied into this (the secondary's) region.

    The id is the ARN of the replicated backups (`...:auto-backup:ab-...`), as in Terraform.
    """

    type = "aws_db_instance_automated_backups_replication"
    expected_seconds = 300.0
    taggable = False
    force_new = frozenset({"source_db_instance_arn", "kms_key_id", "retention_period"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        source = desired["source_db_instance_arn"]
        params: dict[str, Any] = {
            "SourceDBInstanceArn": source,
            "BackupRetentionPeriod": int(desired.get("retention_period") or 7),
        }
        if desired.get("kms_key_id"):
            params["KmsKeyId"] = desired["kms_key_id"]
        if arn_region(source):
            # Only AWS GovCloud needs the presigned URL boto3 then adds; elsewhere it is ignored.
            params["SourceRegion"] = arn_region(source)
        backup = ctx.client("rds").start_db_instance_automated_backups_replication(**params)
        return str(backup["DBInstanceAutomatedBackup"]["DBInstanceAutomatedBackupsArn"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        backup = describe_replicated_backup(ctx.client("rds"), id)
        if backup is None:
            return None
        return {
            "id": backup["DBInstanceAutomatedBackupsArn"],
            "source_db_instance_arn": backup["DBInstanceArn"],
            "kms_key_id": backup.get("KmsKeyId"),
            "retention_period": backup.get("BackupRetentionPeriod"),
        }

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
        except Exception as exc:
            if is_not_found(exc) or (
                error_code(exc) == "InvalidDBInstanceState" and "not replicating" in str(exc)
            ):
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
            if (
                backup.get("DBInstanceArn") == source
                and str(backup.get("Status", "")).lower() in REPLICATION_ACTIVE_STATUSES
            ):
                return str(backup["DBInstanceAutomatedBackupsArn"])
        return None

    def wait_ready(self, ctx: Context, id: str) -> None:
        rds = ctx.client("rds")

        def replicating() -> bool | None:
            backup = describe_replicated_backup(rds, id)
            if backup is None:
                raise DeployerError(f"the replication {id} stopped while it was starting")
            return True if str(backup.get("Status", "")).lower() == "replicating" else None

        poll(
            replicating,
            what=f"automated backups replication {id} to start",
            timeout=BACKUPS_REPLICATION_TIMEOUT_S,
            delay=BACKUPS_REPLICATION_POLL_DELAY_S,
        )


# ---------------------------------------------------------------------------------------------
# Mapping, finders, status and waiting
# ---------------------------------------------------------------------------------------------


def api_parameters(desired: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    """The API parameters for the attributes the node sets, with botocore's types."""
    return {
        parameter: api_value(parameter, desired[attribute])
        for attribute, parameter in table.items()
        if desired.get(attribute) is not None
    }


def api_value(parameter: str, value: Any) -> Any:
    if parameter in INTEGER_PARAMETERS:
        return int(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


def modify_parameters(
    desired: dict[str, Any], live: dict[str, Any], where: str = "aws_db_instance"
) -> dict[str, Any]:
    """ModifyDBInstance parameters for the attributes that differ, and only those.

    The master password is sent again when `password_wo_version` differs from the version last
    applied. AWS cannot report that version: `live` carries it only where the engine supplies
    the value recorded at the last apply; without it nothing is sent (never on a guess).
    """

    def differs(attribute: str) -> bool:
        want = desired.get(attribute)
        return want is not None and not equivalent(want, live.get(attribute), attribute)

    changes = {
        parameter: api_value(parameter, desired[attribute])
        for attribute, parameter in MODIFY_PARAMETERS.items()
        if differs(attribute)
    }
    for group in MODIFIED_TOGETHER:
        if any(differs(attribute) for attribute in group):
            changes.update(api_parameters(desired, group))
    if differs("engine_version"):
        changes["EngineVersion"] = desired["engine_version"]
        if major_version(desired["engine_version"]) != major_version(
            str(live.get("engine_version_actual") or live.get("engine_version") or "")
        ):
            changes["AllowMajorVersionUpgrade"] = bool(desired.get("allow_major_version_upgrade"))
    if differs("enabled_cloudwatch_logs_exports"):
        want, have = (
            set(desired["enabled_cloudwatch_logs_exports"]),
            set(live.get("enabled_cloudwatch_logs_exports") or []),
        )
        changes["CloudwatchLogsExportConfiguration"] = {
            "EnableLogTypes": sorted(want - have),
            "DisableLogTypes": sorted(have - want),
        }
    if differs("manage_master_user_password"):
        changes["ManageMasterUserPassword"] = bool(desired["manage_master_user_password"])
        if desired["manage_master_user_password"]:
            if desired.get("master_user_secret_kms_key_id"):
                changes["MasterUserSecretKmsKeyId"] = desired["master_user_secret_kms_key_id"]
        elif desired.get("password_wo") is None:
            raise DeployerError(
                f"{where}: turning manage_master_user_password off needs a new master password "
                "(password_wo)"
            )
        else:
            changes["MasterUserPassword"] = master_password(desired["password_wo"], where)
    elif differs("master_user_secret_kms_key_id") and live.get("manage_master_user_password"):
        raise DeployerError(
            "RDS cannot change the KMS key of a managed master password's secret; turn "
            "manage_master_user_password off and on again with the new key in the RDS console"
        )
    if password_version_changed(desired, live):
        if desired.get("password_wo") is None:
            raise DeployerError(f"{where}: password_wo_version changed but password_wo is not set")
        changes["MasterUserPassword"] = master_password(desired["password_wo"], where)
    return changes


def password_version_changed(desired: dict[str, Any], live: dict[str, Any]) -> bool:
    """Whether `password_wo_version` differs from the version last applied, when that is known
    (AWS does not report it: see `modify_parameters`)."""
    want = desired.get("password_wo_version")
    return (
        want is not None
        and "password_wo_version" in live
        and not equivalent(want, live["password_wo_version"])
    )


# RDS for PostgreSQL's rules for a master password (CreateDBInstance, MasterUserPassword).
MASTER_PASSWORD_LENGTH = (8, 128)
MASTER_PASSWORD_FORBIDDEN = frozenset('/"@ ')


def master_password(value: Any, where: str) -> str:
    """The password `password_wo` carries, checked against RDS's rules; errors never show it.

    Until the model can write `jsondecode(...secret_string)["password"]`, `password_wo` refers to
    the whole credentials document from Secrets Manager: its `password` field is the password.
    A value that is not a JSON object is the password itself.
    """
    if not isinstance(value, str):
        raise DeployerError(f"{where}: password_wo is not a string")
    password = value
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if isinstance(document, dict):
        if not isinstance(document.get("password"), str):
            raise DeployerError(
                f"{where}: password_wo is a JSON document without a string `password` field"
            )
        password = document["password"]
    low, high = MASTER_PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise DeployerError(
            f"{where}: the master password has {len(password)} characters; RDS takes {low} to "
            f"{high}"
        )
    if any(
        c in MASTER_PASSWORD_FORBIDDEN or not (c.isascii() and c.isprintable()) for c in password
    ):
        raise DeployerError(
            f"{where}: the master password holds a character RDS refuses (only printable ASCII, "
            "without '/', '\"', '@' or space)"
        )
    return password


def instance_attributes(db: dict[str, Any], wanted_version: str | None) -> dict[str, Any]:
    """DescribeDBInstances' view of an instance in the node's attribute names; never a password
    (the managed secret appears by ARN only)."""
    endpoint = db.get("Endpoint") or {}
    secret = db.get("MasterUserSecret")
    actual_version = db.get("EngineVersion", "")
    return {
        "id": db["DBInstanceIdentifier"],
        "identifier": db["DBInstanceIdentifier"],
        "arn": db["DBInstanceArn"],
        "resource_id": db.get("DbiResourceId"),
        "status": db["DBInstanceStatus"],
        "engine": db.get("Engine"),
        "engine_version": reported_engine_version(wanted_version, actual_version),
        "engine_version_actual": actual_version,
        "instance_class": db.get("DBInstanceClass"),
        "allocated_storage": db.get("AllocatedStorage"),
        "max_allocated_storage": db.get("MaxAllocatedStorage"),
        "storage_type": db.get("StorageType"),
        "iops": db.get("Iops"),
        "storage_throughput": db.get("StorageThroughput"),
        "storage_encrypted": db.get("StorageEncrypted", False),
        "kms_key_id": db.get("KmsKeyId"),
        "multi_az": db.get("MultiAZ", False),
        "availability_zone": db.get("AvailabilityZone"),
        "db_subnet_group_name": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "vpc_security_group_ids": sorted(
            g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])
        ),
        "parameter_group_name": next(
            (g["DBParameterGroupName"] for g in db.get("DBParameterGroups", [])), None
        ),
        "option_group_name": next(
            (g["OptionGroupName"] for g in db.get("OptionGroupMemberships", [])), None
        ),
        "network_type": db.get("NetworkType"),
        "publicly_accessible": db.get("PubliclyAccessible", False),
        "address": endpoint.get("Address"),
        "port": endpoint.get("Port"),
        "hosted_zone_id": endpoint.get("HostedZoneId"),
        "endpoint": f"{endpoint['Address']}:{endpoint['Port']}" if endpoint else None,
        "db_name": db.get("DBName"),
        "username": db.get("MasterUsername"),
        "manage_master_user_password": secret is not None,
        "master_user_secret": (
            [
                {
                    "secret_arn": secret.get("SecretArn"),
                    "kms_key_id": secret.get("KmsKeyId"),
                    "secret_status": secret.get("SecretStatus"),
                }
            ]
            if secret
            else []
        ),
        "master_user_secret_kms_key_id": (secret or {}).get("KmsKeyId"),
        "iam_database_authentication_enabled": db.get("IAMDatabaseAuthenticationEnabled", False),
        "backup_retention_period": db.get("BackupRetentionPeriod"),
        "backup_window": db.get("PreferredBackupWindow"),
        "maintenance_window": db.get("PreferredMaintenanceWindow"),
        "copy_tags_to_snapshot": db.get("CopyTagsToSnapshot", False),
        "auto_minor_version_upgrade": db.get("AutoMinorVersionUpgrade", False),
        "deletion_protection": db.get("DeletionProtection", False),
        "enabled_cloudwatch_logs_exports": sorted(db.get("EnabledCloudwatchLogsExports", [])),
        "monitoring_interval": db.get("MonitoringInterval", 0),
        "monitoring_role_arn": db.get("MonitoringRoleArn"),
        "performance_insights_enabled": db.get("PerformanceInsightsEnabled", False),
        "performance_insights_kms_key_id": db.get("PerformanceInsightsKMSKeyId"),
        "performance_insights_retention_period": db.get("PerformanceInsightsRetentionPeriod"),
        "ca_cert_identifier": db.get("CACertificateIdentifier"),
        "license_model": db.get("LicenseModel"),
        "replicate_source_db": db.get("ReadReplicaSourceDBInstanceIdentifier"),
        "replicas": list(db.get("ReadReplicaDBInstanceIdentifiers", [])),
        "tags": user_tags(tag_dict(db.get("TagList"))),
    }


def reported_engine_version(wanted: str | None, actual: str) -> str:
    """Terraform's rule: a configured `15` matches an actual `15.7` (the version it runs after
    automatic minor upgrades); otherwise the actual version is reported."""
    if isinstance(wanted, str) and actual.startswith(f"{wanted}."):
        return wanted
    return actual


def major_version(version: str) -> str:
    parts = version.split(".")
    return parts[0] if parts[0].isdigit() and int(parts[0]) >= 10 else ".".join(parts[:2])


def describe_instance(rds: Any, identifier: str) -> dict[str, Any] | None:
    try:
        instances = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return dict(instances[0]) if instances else None


def modifiable(db: dict[str, Any]) -> bool:
    """ModifyDBInstance is refused while the instance is creating, backing up or modifying."""
    return db["DBInstanceStatus"] in ("available", "storage-optimization")


def delete_not_yet_possible(exc: BaseException) -> bool:
    """DeleteDBInstance refused for a passing reason: the instance is busy (backing up,
    modifying), or the switched-off deletion protection has not taken effect yet."""
    code = error_code(exc)
    if being_deleted(exc):
        return False
    return code == "InvalidDBInstanceState" or (
        code == "InvalidParameterCombination" and "deletion protection" in str(exc).lower()
    )


def being_deleted(exc: BaseException) -> bool:
    return error_code(exc) == "InvalidDBInstanceState" and "already being deleted" in str(exc)


def wait_for_instance(
    rds: Any, identifier: str, done: Callable[[dict[str, Any]], bool], *, what: str
) -> None:
    """Poll DescribeDBInstances until `done`; fail at once on states that never recover alone."""

    def check() -> bool | None:
        db = describe_instance(rds, identifier)
        if db is None:
            raise DeployerError(f"RDS instance {identifier} disappeared while waiting for {what}")
        status = db["DBInstanceStatus"]
        if status in FAILED_STATUSES:
            raise DeployerError(f"RDS instance {identifier} is {status}, waiting for {what}")
        return True if done(db) else None

    poll(check, what=what, timeout=DB_INSTANCE_READY_TIMEOUT_S, delay=DB_INSTANCE_POLL_DELAY_S)


def describe_replicated_backup(rds: Any, arn: str) -> dict[str, Any] | None:
    """The replicated backups by ARN while they replicate; stopped (`retained`) counts as gone."""
    try:
        backups = rds.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn)[
            "DBInstanceAutomatedBackups"
        ]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    for backup in backups:
        if (
            backup.get("DBInstanceAutomatedBackupsArn") == arn
            and str(backup.get("Status", "")).lower() in REPLICATION_ACTIVE_STATUSES
        ):
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


def arn_region(value: str) -> str | None:
    """The region of an ARN, None for a plain identifier."""
    parts = value.split(":")
    return parts[3] if value.startswith("arn:") and len(parts) > 3 else None


def set_parameters(rds: Any, group: str, parameters: list[dict[str, Any]]) -> None:
    for chunk in chunks(parameters, MAX_PARAMETERS_PER_CALL):
        rds.modify_db_parameter_group(
            DBParameterGroupName=group,
            Parameters=[
                {
                    "ParameterName": p["name"],
                    "ParameterValue": str(p["value"]),
                    "ApplyMethod": _apply_method(p),
                }
                for p in chunk
            ],
        )


def read_parameters(
    rds: Any, group: str, wanted: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """User-set parameters, plus the wanted ones AWS reports at their default.

    For a parameter AWS considers unmodified the apply method means nothing (AWS reports
    `pending-reboot` for them all), so the wanted one is reported.
    """
    found = {
        p["ParameterName"]: parameter_block(p)
        for p in paginate(
            rds, "describe_db_parameters", "Parameters", DBParameterGroupName=group, Source="user"
        )
    }
    if set(wanted) - set(found):
        for p in paginate(rds, "describe_db_parameters", "Parameters", DBParameterGroupName=group):
            name = p["ParameterName"]
            if name in wanted and name not in found and "ParameterValue" in p:
                found[name] = {**parameter_block(p), "apply_method": _apply_method(wanted[name])}
    return [found[name] for name in sorted(found)]


def parameter_block(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": parameter["ParameterName"],
        "value": parameter.get("ParameterValue"),
        "apply_method": parameter.get("ApplyMethod", "immediate"),
    }


def _apply_method(parameter: dict[str, Any]) -> str:
    """Terraform's default apply method."""
    return str(parameter.get("apply_method") or "immediate")


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resource_tags(rds: Any, arn: str) -> dict[str, str]:
    return user_tags(tag_dict(rds.list_tags_for_resource(ResourceName=arn).get("TagList")))


def update_tags(rds: Any, arn: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
    if to_set:
        rds.add_tags_to_resource(ResourceName=arn, Tags=tag_list(to_set))
    if to_remove:
        rds.remove_tags_from_resource(ResourceName=arn, TagKeys=to_remove)


def is_ours(tags: dict[str, str], desired: dict[str, Any]) -> bool:
    """Made by this deployer for this node: the address tag matches (names alone may clash)."""
    return tags.get(ADDRESS_TAG) == (desired.get("tags") or {}).get(ADDRESS_TAG)


def delete_when_released(call: Callable[[], Any], *, in_use_code: str) -> None:
    """Delete a group, waiting while AWS still counts a just-deleted instance as its user."""
    try:
        retry_while(
            call,
            retryable=lambda exc: error_code(exc) == in_use_code,
            timeout=GROUP_RELEASE_TIMEOUT_S,
            first_delay=5.0,
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise
