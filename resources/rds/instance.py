"""`aws_db_instance`: the primary instance, or (with `replicate_source_db`) a cross-region read
replica.

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
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from deployer.arns import Arn, Claim
from deployer.attributes import Attr, Table
from deployer.aws import (
    AlreadyExists,
    DeployerError,
    NotFound,
    error_code,
    iam_propagation_error,
    poll,
    retry_while,
    wait_gone,
)
from deployer.diff import diff_attributes, equivalent
from deployer.resource import Context, DeletionProtection, Resource, resource
from deployer.tagging import is_ours
from resources.rds.common import RDS_TAGS, arn_region, describe_instance

# Timeouts. The same wait follows a create and an update, so it takes the longer of the Terraform
# provider's defaults for aws_db_instance (create 40 min, which AWS's Multi-AZ creates can use up;
# update 80 min, for class or storage changes of a Multi-AZ instance).
DB_INSTANCE_READY_TIMEOUT_S = 80 * 60.0
# The Terraform provider's default delete timeout for aws_db_instance.
DB_INSTANCE_DELETE_TIMEOUT_S = 60 * 60.0
# The botocore waiters `db_instance_available` / `db_instance_deleted` poll every 30 s.
DB_INSTANCE_POLL_DELAY_S = 30.0
# A monitoring role or KMS key a few seconds old can be refused by CreateDBInstance while IAM
# propagates; as long as the IAM module waits for the same.
IAM_PROPAGATION_TIMEOUT_S = 120.0

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
# An instance in these states is gone as far as its node is concerned.
GONE_STATUSES = frozenset({"deleting", "deleted"})

CREATE = "CreateDBInstance"
MODIFY = "ModifyDBInstance"
# What a read replica is made with: it inherits engine, version, storage encryption, master
# user, database name and backup settings from its source, so those rows do not name it.
REPLICA = "CreateDBInstanceReadReplica"
ALSO_REPLICA = {REPLICA: True}
# What removing `replicate_source_db` calls (the provider's update does the same): it takes the
# standalone instance's backup settings.
PROMOTE = "PromoteReadReplica"


def _first(key: str) -> Callable[[Any], Any]:
    """The `key` of the first item of a list of memberships (the instance's one parameter
    group, its one option group)."""
    return lambda items: next((item[key] for item in items or []), None)


def _secret_block(secret: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The managed master password's secret, by ARN only (never its value)."""
    if not secret:
        return []
    return [
        {
            "secret_arn": secret.get("SecretArn"),
            "kms_key_id": secret.get("KmsKeyId"),
            "secret_status": secret.get("SecretStatus"),
        }
    ]


# Where each attribute lives in DescribeDBInstances' `DBInstance`, what CreateDBInstance,
# CreateDBInstanceReadReplica and ModifyDBInstance take it as, and which changes replace the
# instance (the provider's ForceNew).
INSTANCE = Table(
    Attr("identifier", "DBInstanceIdentifier", force_new=True, also=ALSO_REPLICA),
    Attr("arn", "DBInstanceArn", computed=True),
    Attr("resource_id", "DbiResourceId", computed=True),
    Attr("status", "DBInstanceStatus", computed=True),
    Attr("engine", "Engine", force_new=True),
    # Read by `read`: a configured `15` stands for the `15.7` AWS runs (Terraform's rule).
    Attr("engine_version", create="EngineVersion", update=True),
    Attr("engine_version_actual", "EngineVersion", computed=True),
    Attr("instance_class", "DBInstanceClass", update=True, also=ALSO_REPLICA),
    Attr("allocated_storage", "AllocatedStorage", update=True, to_api=int, also=ALSO_REPLICA),
    Attr(
        "max_allocated_storage", "MaxAllocatedStorage", update=True, to_api=int, also=ALSO_REPLICA
    ),
    Attr("storage_type", "StorageType", update=True, also=ALSO_REPLICA),
    Attr("iops", "Iops", update=True, to_api=int, also=ALSO_REPLICA),
    Attr("storage_throughput", "StorageThroughput", update=True, to_api=int, also=ALSO_REPLICA),
    Attr("storage_encrypted", "StorageEncrypted", force_new=True, from_api=bool),
    Attr("kms_key_id", "KmsKeyId", force_new=True, also=ALSO_REPLICA),
    Attr("multi_az", "MultiAZ", update=True, from_api=bool, also=ALSO_REPLICA),
    Attr("availability_zone", "AvailabilityZone", force_new=True, also=ALSO_REPLICA),
    Attr(
        "db_subnet_group_name",
        "DBSubnetGroup.DBSubnetGroupName",
        create="DBSubnetGroupName",
        force_new=True,
        also=ALSO_REPLICA,
    ),
    Attr(
        "vpc_security_group_ids",
        "VpcSecurityGroups",
        create="VpcSecurityGroupIds",
        update=True,
        from_api=lambda groups: sorted(g["VpcSecurityGroupId"] for g in groups or []),
        to_api=list,
        also=ALSO_REPLICA,
    ),
    Attr(
        "parameter_group_name",
        "DBParameterGroups",
        create="DBParameterGroupName",
        update=True,
        from_api=_first("DBParameterGroupName"),
        also=ALSO_REPLICA,
    ),
    Attr(
        "option_group_name",
        "OptionGroupMemberships",
        create="OptionGroupName",
        update=True,
        from_api=_first("OptionGroupName"),
        also=ALSO_REPLICA,
    ),
    Attr("network_type", "NetworkType", update=True, also=ALSO_REPLICA),
    Attr(
        "publicly_accessible",
        "PubliclyAccessible",
        update=True,
        default=False,
        from_api=bool,
        also=ALSO_REPLICA,
    ),
    Attr(
        "port",
        "Endpoint.Port",
        create="Port",
        update="DBPortNumber",
        to_api=int,
        also=ALSO_REPLICA,
    ),
    Attr("address", "Endpoint.Address", computed=True),
    Attr("hosted_zone_id", "Endpoint.HostedZoneId", computed=True),
    Attr(
        "endpoint",
        "Endpoint",
        computed=True,
        from_api=lambda e: f"{e['Address']}:{e['Port']}" if e else None,
    ),
    Attr("db_name", "DBName", force_new=True),
    Attr("username", "MasterUsername", force_new=True),
    # Sent checked by `master_password` (at create, and when `password_wo_version` changes).
    Attr("password_wo", create="MasterUserPassword", update=True, write_only=True),
    # Not readable from AWS: compared with what was last applied (see modify_parameters).
    Attr("password_wo_version", create=False, write_only=True),
    # RDS takes a secret's key only while switching the managed password on.
    Attr(
        "manage_master_user_password",
        "MasterUserSecret",
        create="ManageMasterUserPassword",
        update=True,
        together="master_secret",
        from_api=lambda secret: secret is not None,
    ),
    Attr(
        "master_user_secret_kms_key_id",
        "MasterUserSecret.KmsKeyId",
        create="MasterUserSecretKmsKeyId",
        update=True,
        together="master_secret",
    ),
    Attr("master_user_secret", "MasterUserSecret", computed=True, from_api=_secret_block),
    Attr(
        "iam_database_authentication_enabled",
        "IAMDatabaseAuthenticationEnabled",
        create="EnableIAMDatabaseAuthentication",
        update=True,
        from_api=bool,
        also=ALSO_REPLICA,
    ),
    Attr(
        "backup_retention_period",
        "BackupRetentionPeriod",
        update=True,
        to_api=int,
        also={PROMOTE: True},
    ),
    Attr("backup_window", "PreferredBackupWindow", update=True, also={PROMOTE: True}),
    Attr("maintenance_window", "PreferredMaintenanceWindow", update=True),
    Attr(
        "copy_tags_to_snapshot",
        "CopyTagsToSnapshot",
        update=True,
        default=False,
        from_api=bool,
        also=ALSO_REPLICA,
    ),
    Attr(
        "auto_minor_version_upgrade",
        "AutoMinorVersionUpgrade",
        update=True,
        default=True,
        from_api=bool,
        also=ALSO_REPLICA,
    ),
    Attr(
        "deletion_protection", "DeletionProtection", update=True, from_api=bool, also=ALSO_REPLICA
    ),
    # ModifyDBInstance takes the types to enable and to disable: `log_exports_change`.
    Attr(
        "enabled_cloudwatch_logs_exports",
        "EnabledCloudwatchLogsExports",
        create="EnableCloudwatchLogsExports",
        update="CloudwatchLogsExportConfiguration",
        from_api=lambda types: sorted(types or []),
        also=ALSO_REPLICA,
    ),
    # AWS takes a monitoring interval only with its role, and Performance Insights' key and
    # retention only with switching it on: each group is sent whole when one of it changes.
    Attr(
        "monitoring_interval",
        "MonitoringInterval",
        update=True,
        default=0,
        to_api=int,
        from_api=lambda interval: interval or 0,
        together="monitoring",
        also=ALSO_REPLICA,
    ),
    Attr(
        "monitoring_role_arn",
        "MonitoringRoleArn",
        update=True,
        together="monitoring",
        also=ALSO_REPLICA,
    ),
    Attr(
        "performance_insights_enabled",
        "PerformanceInsightsEnabled",
        create="EnablePerformanceInsights",
        update=True,
        default=False,
        from_api=bool,
        together="insights",
        also=ALSO_REPLICA,
    ),
    Attr(
        "performance_insights_kms_key_id",
        "PerformanceInsightsKMSKeyId",
        update=True,
        together="insights",
        also=ALSO_REPLICA,
    ),
    Attr(
        "performance_insights_retention_period",
        "PerformanceInsightsRetentionPeriod",
        update=True,
        to_api=int,
        together="insights",
        also=ALSO_REPLICA,
    ),
    Attr("ca_cert_identifier", "CACertificateIdentifier", update=True, also=ALSO_REPLICA),
    Attr("license_model", "LicenseModel", update=True),
    Attr(
        "replicate_source_db",
        "ReadReplicaSourceDBInstanceIdentifier",
        create=False,
        # Removing it promotes the replica in place (`promote`); setting or changing a source
        # replaces the instance (the provider refuses: "cannot elect new source database").
        force_new=True,
        removed_in_place=True,
        also={REPLICA: "SourceDBInstanceIdentifier"},
    ),
    Attr(
        "replicas",
        "ReadReplicaDBInstanceIdentifiers",
        computed=True,
        from_api=lambda ids: list(ids or []),
    ),
    # Terraform-side switches that steer deletes and updates; AWS does not report them.
    Attr("skip_final_snapshot", create=False, write_only=True, default=False),
    Attr("final_snapshot_identifier", create=False, write_only=True),
    Attr("delete_automated_backups", create=False, write_only=True, default=True),
    Attr("apply_immediately", create=False, update="ApplyImmediately", write_only=True),
    Attr(
        "allow_major_version_upgrade",
        create=False,
        update="AllowMajorVersionUpgrade",
        write_only=True,
        to_api=bool,
    ),
    service="rds",
    create_call=CREATE,
    update_call=MODIFY,
    other_calls=(REPLICA, PROMOTE),
    described="DBInstance",
    id_parameter="DBInstanceIdentifier",
)


@resource
class DbInstance(Resource):
    """The primary instance, or (with `replicate_source_db`) a cross-region read replica."""

    type = "aws_db_instance"
    arn_kind = ("rds", "db")
    expected_seconds = 900.0
    replace_needs_consent = True
    table = INSTANCE
    tagging = RDS_TAGS
    tags_on = "arn"
    deletion_protection = DeletionProtection("deletion_protection", "database")
    # The secondary's Terraform finds the primary through `data "aws_db_instance"`, whose ARN
    # attribute is `db_instance_arn`.
    lookup_by = {"db_instance_identifier": "identifier"}
    lookup_renames = {"arn": "db_instance_arn"}
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
        tags = {"Tags": RDS_TAGS.to_api(desired.get("tags") or {})}
        if source:
            if desired.get("password_wo") is not None:
                raise DeployerError(
                    f"{ctx.node.key}: a read replica has its source's master password; "
                    "password_wo cannot be set on it"
                )
            params = {**INSTANCE.parameters(REPLICA, desired), **tags}
            source_region = arn_region(source)
            if source_region and source_region != ctx.region:
                # boto3 then presigns the request to the source region (PreSignedUrl).
                params["SourceRegion"] = source_region
            operation = rds.create_db_instance_read_replica
        else:
            if desired.get("password_wo") is not None:
                password = master_password(desired["password_wo"], ctx.node.key)
                desired = {**desired, "password_wo": password}
            params = {**INSTANCE.create_parameters(desired), **tags}
            operation = rds.create_db_instance

        try:
            created = retry_while(
                lambda: operation(**params),
                retryable=iam_propagation_error,
                timeout=IAM_PROPAGATION_TIMEOUT_S,
            )["DBInstance"]
        except AlreadyExists:
            # A retried request whose first attempt went through: adopt only our own.
            adopted = self.find(ctx, desired)
            if adopted is not None:
                return adopted
            raise
        return str(created["DBInstanceIdentifier"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        db = describe_instance(ctx.client("rds"), id)
        return None if db is None or db["DBInstanceStatus"] in GONE_STATUSES else db

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes, the tags DescribeDBInstances reports with them, and the
        engine version as Terraform reports it; never a password (the managed secret appears
        by ARN only)."""
        db = self.describe(ctx, id)
        if db is None:
            return None
        live = {"id": id, **INSTANCE.read(db), "tags": RDS_TAGS.from_api(db.get("TagList"))}
        live["engine_version"] = reported_engine_version(
            ctx.node.attributes.get("engine_version"), str(live["engine_version_actual"] or "")
        )
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """A replica whose node no longer names a source is promoted first (`promote`); then
        one ModifyDBInstance with only what still differs; `wait_ready` waits for it to apply."""
        rds = ctx.client("rds")
        if live.get("replicate_source_db") and not desired.get("replicate_source_db"):
            self.promote(ctx, id, desired)
            live = {**live, **(self.read(ctx, id) or {})}  # keeps the state-only values
        changes = modify_parameters(desired, live, ctx.node.key)
        if changes:
            wait_for_instance(rds, id, modifiable, what=f"RDS instance {id} to accept changes")
            applies_now = desired.get("apply_immediately") is not False
            rds.modify_db_instance(
                DBInstanceIdentifier=id,
                **sent("apply_immediately", applies_now),
                **changes,
            )
        self.update_tags(ctx, id, desired, live)

    def promote(self, ctx: Context, id: str, desired: dict[str, Any]) -> None:
        """PromoteReadReplica with the node's backup retention and window, as the Terraform
        provider does when `replicate_source_db` is removed, then wait until the instance is
        `available` and standalone (AWS reboots it on the way: User Guide, *Promoting a read
        replica to be a standalone DB instance*). A rerun after an interrupted promotion finds
        no source any more and does not promote again (AWS would refuse a non-replica)."""
        rds = ctx.client("rds")
        wait_for_instance(rds, id, modifiable, what=f"RDS instance {id} to accept changes")
        db = describe_instance(rds, id)
        if db is not None and db.get("ReadReplicaSourceDBInstanceIdentifier"):
            names = {"backup_retention_period", "backup_window"}
            rds.promote_read_replica(
                DBInstanceIdentifier=id, **INSTANCE.parameters(PROMOTE, desired, names)
            )
        wait_for_instance(
            rds,
            id,
            lambda db: (
                db["DBInstanceStatus"] == "available"
                and not db.get("ReadReplicaSourceDBInstanceIdentifier")
            ),
            what=f"RDS instance {id} to be promoted",
        )

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
        if db["DBInstanceStatus"] not in GONE_STATUSES:
            if db.get("DeletionProtection"):
                wait_for_instance(rds, id, modifiable, what=f"RDS instance {id} to accept changes")
                rds.modify_db_instance(
                    DBInstanceIdentifier=id,
                    **sent("apply_immediately", True),
                    **sent("deletion_protection", False),
                )
            params = delete_parameters(id, ctx.node.attributes, ctx.node.key)
            try:
                retry_while(
                    lambda: rds.delete_db_instance(**params),
                    retryable=delete_not_yet_possible,
                    timeout=DB_INSTANCE_DELETE_TIMEOUT_S,
                    first_delay=5.0,
                )
            except NotFound:
                return
            except AlreadyExists as exc:  # DBSnapshotAlreadyExists
                raise DeployerError(
                    f"{ctx.node.key}: the final snapshot {params.get('FinalDBSnapshotIdentifier')}"
                    " already exists (from an earlier delete): copy it elsewhere or delete it,"
                    " then destroy again"
                ) from exc
            except ClientError as exc:
                if not being_deleted(exc):
                    raise
                # Someone else's delete got there first: wait for it below.
        wait_gone(
            lambda: describe_instance(rds, id),
            what=f"RDS instance {id}",
            timeout=DB_INSTANCE_DELETE_TIMEOUT_S,
            delay=DB_INSTANCE_POLL_DELAY_S,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        db = self.describe(ctx, desired["identifier"])
        if db is None or not is_ours(RDS_TAGS.from_api(db.get("TagList")), desired):
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


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def sent(name: str, value: Any) -> dict[str, Any]:
    """ModifyDBInstance's parameter for one attribute's value, as the table names it."""
    return INSTANCE.parameters(MODIFY, {name: value}, {name})


def modify_parameters(
    desired: dict[str, Any], live: dict[str, Any], where: str = "aws_db_instance"
) -> dict[str, Any]:
    """ModifyDBInstance parameters for the attributes that differ, and only those: the table's,
    plus what needs more than one attribute's value (a major version upgrade's consent, the log
    types to enable and to disable, the master password).

    The master password is sent again when `password_wo_version` differs from the version last
    applied. AWS cannot report that version: `live` carries it only where the engine supplies
    the value recorded at the last apply; without it nothing is sent (never on a guess).
    """
    changed = set(diff_attributes(desired, live, INSTANCE.write_only))
    password: dict[str, Any] = {}
    if "manage_master_user_password" in changed:
        if not desired["manage_master_user_password"]:
            if desired.get("password_wo") is None:
                raise DeployerError(
                    f"{where}: turning manage_master_user_password off needs a new master "
                    "password (password_wo)"
                )
            password = sent("password_wo", master_password(desired["password_wo"], where))
            # The secret's key goes only with switching the managed password on.
            desired = {**desired, "master_user_secret_kms_key_id": None}
    elif "master_user_secret_kms_key_id" in changed:
        if live.get("manage_master_user_password"):
            raise DeployerError(
                "RDS cannot change the KMS key of a managed master password's secret; turn "
                "manage_master_user_password off and on again with the new key in the RDS "
                "console"
            )
        changed.discard("master_user_secret_kms_key_id")  # AWS takes it with switching on only
    logs = "enabled_cloudwatch_logs_exports"
    changes = INSTANCE.update_parameters(desired, changed - {logs})
    if "engine_version" in changed and major_version(desired["engine_version"]) != major_version(
        str(live.get("engine_version_actual") or live.get("engine_version") or "")
    ):
        consent = bool(desired.get("allow_major_version_upgrade"))
        changes |= sent("allow_major_version_upgrade", consent)
    if logs in changed:
        changes[str(INSTANCE.rows[logs].update_parameter)] = log_exports_change(desired, live)
    if password_version_changed(desired, live):
        if desired.get("password_wo") is None:
            raise DeployerError(f"{where}: password_wo_version changed but password_wo is not set")
        password = sent("password_wo", master_password(desired["password_wo"], where))
    return changes | password


def log_exports_change(desired: dict[str, Any], live: dict[str, Any]) -> dict[str, list[str]]:
    """ModifyDBInstance's CloudwatchLogsExportConfiguration: the log types to switch on and off."""
    want = set(desired["enabled_cloudwatch_logs_exports"])
    have = set(live.get("enabled_cloudwatch_logs_exports") or [])
    return {"EnableLogTypes": sorted(want - have), "DisableLogTypes": sorted(have - want)}


def delete_parameters(id: str, attributes: dict[str, Any], where: str) -> dict[str, Any]:
    """DeleteDBInstance's parameters from the node's Terraform-side switches: keep the automated
    backups unless told otherwise, and a final snapshot unless skipped."""
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
            f"{where}: neither skip_final_snapshot nor final_snapshot_identifier is set, and "
            "RDS needs one of them to delete the instance"
        )
    return params


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


def reported_engine_version(wanted: str | None, actual: str) -> str:
    """Terraform's rule: a configured `15` matches an actual `15.7` (the version it runs after
    automatic minor upgrades); otherwise the actual version is reported."""
    if isinstance(wanted, str) and actual.startswith(f"{wanted}."):
        return wanted
    return actual


def major_version(version: str) -> str:
    parts = version.split(".")
    return parts[0] if parts[0].isdigit() and int(parts[0]) >= 10 else ".".join(parts[:2])


# ---------------------------------------------------------------------------------------------
# Status and waiting
# ---------------------------------------------------------------------------------------------


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
