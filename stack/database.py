"""The database: PostgreSQL in the primary, its encrypted copies in the secondary.

Both workspaces have a DB subnet group over the private subnets and a parameter group that forces
TLS. The primary runs the Multi-AZ instance, encrypted with its region's RDS key. The secondary
replicates the primary's automated backups into its region, encrypted with the secondary's RDS key,
and runs a cross-region read replica whose lag the alarms watch. Both of those refer to the primary
instance *ready*: AWS needs the source available, with backups on, before either can start.

The master password. RDS refuses to create a read replica of a source whose master password
Secrets Manager manages (`manage_master_user_password`), for every engine but SQL Server (RDS User
Guide, "Password management with Amazon RDS and AWS Secrets Manager", limitations), so the primary
cannot use it. Instead (Terraform 1.11+'s pattern): an ephemeral
`aws_secretsmanager_random_password` is put into a Secrets Manager secret through the write-only
`secret_string_wo` (`stack/database_secret.py`), an ephemeral
`aws_secretsmanager_secret_version` reads it back at apply time, and the instance takes it through
the write-only `password_wo`, as Terraform writes it:
`password_wo = jsondecode(<ephemeral secret version>.secret_string)["password"]`. Write-only
attributes are never stored, compared or shown and ephemeral values never leave memory, so no
password is in the spec, the state, a plan, a log or the HCL. `password_wo` is sent at create,
and again only when `password_wo_version` changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import JsonDecode, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.database_secret import DB_MASTER_SECRET_VERSION_NUMBER, db_master_credentials_ref
from stack.keys import key_ref
from stack.network import private_subnet_refs, security_group_ref
from stack.roles import attachment_name, role_ref

# The file of the Terraform export that holds this component's blocks (and, with them, the
# master credentials' of `stack/database_secret.py`).
TERRAFORM_FILE = "rds.tf"

DB_INSTANCE = "aws_db_instance.main"
REPLICA = "aws_db_instance.replica"
SUBNET_GROUP = "aws_db_subnet_group.main"
PARAMETER_GROUP = "aws_db_parameter_group.postgres"
BACKUPS_REPLICATION = "aws_db_instance_automated_backups_replication.main"
# Written by stack/roles.py: the enhanced-monitoring role must hold its policy before RDS
# validates it at CreateDBInstance.
MONITORING_POLICY_ATTACHMENT = (
    f"aws_iam_role_policy_attachment.{attachment_name('rds_monitoring', 'enhanced_monitoring')}"
)

ENGINE = "postgres"
STORAGE_TYPE = "gp3"
# UTC, outside the payment peak; the maintenance window must not overlap the backup window.
BACKUP_WINDOW = "03:00-03:30"
# Lower case, as RDS reports it back (an upper-case spelling would drift forever).
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"
LOG_EXPORTS = ["postgresql", "upgrade"]
MONITORING_INTERVAL_S = 60
# Seven days is Performance Insights' free retention.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7

# Parameters of the PostgreSQL parameter group: (name, value, apply method). All are dynamic in
# PostgreSQL 15 (rds.force_ssl too), so they apply without a reboot.
DB_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    # Clients must use TLS (already PostgreSQL 15's default on RDS: set to keep it so).
    ("rds.force_ssl", "1", "immediate"),
    # Who connected and for how long, for the audit trail.
    ("log_connections", "1", "immediate"),
    ("log_disconnections", "1", "immediate"),
    # Statements slower than a second, in milliseconds.
    ("log_min_duration_statement", "1000", "immediate"),
    # Lock waits longer than deadlock_timeout: the usual cause of payment latency spikes.
    ("log_lock_waits", "1", "immediate"),
)


# ---------------------------------------------------------------------------------------------
# Names and references other components use
# ---------------------------------------------------------------------------------------------


def db_identifier(spec: Spec) -> str:
    return spec.name("db")


def replica_identifier(spec: Spec) -> str:
    return spec.name("db", "replica")


def subnet_group_name(spec: Spec) -> str:
    return spec.name("db")


def parameter_group_family(spec: Spec) -> str:
    """`postgres15` for 15.7: the major version, which before PostgreSQL 10 had two parts."""
    parts = spec.rds.engine_version.split(".")
    major = parts[0] if int(parts[0]) >= 10 else ".".join(parts[:2])
    return f"{ENGINE}{major}"


def parameter_group_name(spec: Spec) -> str:
    """The family is part of the name, so a major upgrade gets a new group beside the old."""
    return spec.name("db", parameter_group_family(spec))


def final_snapshot_identifier(spec: Spec) -> str:
    """Deterministic, so that the HCL and a re-run agree on it."""
    return spec.name("db", "final")


def db_instance_ref(attribute: str, *, replica: bool = False) -> Ref:
    """The primary instance's (or, in the secondary, the replica's) attribute: `identifier`
    for CloudWatch dimensions, `arn`, `address`, `endpoint`."""
    return Ref(REPLICA if replica else DB_INSTANCE, attribute)


# ---------------------------------------------------------------------------------------------
# Blueprint
# ---------------------------------------------------------------------------------------------


@blueprint
def rds(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    yield Node(
        "aws_db_subnet_group",
        "main",
        workspace,
        {
            "name": subnet_group_name(spec),
            "description": f"{spec.name('db')}: the private subnets of the payment database",
            "subnet_ids": private_subnet_refs(spec, workspace),
            "tags": {"Name": subnet_group_name(spec)},
        },
    )
    yield Node(
        "aws_db_parameter_group",
        "postgres",
        workspace,
        {
            "name": parameter_group_name(spec),
            "family": parameter_group_family(spec),
            "description": f"{spec.name('db')}: TLS only, connection and slow-statement logging",
            "parameter": [
                {"name": name, "value": value, "apply_method": method}
                for name, value, method in DB_PARAMETERS
            ],
            "tags": {"Name": parameter_group_name(spec)},
        },
    )
    writer = spec.failover.writer
    if workspace == "primary":
        yield _primary_instance(spec) if writer == "primary" else _primary_as_replica(spec)
        yield from _primary_outputs()
    else:
        yield from _secondary_copies(spec, workspace, writer)


def _monitoring_and_insights(workspace: str) -> dict[str, Any]:
    """Enhanced monitoring and Performance Insights, encrypted with the region's RDS key."""
    return {
        "monitoring_interval": MONITORING_INTERVAL_S,
        "monitoring_role_arn": role_ref(workspace, "rds_monitoring"),
        "performance_insights_enabled": True,
        "performance_insights_kms_key_id": key_ref("rds"),
        "performance_insights_retention_period": PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    }


def _network_and_parameters() -> dict[str, Any]:
    return {
        "db_subnet_group_name": Ref(SUBNET_GROUP, "name"),
        "vpc_security_group_ids": [security_group_ref("db")],
        "parameter_group_name": Ref(PARAMETER_GROUP, "name"),
        "publicly_accessible": False,
    }


def _primary_instance(spec: Spec) -> Node:
    identifier = db_identifier(spec)
    return Node(
        "aws_db_instance",
        "main",
        "primary",
        {
            "identifier": identifier,
            "engine": ENGINE,
            "engine_version": spec.rds.engine_version,
            "instance_class": spec.rds.instance_class,
            "allocated_storage": spec.rds.allocated_storage_gb,
            "storage_type": STORAGE_TYPE,
            "storage_encrypted": True,
            "kms_key_id": key_ref("rds"),
            "multi_az": spec.rds.multi_az,
            **_network_and_parameters(),
            "db_name": spec.rds.database_name,
            "username": spec.rds.master_username,
            # From the Secrets Manager secret, at apply time only (see the module's docstring).
            "password_wo": JsonDecode(db_master_credentials_ref("secret_string"), ("password",)),
            "password_wo_version": DB_MASTER_SECRET_VERSION_NUMBER,
            "iam_database_authentication_enabled": True,
            "backup_retention_period": spec.rds.backup_retention_days,
            "backup_window": BACKUP_WINDOW,
            "maintenance_window": MAINTENANCE_WINDOW,
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": True,
            "deletion_protection": spec.rds.deletion_protection,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
            **_monitoring_and_insights("primary"),
            "skip_final_snapshot": False,
            "final_snapshot_identifier": final_snapshot_identifier(spec),
            # Keep the automated backups (and so their replicas in the secondary) after a delete.
            "delete_automated_backups": False,
            # Our updates apply at once; this makes Terraform's do the same.
            "apply_immediately": True,
            "tags": {"Name": identifier},
        },
        depends_on=(Ref(MONITORING_POLICY_ATTACHMENT, "id"),),
    )


def _primary_outputs() -> Iterator[Output]:
    yield Output("rds_endpoint", "primary", Ref(DB_INSTANCE, "endpoint"), "host:port of the DB")
    yield Output("rds_address", "primary", Ref(DB_INSTANCE, "address"), "Host name of the DB")
    yield Output("rds_port", "primary", Ref(DB_INSTANCE, "port"), "PostgreSQL port")
    yield Output("rds_instance_arn", "primary", Ref(DB_INSTANCE, "arn"), "ARN of the DB instance")
    # The master credentials' secret ARN is an output of stack/database_secret.py.


def _secondary_copies(spec: Spec, workspace: str, writer: str) -> Iterator[Node | Output]:
    """While the primary writes: its backups replicated here and a read replica of it. After
    `deployer failover` (writer: secondary): the same instance promoted, with the primary's
    Multi-AZ, backups and deletion protection, and no backups to replicate from a lost region."""
    identifier = replica_identifier(spec)
    if writer == "primary":
        # The source must be available with backups on before replication or a replica can start.
        source_arn = Ref(DB_INSTANCE, "arn", workspace="primary", ready=True)
        yield Node(
            "aws_db_instance_automated_backups_replication",
            "main",
            workspace,
            {
                "source_db_instance_arn": source_arn,
                # Keys are regional: the replicated backups need the secondary's own RDS key.
                "kms_key_id": key_ref("rds"),
                "retention_period": spec.rds.backup_retention_days,
            },
        )
        yield _replica_instance(spec, workspace, "replica", identifier, source_arn)
    else:
        yield _promoted_instance(spec, workspace, "replica", identifier)
    yield Output(
        "rds_replica_endpoint", workspace, Ref(REPLICA, "endpoint"), "host:port of the replica"
    )
    yield Output("rds_replica_arn", workspace, Ref(REPLICA, "arn"), "ARN of the read replica")
    if writer == "primary":
        yield Output(
            "rds_backups_replication_arn",
            workspace,
            Ref(BACKUPS_REPLICATION, "id"),
            "ARN of the primary's automated backups replicated into this region",
        )


def _replica_attributes(
    spec: Spec,
    workspace: str,
    identifier: str,
    source_arn: Ref | None,
    instance_class: str,
    multi_az: bool,
) -> dict[str, Any]:
    """A cross-region replica (with its source) or the same instance promoted (without):
    engine, version, user and database come from the source, so neither declares them."""
    return {
        "identifier": identifier,
        **({"replicate_source_db": source_arn} if source_arn is not None else {}),
        "instance_class": instance_class,
        "storage_type": STORAGE_TYPE,
        # A cross-region replica of an encrypted source is encrypted with a key of its own
        # region; engine, version, user and database come from the source.
        "storage_encrypted": True,
        "kms_key_id": key_ref("rds"),
        "multi_az": multi_az,
        **_network_and_parameters(),
        "iam_database_authentication_enabled": True,
        "copy_tags_to_snapshot": True,
        "auto_minor_version_upgrade": True,
        "deletion_protection": spec.rds.deletion_protection,
        "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
        **_monitoring_and_insights(workspace),
        # A replica has no final snapshot: its data is the source's.
        "skip_final_snapshot": True,
        "apply_immediately": True,
        "tags": {"Name": identifier},
    }


def _replica_instance(
    spec: Spec, workspace: str, name: str, identifier: str, source_arn: Ref
) -> Node:
    instance_class = spec.rds.replica_instance_class
    attributes = _replica_attributes(spec, workspace, identifier, source_arn, instance_class, False)
    return Node("aws_db_instance", name, workspace, attributes)


def _promoted_instance(spec: Spec, workspace: str, name: str, identifier: str) -> Node:
    """A replica without its source is promoted in place (PromoteReadReplica), as the Terraform
    provider does when `replicate_source_db` is removed; then it takes the writer's Multi-AZ
    and backups."""
    attributes = _replica_attributes(
        spec, workspace, identifier, None, spec.rds.replica_instance_class, spec.rds.multi_az
    )
    attributes["backup_retention_period"] = spec.rds.backup_retention_days
    attributes["backup_window"] = BACKUP_WINDOW
    attributes["maintenance_window"] = MAINTENANCE_WINDOW
    # Now it holds the only writable copy: a delete keeps a final snapshot, as the primary's.
    attributes["skip_final_snapshot"] = False
    attributes["final_snapshot_identifier"] = spec.name("db", "replica", "final")
    return Node("aws_db_instance", name, workspace, attributes)


def _primary_as_replica(spec: Spec) -> Node:
    """After a failover, the recovered primary's instance is rebuilt as a replica of the new
    writer (`deployer failback`); the stale instance it replaces keeps its final snapshot."""
    source_arn = Ref(REPLICA, "arn", workspace="secondary", ready=True)
    attributes = _replica_attributes(
        spec, "primary", db_identifier(spec), source_arn, spec.rds.instance_class, False
    )
    # As the primary's own: its automated backups outlive it (and its replaced predecessor's).
    attributes["delete_automated_backups"] = False
    return Node("aws_db_instance", "main", "primary", attributes)
