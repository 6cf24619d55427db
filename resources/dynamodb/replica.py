"""`aws_dynamodb_table_replica`: a table's replica in this node's region (global tables version
2019.11.21).

A replica is made and removed through the *main* table, in the region of `global_table_arn`
(UpdateTable `ReplicaUpdates`), and its own settings (point-in-time recovery, deletion
protection, tags) are set on the replica's table in its region. DynamoDB builds it
asynchronously: the main table's `Replicas` shows it CREATING, then ACTIVE (or DELETING, then
gone), and refuses the next UpdateTable on the main table until then. The id is the provider's
import id, `table-name:main-region`.

As the provider reads it: `kms_key_arn` from the main table's ReplicaDescription (empty when the
replica uses the region's AWS managed key), `table_class_override` from its
ReplicaTableClassSummary, the rest from the replica's own table.
"""

from __future__ import annotations

from typing import Any

from deployer.attributes import Attr, Setter
from deployer.attributes import Table as AttributeTable
from deployer.aws import DeployerError, NotFound, or_none, poll, retry_while
from deployer.resource import Context, DeletionProtection, Resource, resource
from deployer.tagging import is_ours
from resources.dynamodb.table import (
    TABLE_POLL_DELAY,
    TABLE_UPDATE_TIMEOUT,
    TAGS,
    backups_not_ready,
    describe_table,
    wait_settled,
)

# The provider's timeouts for aws_dynamodb_table_replica (create and delete 30 min, update
# 20 min): AWS gives no figure; a replica copies every item of the table before it is ACTIVE.
REPLICA_CREATE_TIMEOUT = 30 * 60.0
REPLICA_DELETE_TIMEOUT = 30 * 60.0
# The main table refuses ReplicaUpdates while another change is under way (ResourceInUse) or too
# many tables change at once (LimitExceeded): the provider retries both for this long.
REPLICA_UPDATE_RETRY_TIMEOUT = 20 * 60.0
# AWS's managed key for DynamoDB: the provider reports a replica using it as no key at all.
MANAGED_KEY_ALIAS = "alias/aws/dynamodb"


def main_table(global_table_arn: str) -> tuple[str, str]:
    """(table name, main region) out of `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`."""
    parts = global_table_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise DeployerError(f"global_table_arn {global_table_arn!r} is not a DynamoDB table ARN")
    return parts[5].split("/", 1)[1], parts[3]


def parse_id(id: str) -> tuple[str, str]:
    """(table name, main region) out of the provider's id `table-name:main-region`."""
    name, _, region = id.rpartition(":")
    if not name or not region:
        raise DeployerError(f"{id!r} is not a table replica id (table-name:main-region)")
    return name, region


def replica_in(table: dict[str, Any] | None, region: str) -> dict[str, Any] | None:
    """The main table's description of its replica in `region`."""
    for replica in (table or {}).get("Replicas") or []:
        if replica.get("RegionName") == region:
            return dict(replica)
    return None


def recovery_enabled(backups: dict[str, Any]) -> bool:
    description = backups.get("PointInTimeRecoveryDescription") or {}
    return description.get("PointInTimeRecoveryStatus") == "ENABLED"


REPLICA = AttributeTable(
    # From the id (the main table's ARN); where the replica is made, so a change replaces it.
    Attr("global_table_arn", create=False, force_new=True),
    Attr("arn", "TableArn", computed=True),
    # Through the main table's ReplicaUpdates (the provider replaces the replica for a new key).
    Attr("kms_key_arn", create=False, force_new=True, default=""),
    Attr("table_class_override", create=False, force_new=True, default=""),
    # On the replica's own table, in its region.
    Attr("point_in_time_recovery", create=False, default=False,
         update=Setter("UpdateContinuousBackups", "PointInTimeRecoverySpecification"),
         to_api=lambda on: {"PointInTimeRecoveryEnabled": bool(on)}),
    Attr("deletion_protection_enabled", "DeletionProtectionEnabled", create=False, update=True,
         from_api=bool),
    service="dynamodb",
    # No row is a create parameter: `TableReplica.create` asks the main table (UpdateTable
    # ReplicaUpdates); the update call is UpdateTable on the replica's own table.
    create_call="CreateTable",
    update_call="UpdateTable",
    described="TableDescription",
    id_parameter="TableName",
)  # fmt: skip


@resource
class TableReplica(Resource):
    """`aws_dynamodb_table_replica`: UpdateTable ReplicaUpdates on the main table, then the
    replica's own settings in its region."""

    type = "aws_dynamodb_table_replica"
    no_arn_kind = (
        "a replica's ARN is a DynamoDB table's (aws_dynamodb_table's kind); the replica's state "
        "holds that ARN, so drift counts its table as managed"
    )
    expected_seconds = 60.0
    replace_needs_consent = True
    table = REPLICA
    tagging = TAGS
    tags_on = "arn"
    deletion_protection = DeletionProtection("deletion_protection_enabled", "table replica")

    # Region parity compares the replica's own settings with its table's.
    counterpart_of = "aws_dynamodb_table"

    def as_counterpart(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """The table spells point-in-time recovery as a block (`[{"enabled": true}]`)."""
        view = dict(attributes)
        recovery = view.get("point_in_time_recovery")
        if recovery is not None and not isinstance(recovery, list):
            view["point_in_time_recovery"] = [{"enabled": recovery}]
        return view

    def main_client(self, ctx: Context, main_region: str) -> Any:
        if main_region == ctx.region:
            raise DeployerError(
                f"{ctx.node.key}: a replica cannot be in the main table's region {main_region}"
            )
        return ctx.client("dynamodb", main_region)

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """Ask the main table for a replica here, wait until it is ACTIVE, then set the
        replica's own settings: AWS refuses them while the replica table is being built."""
        name, main_region = main_table(str(desired["global_table_arn"]))
        main = self.main_client(ctx, main_region)
        action: dict[str, Any] = {"RegionName": ctx.region}
        if desired.get("kms_key_arn"):
            action["KMSMasterKeyId"] = desired["kms_key_arn"]
        if desired.get("table_class_override"):
            action["TableClassOverride"] = desired["table_class_override"]
        if replica_in(describe_table(main, name), ctx.region) is None:
            self.replica_update(main, name, {"Create": action})
        wait_replica(main, name, ctx.region, timeout=REPLICA_CREATE_TIMEOUT)
        id = f"{name}:{main_region}"
        ddb = ctx.client("dynamodb")
        wait_settled(ddb, name, timeout=TABLE_UPDATE_TIMEOUT)
        live = self.read(ctx, id)
        if live is None:
            raise DeployerError(f"DynamoDB table replica {id} in {ctx.region} disappeared")
        self.apply_own(ctx, id, desired, live, self.changed(desired, live) - REPLICA.force_new)
        return id

    def replica_update(self, main: Any, name: str, update: dict[str, Any]) -> None:
        """One ReplicaUpdates call, retried while the main table is busy (as the provider)."""
        retry_while(
            lambda: main.update_table(TableName=name, ReplicaUpdates=[update]),
            retryable=main_table_busy,
            timeout=REPLICA_UPDATE_RETRY_TIMEOUT,
        )

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        name, _ = parse_id(id)
        table = describe_table(ctx.client("dynamodb"), name)
        return None if table is None or table["TableStatus"] == "DELETING" else table

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The main table's view of the replica (key, class), then the replica's own table
        (ARN, protection, PITR, tags); None when either no longer has it."""
        name, main_region = parse_id(id)
        main = describe_table(self.main_client(ctx, main_region), name)
        replica = replica_in(main, ctx.region)
        if main is None or replica is None or replica.get("ReplicaStatus") == "DELETING":
            return None
        try:
            live = super().read(ctx, id)
            if live is None:
                return None
            backups = ctx.client("dynamodb").describe_continuous_backups(TableName=name)
        except NotFound:
            return None
        key = replica.get("KMSMasterKeyId") or ""
        live["global_table_arn"] = main["TableArn"]
        live["kms_key_arn"] = "" if key and is_managed_key(ctx, key) else key
        live["table_class_override"] = (replica.get("ReplicaTableClassSummary") or {}).get(
            "TableClass", ""
        )
        live["point_in_time_recovery"] = recovery_enabled(backups["ContinuousBackupsDescription"])
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        self.apply_own(ctx, id, desired, live, self.changed(desired, live))

    def apply_own(
        self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any], names: set[str]
    ) -> None:
        """PITR, deletion protection and tags on the replica's table (named by the table's
        name in its region, not by the provider's id)."""
        name, _ = parse_id(id)
        ddb = ctx.client("dynamodb")
        if "point_in_time_recovery" in names:
            retry_while(
                lambda: REPLICA.apply_update(ddb, name, desired, {"point_in_time_recovery"}),
                retryable=backups_not_ready,
                timeout=TABLE_UPDATE_TIMEOUT,
            )
        if "deletion_protection_enabled" in names:
            REPLICA.apply_update(ddb, name, desired, {"deletion_protection_enabled"})
            wait_settled(ddb, name, timeout=TABLE_UPDATE_TIMEOUT)
        if "tags" in names:
            self.update_tags(ctx, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Switch the replica's deletion protection off (when allowed), then ask the main
        table to drop the replica and wait until it is gone."""
        reason = self.check_delete(ctx, id)
        if reason:
            raise DeployerError(reason)
        name, main_region = parse_id(id)
        main = self.main_client(ctx, main_region)
        if replica_in(describe_table(main, name), ctx.region) is None:
            return
        ddb = ctx.client("dynamodb")
        table = describe_table(ddb, name)
        if table is not None and table.get("DeletionProtectionEnabled"):
            ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
            wait_settled(ddb, name, timeout=TABLE_UPDATE_TIMEOUT)
        self.replica_update(main, name, {"Delete": {"RegionName": ctx.region}})
        poll(
            lambda: True if replica_in(describe_table(main, name), ctx.region) is None else None,
            what=f"the replica of DynamoDB table {name} in {ctx.region} to be deleted",
            timeout=REPLICA_DELETE_TIMEOUT,
            delay=TABLE_POLL_DELAY,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The main table's replica here, adopted only if its table carries this node's
        address (an interrupted create tags it last, so an untagged one is left alone)."""
        name, main_region = main_table(str(desired["global_table_arn"]))
        main = self.main_client(ctx, main_region)
        if replica_in(describe_table(main, name), ctx.region) is None:
            return None
        wait_replica(main, name, ctx.region, timeout=REPLICA_CREATE_TIMEOUT)
        table = describe_table(ctx.client("dynamodb"), name)
        if table is None:
            return None
        tags = TAGS.read(ctx.client("dynamodb"), table["TableArn"])
        return f"{name}:{main_region}" if is_ours(tags, desired) else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        name, main_region = parse_id(id)
        wait_replica(
            self.main_client(ctx, main_region), name, ctx.region, timeout=TABLE_UPDATE_TIMEOUT
        )


def is_managed_key(ctx: Context, key_arn: str) -> bool:
    """Whether the key is this region's AWS managed DynamoDB key (`alias/aws/dynamodb`), which
    the provider reports as no key. Asked by the key's aliases: a DescribeKey of the alias
    would create that key where it does not exist yet (KMS DescribeKey, "predefined AWS
    alias"), a change a read must not make."""
    answer = or_none(lambda: ctx.client("kms").list_aliases(KeyId=key_arn))
    return any(a.get("AliasName") == MANAGED_KEY_ALIAS for a in (answer or {}).get("Aliases", []))


def main_table_busy(exc: BaseException) -> bool:
    """The provider retries ReplicaUpdates on ResourceInUse and on LimitExceeded "...
    simultaneously": the main table is still changing."""
    from deployer.aws import error_code

    code = error_code(exc)
    return code == "ResourceInUseException" or (
        code == "LimitExceededException" and "simultaneous" in str(exc).lower()
    )


def wait_replica(main: Any, name: str, region: str, *, timeout: float) -> dict[str, Any]:
    """Wait until the main table reports its replica in `region` ACTIVE."""

    def check() -> dict[str, Any] | None:
        replica = replica_in(describe_table(main, name), region)
        if replica is None:
            raise DeployerError(f"DynamoDB table {name} has no replica in {region}")
        status = replica.get("ReplicaStatus")
        if status in ("CREATION_FAILED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "REGION_DISABLED"):
            raise DeployerError(
                f"the replica of DynamoDB table {name} in {region} is {status}: "
                f"{replica.get('ReplicaStatusDescription') or 'see the DynamoDB console'}"
            )
        return replica if status == "ACTIVE" else None

    return poll(
        check,
        what=f"the replica of DynamoDB table {name} in {region} to be ACTIVE",
        timeout=timeout,
        delay=TABLE_POLL_DELAY,
    )
