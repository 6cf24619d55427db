"""DynamoDB: tables, with the settings DynamoDB keeps behind other APIs (point-in-time
recovery, TTL, tags).

DynamoDB changes a table asynchronously (CREATING, UPDATING) and refuses most writes to a table
that is not ACTIVE, takes one index change per UpdateTable call, and keeps point-in-time recovery
and TTL behind their own APIs: the driver serialises its calls and waits between them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deployer.attributes import Attr, Setter
from deployer.attributes import Table as AttributeTable
from deployer.aws import (
    Conflict,
    DeployerError,
    NotFound,
    Tagging,
    delete_and_wait_gone,
    error_code,
    or_none,
    poll,
    retry_while,
    wait_gone,
)
from deployer.blocks import first_block
from deployer.diff import equivalent
from deployer.resource import Context, DeletionProtection, Resource, resource
from deployer.tagging import ADDRESS_TAG, is_ours

# AWS gives no figure for how long a table takes to become ACTIVE; these are the Terraform AWS
# provider's defaults for aws_dynamodb_table (create 30 min, update 60 min since a new index
# backfills every item, delete 10 min).
TABLE_CREATE_TIMEOUT = 30 * 60.0
TABLE_UPDATE_TIMEOUT = 60 * 60.0
TABLE_DELETE_TIMEOUT = 10 * 60.0
# DescribeTable's own `table_exists` waiter polls every 20 s; tables usually settle in seconds.
TABLE_POLL_DELAY = 5.0
# Continuous backups are switched on asynchronously after CreateTable; until then
# UpdateContinuousBackups answers ContinuousBackupsUnavailableException.
BACKUPS_AVAILABLE_TIMEOUT = 10 * 60.0
# TagResource is eventually consistent: ListTagsOfResource lags it "a few seconds" (AWS docs).
TAGS_VISIBLE_TIMEOUT = 60.0
# CreateTable answers LimitExceededException while too many tables are being created at once.
CONCURRENT_CREATE_TIMEOUT = 5 * 60.0

# Index attributes changed in place (UpdateTable `Update`), not by rebuilding the index.
CAPACITY_ATTRIBUTES = frozenset({"read_capacity", "write_capacity"})
# Statuses in which an index, the encryption or the table is still changing.
TRANSITIONAL_INDEX_STATUSES = frozenset({"CREATING", "UPDATING", "DELETING"})
TRANSITIONAL_SSE_STATUSES = frozenset({"ENABLING", "DISABLING", "UPDATING"})
# SSE statuses under which the table is encrypted with the key DescribeTable names.
SSE_IN_FORCE = frozenset({"ENABLED", "ENABLING", "UPDATING"})
# TTL statuses that mean "on": ENABLING takes up to an hour to become ENABLED on AWS.
TTL_ON = frozenset({"ENABLED", "ENABLING"})


# ---------------------------------------------------------------------------------------------
# DynamoDB responses → Terraform attributes
# ---------------------------------------------------------------------------------------------


def key_blocks(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"attribute_name": k["AttributeName"], "key_type": k["KeyType"]} for k in schema]


def key_named(schema: list[dict[str, str]], key_type: str) -> str | None:
    return next((k["AttributeName"] for k in schema if k["KeyType"] == key_type), None)


def global_index_block(index: dict[str, Any]) -> dict[str, Any]:
    projection = index.get("Projection") or {}
    throughput = index.get("ProvisionedThroughput") or {}
    block: dict[str, Any] = {
        "name": index["IndexName"],
        "key_schema": key_blocks(index["KeySchema"]),
        "projection_type": projection.get("ProjectionType"),
        "read_capacity": throughput.get("ReadCapacityUnits", 0),
        "write_capacity": throughput.get("WriteCapacityUnits", 0),
    }
    if projection.get("NonKeyAttributes"):
        block["non_key_attributes"] = sorted(projection["NonKeyAttributes"])
    return block


def local_index_block(index: dict[str, Any]) -> dict[str, Any]:
    projection = index.get("Projection") or {}
    block: dict[str, Any] = {
        "name": index["IndexName"],
        "range_key": key_named(index["KeySchema"], "RANGE"),
        "projection_type": projection.get("ProjectionType"),
    }
    if projection.get("NonKeyAttributes"):
        block["non_key_attributes"] = list(projection["NonKeyAttributes"])
    return block


def attribute_blocks(definitions: list[dict[str, str]] | None) -> list[dict[str, str]]:
    return [{"name": a["AttributeName"], "type": a["AttributeType"]} for a in definitions or []]


def stream_view_type(stream: dict[str, Any] | None) -> str:
    """As the provider reports it: the view type while the stream is on, else ""."""
    stream = stream or {}
    return str(stream.get("StreamViewType", "")) if stream.get("StreamEnabled") else ""


def sse_blocks(sse: dict[str, Any] | None) -> list[dict[str, Any]]:
    """No description means the AWS-owned key, which the provider spells `enabled = false`."""
    sse = sse or {}
    return [
        {
            "enabled": sse.get("Status") in SSE_IN_FORCE,
            "kms_key_arn": sse.get("KMSMasterKeyArn", ""),
        }
    ]


def sse_specification(blocks: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """Enabled → KMS with the given key (or AWS's managed key); disabled → AWS-owned key; no
    block → nothing sent."""
    if not blocks:
        return None
    block = first_block(blocks)
    if not block.get("enabled"):
        return {"Enabled": False}
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if block.get("kms_key_arn"):
        spec["KMSMasterKeyId"] = block["kms_key_arn"]
    return spec


def recovery_specification(blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
    block = first_block(blocks)
    spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": bool(block.get("enabled"))}
    if block.get("enabled") and block.get("recovery_period_in_days"):
        spec["RecoveryPeriodInDays"] = int(block["recovery_period_in_days"])
    return spec


def recovery_blocks(backups: dict[str, Any]) -> list[dict[str, Any]]:
    """DescribeContinuousBackups' point-in-time recovery as the provider's block."""
    recovery = backups.get("PointInTimeRecoveryDescription") or {}
    block: dict[str, Any] = {"enabled": recovery.get("PointInTimeRecoveryStatus") == "ENABLED"}
    if recovery.get("RecoveryPeriodInDays") is not None:
        block["recovery_period_in_days"] = recovery["RecoveryPeriodInDays"]
    return [block]


def ttl_blocks(ttl: dict[str, Any]) -> list[dict[str, Any]]:
    """DescribeTimeToLive's answer as the provider's block."""
    return [
        {
            "attribute_name": ttl.get("AttributeName", ""),
            "enabled": ttl.get("TimeToLiveStatus") in TTL_ON,
        }
    ]


# Where each attribute lives in DescribeTable's `Table`, what CreateTable and UpdateTable take
# it as, and which changes replace the table. The key schema, attribute definitions, indexes,
# capacity and stream are built from several attributes at once (`create_table_params`) and
# changed by the driver's own steps (`Table.update`): their rows say where they are read from.
TABLE = AttributeTable(
    Attr("name", "TableName", force_new=True),
    Attr("arn", "TableArn", computed=True),
    Attr("hash_key", "KeySchema", create=False, force_new=True,
         from_api=lambda keys: key_named(keys or [], "HASH")),
    Attr("range_key", "KeySchema", create=False, force_new=True,
         from_api=lambda keys: key_named(keys or [], "RANGE")),
    Attr("attribute", "AttributeDefinitions", create=False, update=True,
         from_api=attribute_blocks),
    Attr("global_secondary_index", "GlobalSecondaryIndexes", create=False,
         update="GlobalSecondaryIndexUpdates",
         from_api=lambda indexes: [global_index_block(i) for i in indexes or []]),
    Attr("local_secondary_index", "LocalSecondaryIndexes", create=False, force_new=True,
         from_api=lambda indexes: [local_index_block(i) for i in indexes] if indexes else None),
    # AWS omits the summary for tables that were always provisioned.
    Attr("billing_mode", "BillingModeSummary.BillingMode", create="BillingMode", update=True,
         default="PROVISIONED", from_api=lambda mode: mode or "PROVISIONED"),
    Attr("read_capacity", "ProvisionedThroughput.ReadCapacityUnits", create=False, update=True,
         from_api=lambda units: units or 0),
    Attr("write_capacity", "ProvisionedThroughput.WriteCapacityUnits", create=False,
         update=True, from_api=lambda units: units or 0),
    Attr("stream_enabled", "StreamSpecification.StreamEnabled", create=False, update=True,
         from_api=bool),
    Attr("stream_view_type", "StreamSpecification", create=False,
         update="StreamSpecification", from_api=stream_view_type),
    Attr("stream_arn", "LatestStreamArn", computed=True, from_api=lambda arn: arn or ""),
    Attr("stream_label", "LatestStreamLabel", computed=True, from_api=lambda label: label or ""),
    Attr("server_side_encryption", "SSEDescription", create="SSESpecification", update=True,
         from_api=sse_blocks, to_api=sse_specification),
    # Behind APIs of their own, read by `read`; PITR is retried while AWS is still switching
    # continuous backups on, and TTL's change depends on what is on now (`set_ttl`).
    Attr("point_in_time_recovery", create=False,
         update=Setter("UpdateContinuousBackups", "PointInTimeRecoverySpecification"),
         to_api=recovery_specification),
    Attr("ttl", create=False, update=True),
    Attr("deletion_protection_enabled", "DeletionProtectionEnabled", update=True, from_api=bool),
    # moto 5.2 neither keeps nor reports a table class: it reads back as the default.
    Attr("table_class", "TableClassSummary.TableClass", create="TableClass", update=True,
         default="STANDARD", from_api=lambda table_class: table_class or "STANDARD"),
    service="dynamodb",
    create_call="CreateTable",
    update_call="UpdateTable",
    described="TableDescription",
    id_parameter="TableName",
)  # fmt: skip

TAGS = Tagging("ResourceArn", list_call="list_tags_of_resource")

# Changed by the driver's own steps (one concern per UpdateTable, or APIs of their own); the
# table's calls change the rest, one UpdateTable each.
OWN_UPDATES = frozenset(
    {
        "billing_mode",
        "read_capacity",
        "write_capacity",
        "stream_enabled",
        "stream_view_type",
        "attribute",
        "global_secondary_index",
        "point_in_time_recovery",
        "ttl",
        "tags",
    }
)


@resource
class Table(Resource):
    """`aws_dynamodb_table`: CreateTable plus the settings DynamoDB keeps behind other APIs."""

    type = "aws_dynamodb_table"
    arn_kind = ("dynamodb", "table")
    expected_seconds = 20.0
    replace_needs_consent = True
    table = TABLE
    tagging = TAGS
    tags_on = "arn"
    deletion_protection = DeletionProtection("deletion_protection_enabled", "table")
    # The secondary's replica names the primary's table by ARN: the export looks it up by name.
    lookup_by = {"name": "name"}
    # The replicas are aws_dynamodb_table_replica resources of the other workspace; the
    # provider's documentation pairs them with `lifecycle { ignore_changes = [replica] }`.
    managed_elsewhere = frozenset({"replica"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """Create, wait for ACTIVE, then PITR and TTL: AWS refuses both on a CREATING table."""
        ddb = ctx.client("dynamodb")
        name: str = desired["name"]
        check_key_attributes(desired)
        existing = describe_table(ddb, name)
        if existing is not None and existing["TableStatus"] == "DELETING":
            wait_deleted(ddb, name)  # the table this one replaces, still being deleted
        params = create_table_params(desired)
        try:
            retry_while(
                lambda: ddb.create_table(**params),
                retryable=too_many_tables_changing,
                timeout=CONCURRENT_CREATE_TIMEOUT,
            )
        except Conflict as exc:  # ResourceInUseException: the name is taken
            raise DeployerError(
                f"DynamoDB table {name} already exists in {ctx.region} and this "
                "deployment has no record of creating it (find adopts only a table tagged "
                f"{ADDRESS_TAG}={ctx.node.address} after an interrupted create): "
                "rename or delete the existing table"
            ) from exc
        wait_settled(ddb, name, timeout=TABLE_CREATE_TIMEOUT)
        if first_block(desired.get("point_in_time_recovery")).get("enabled"):
            set_point_in_time_recovery(ddb, name, desired)
        if first_block(desired.get("ttl")).get("enabled"):
            set_ttl(ddb, name, desired, {})
        return name

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        table = describe_table(ctx.client("dynamodb"), id)
        return None if table is None or table["TableStatus"] == "DELETING" else table

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes and tags, then point-in-time recovery and TTL from their
        own calls; None when the table went meanwhile."""
        ddb = ctx.client("dynamodb")
        try:
            live = super().read(ctx, id)
            if live is None:
                return None
            backups = ddb.describe_continuous_backups(TableName=id)
            ttl = ddb.describe_time_to_live(TableName=id).get("TimeToLiveDescription", {})
        except NotFound:
            return None
        live["point_in_time_recovery"] = recovery_blocks(backups["ContinuousBackupsDescription"])
        live["ttl"] = ttl_blocks(ttl)
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """One concern per call, each waited for: AWS rejects UpdateTable while UPDATING."""
        ddb = ctx.client("dynamodb")
        changed = self.changed(desired, live)
        check_key_attributes(desired)
        refuse_table_key_type_change(desired, live)
        wait_settled(ddb, id, timeout=TABLE_UPDATE_TIMEOUT)
        for name in sorted(changed - OWN_UPDATES):
            self.apply_changes(ctx, id, desired, live, {name})
            wait_settled(ddb, id, timeout=TABLE_UPDATE_TIMEOUT)
        if changed & {"billing_mode", "read_capacity", "write_capacity"}:
            update_billing(ddb, id, desired, live)
        if changed & {"stream_enabled", "stream_view_type"}:
            update_stream(ddb, id, desired, live)
        if changed & {"global_secondary_index", "attribute"}:
            update_indexes(ddb, id, desired, live)
        if "point_in_time_recovery" in changed:
            set_point_in_time_recovery(ddb, id, desired)
        if "ttl" in changed:
            set_ttl(ddb, id, desired, live)
        if "tags" in changed:
            self.update_tags(ctx, id, desired, live)

    def update_tags(
        self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]
    ) -> None:
        """Tag and untag, then wait until ListTagsOfResource shows it: it lags TagResource."""
        ddb, arn, want = ctx.client("dynamodb"), live["arn"], desired.get("tags") or {}
        if not TAGS.update(ddb, arn, want, live.get("tags")):
            return
        poll(
            lambda: True if TAGS.read(ddb, arn) == want else None,
            what=f"the tags of {arn} to show",
            timeout=TAGS_VISIBLE_TIMEOUT,
            delay=1.0,
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Switch deletion protection off (when allowed: `check_delete`), delete, and wait
        until the table is gone."""
        reason = self.check_delete(ctx, id)
        if reason:
            raise DeployerError(reason)
        ddb = ctx.client("dynamodb")
        table = describe_table(ddb, id)
        if table is None:
            return
        if table["TableStatus"] == "DELETING":
            wait_deleted(ddb, id)
            return
        # DeleteTable and UpdateTable are refused while the table is CREATING or UPDATING.
        table = wait_settled(ddb, id, timeout=TABLE_UPDATE_TIMEOUT)
        if table.get("DeletionProtectionEnabled"):
            protection = "deletion_protection_enabled"
            self.apply_changes(ctx, id, {protection: False}, {}, {protection})
            wait_settled(ddb, id, timeout=TABLE_UPDATE_TIMEOUT)
        delete_and_wait_gone(
            lambda: ddb.delete_table(TableName=id),
            lambda: describe_table(ddb, id),
            what=f"DynamoDB table {id}",
            timeout=TABLE_DELETE_TIMEOUT,
            delay=TABLE_POLL_DELAY,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic; adopt the table only if it carries this node's address."""
        ddb = ctx.client("dynamodb")
        name: str = desired["name"]
        table = self.describe(ctx, name)
        if table is None:
            return None
        if table["TableStatus"] == "CREATING":
            table = wait_settled(ddb, name, timeout=TABLE_CREATE_TIMEOUT)
        return name if is_ours(TAGS.read(ddb, table["TableArn"]), desired) else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        wait_settled(ctx.client("dynamodb"), id, timeout=TABLE_UPDATE_TIMEOUT)


# ---------------------------------------------------------------------------------------------
# Terraform attributes → DynamoDB request shapes
# ---------------------------------------------------------------------------------------------


def table_key_schema(attributes: dict[str, Any]) -> list[dict[str, str]]:
    schema = [{"AttributeName": attributes["hash_key"], "KeyType": "HASH"}]
    if attributes.get("range_key"):
        schema.append({"AttributeName": attributes["range_key"], "KeyType": "RANGE"})
    return schema


def index_key_schema(index: dict[str, Any]) -> list[dict[str, str]]:
    """A GSI's keys from `key_schema` blocks, or from the deprecated hash_key/range_key."""
    if index.get("key_schema"):
        return [
            {"AttributeName": key["attribute_name"], "KeyType": key["key_type"]}
            for key in index["key_schema"]
        ]
    return table_key_schema(index)


def attribute_types(attributes: dict[str, Any]) -> dict[str, str]:
    return {a["name"]: a["type"] for a in attributes.get("attribute") or []}


def key_attribute_names(attributes: dict[str, Any]) -> set[str]:
    """Attributes the table's and its indexes' keys use: all `attribute` blocks may declare."""
    names = {k["AttributeName"] for k in table_key_schema(attributes)}
    for index in attributes.get("global_secondary_index") or []:
        names |= {k["AttributeName"] for k in index_key_schema(index)}
    for index in attributes.get("local_secondary_index") or []:
        names.add(index["range_key"])
    return names


def check_key_attributes(attributes: dict[str, Any]) -> None:
    """DynamoDB defines exactly the key attributes: a missing or unused one is refused."""
    declared = set(attribute_types(attributes))
    used = key_attribute_names(attributes)
    if declared != used:
        problems = []
        if used - declared:
            problems.append(f"keys without an attribute block: {sorted(used - declared)}")
        if declared - used:
            problems.append(f"attribute blocks no key uses: {sorted(declared - used)}")
        raise DeployerError(f"DynamoDB table {attributes.get('name')}: {'; '.join(problems)}")


def attribute_definitions(
    attributes: dict[str, Any], names: set[str] | None = None
) -> list[dict[str, str]]:
    return [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in sorted(attribute_types(attributes).items())
        if names is None or name in names
    ]


def provisioned_throughput(block: dict[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(block.get("read_capacity") or 0),
        "WriteCapacityUnits": int(block.get("write_capacity") or 0),
    }


def is_provisioned(attributes: dict[str, Any]) -> bool:
    # Terraform's default billing mode is PROVISIONED.
    return (attributes.get("billing_mode") or "PROVISIONED") == "PROVISIONED"


def index_definition(index: dict[str, Any], provisioned: bool) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index["projection_type"]}
    if index.get("non_key_attributes"):
        projection["NonKeyAttributes"] = sorted(index["non_key_attributes"])
    definition: dict[str, Any] = {
        "IndexName": index["name"],
        "KeySchema": index_key_schema(index),
        "Projection": projection,
    }
    if provisioned:
        definition["ProvisionedThroughput"] = provisioned_throughput(index)
    return definition


def local_index_definition(index: dict[str, Any], hash_key: str) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index["projection_type"]}
    if index.get("non_key_attributes"):
        projection["NonKeyAttributes"] = list(index["non_key_attributes"])
    return {
        "IndexName": index["name"],
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": index["range_key"], "KeyType": "RANGE"},
        ],
        "Projection": projection,
    }


def create_table_params(desired: dict[str, Any]) -> dict[str, Any]:
    """The table's rows (name, billing mode, encryption, protection, class), and what is built
    from several attributes: keys, attribute definitions, capacity, indexes, stream, tags."""
    provisioned = is_provisioned(desired)
    params: dict[str, Any] = {
        **TABLE.create_parameters(desired),
        "AttributeDefinitions": attribute_definitions(desired),
        "KeySchema": table_key_schema(desired),
    }
    if provisioned:
        params["ProvisionedThroughput"] = provisioned_throughput(desired)
    indexes = desired.get("global_secondary_index") or []
    if indexes:
        params["GlobalSecondaryIndexes"] = [index_definition(i, provisioned) for i in indexes]
    local = desired.get("local_secondary_index") or []
    if local:
        params["LocalSecondaryIndexes"] = [
            local_index_definition(i, desired["hash_key"]) for i in local
        ]
    if desired.get("stream_enabled"):
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": desired["stream_view_type"],
        }
    if desired.get("tags"):
        params["Tags"] = TAGS.to_api(desired["tags"])
    return params


# ---------------------------------------------------------------------------------------------
# Updates
# ---------------------------------------------------------------------------------------------


def update_table(ddb: Any, name: str, **params: Any) -> None:
    """One UpdateTable call, then wait: the next one is refused while the table is UPDATING."""
    ddb.update_table(TableName=name, **params)
    wait_settled(ddb, name, timeout=TABLE_UPDATE_TIMEOUT)


def refuse_table_key_type_change(desired: dict[str, Any], live: dict[str, Any]) -> None:
    """A key attribute's type is fixed at creation; only a replacement changes it.

    The engine's `force_new` names whole attributes, and `attribute` also changes when an index
    is added, so this case is caught here rather than planned as a replacement.
    """
    want, have = attribute_types(desired), attribute_types(live)
    for key in table_key_schema(desired):
        name = key["AttributeName"]
        if name in have and want.get(name) != have[name]:
            raise DeployerError(
                f"DynamoDB table {desired['name']}: the type of key attribute {name} cannot "
                f"change from {have[name]} to {want.get(name)} in place; the table must be "
                "replaced (rename it to create a new one)"
            )


def update_billing(ddb: Any, name: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """Switching to PROVISIONED needs the capacity of the table and of each remaining index."""
    if not is_provisioned(desired):
        update_table(ddb, name, BillingMode="PAY_PER_REQUEST")
        return
    index_capacity = [
        {"Update": {"IndexName": i["name"], "ProvisionedThroughput": provisioned_throughput(i)}}
        for i in desired.get("global_secondary_index") or []
        if i["name"] in {h["name"] for h in live.get("global_secondary_index") or []}
    ]
    params: dict[str, Any] = {
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": provisioned_throughput(desired),
    }
    if index_capacity:
        params["GlobalSecondaryIndexUpdates"] = index_capacity
    update_table(ddb, name, **params)


def update_stream(ddb: Any, name: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """AWS refuses to change the view type of an enabled stream: disable, then enable anew.

    Re-enabling starts a new stream (new ARN and label); consumers of the old one must move.
    """
    if desired.get("stream_enabled") is None:
        return
    want_enabled = bool(desired["stream_enabled"])
    want_type = desired.get("stream_view_type")
    have_enabled = bool(live.get("stream_enabled"))
    type_differs = want_type != live.get("stream_view_type")
    if have_enabled and (not want_enabled or type_differs):
        update_table(ddb, name, StreamSpecification={"StreamEnabled": False})
    if want_enabled and (not have_enabled or type_differs):
        update_table(
            ddb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": want_type}
        )


def update_indexes(ddb: Any, name: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """GSIs whose keys or projection change are dropped and rebuilt, one per UpdateTable call.

    AWS allows one index creation or deletion per UpdateTable; `update_table` waits for the
    table and every index to be ACTIVE before the next call.
    """
    want = {i["name"]: i for i in desired.get("global_secondary_index") or []}
    have = {i["name"]: i for i in live.get("global_secondary_index") or []}
    want_types, have_types = attribute_types(desired), attribute_types(live)
    provisioned = is_provisioned(desired)

    def rebuilt(index_name: str) -> bool:
        structure = {k: v for k, v in want[index_name].items() if k not in CAPACITY_ATTRIBUTES}
        keys = [k["AttributeName"] for k in index_key_schema(want[index_name])]
        return not equivalent([structure], [have[index_name]]) or any(
            want_types.get(k) != have_types.get(k) for k in keys
        )

    dropped = sorted(n for n in have if n not in want or rebuilt(n))
    added = sorted(n for n in want if n not in have or n in dropped)
    resized = sorted(
        n
        for n in want
        if provisioned
        and n in have
        and n not in dropped
        and provisioned_throughput(want[n]) != provisioned_throughput(have[n])
    )
    present = set(have)
    for index_name in dropped:
        update_table(ddb, name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
        present.discard(index_name)
    for index_name in added:
        present.add(index_name)
        # The definitions of every key in use once the index exists: AWS needs the new index's
        # and ignores the others, and the attributes of the indexes kept stay defined.
        needed = {k["AttributeName"] for k in table_key_schema(desired)}
        for kept in present:
            needed |= {k["AttributeName"] for k in index_key_schema(want[kept])}
        update_table(
            ddb,
            name,
            AttributeDefinitions=attribute_definitions(desired, needed),
            GlobalSecondaryIndexUpdates=[
                {"Create": index_definition(want[index_name], provisioned)}
            ],
        )
    for index_name in resized:
        update_table(
            ddb,
            name,
            GlobalSecondaryIndexUpdates=[
                {
                    "Update": {
                        "IndexName": index_name,
                        "ProvisionedThroughput": provisioned_throughput(want[index_name]),
                    }
                }
            ],
        )


def set_point_in_time_recovery(ddb: Any, name: str, desired: dict[str, Any]) -> None:
    """The table's setter (UpdateContinuousBackups), retried while AWS is still switching
    continuous backups on after CreateTable."""
    retry_while(
        lambda: TABLE.apply_update(ddb, name, desired, {"point_in_time_recovery"}),
        retryable=backups_not_ready,
        timeout=BACKUPS_AVAILABLE_TIMEOUT,
    )


def set_ttl(ddb: Any, name: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """Enable or disable TTL; moving it to another attribute takes two applies an hour apart.

    AWS keeps TTL on one attribute, refuses to enable it on another while it is on, and
    refuses any further UpdateTimeToLive on the table for up to an hour after a change.
    """
    want, have = first_block(desired.get("ttl")), first_block(live.get("ttl"))
    want_attribute, have_attribute = want.get("attribute_name"), have.get("attribute_name")
    if want.get("enabled"):
        if not want_attribute:
            raise DeployerError(f"DynamoDB table {name}: ttl needs attribute_name when enabled")
        if have.get("enabled") and have_attribute != want_attribute:
            raise DeployerError(
                f"DynamoDB table {name}: TTL is on for {have_attribute!r}; AWS cannot move it "
                f"to {want_attribute!r} in one step. Apply with ttl enabled = false first, "
                f"then, an hour later (AWS's limit on TTL changes), enable it on {want_attribute!r}"
            )
        specification = {"Enabled": True, "AttributeName": want_attribute}
    elif have.get("enabled"):
        specification = {"Enabled": False, "AttributeName": have_attribute}
    else:
        return
    try:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=specification)
    except ClientError as exc:
        if error_code(exc) == "ValidationException" and "multiple times" in str(exc):
            raise DeployerError(
                f"DynamoDB table {name}: TTL was changed less than an hour ago and AWS allows "
                "one change per hour; apply again later"
            ) from exc
        raise


# ---------------------------------------------------------------------------------------------
# Finders, status functions and waiters
# ---------------------------------------------------------------------------------------------


def backups_not_ready(exc: BaseException) -> bool:
    return error_code(exc) == "ContinuousBackupsUnavailableException"


def too_many_tables_changing(exc: BaseException) -> bool:
    """AWS limits how many tables may be CREATING/UPDATING/DELETING at once; that passes."""
    if error_code(exc) != "LimitExceededException":
        return False
    message = str(exc).lower()
    return any(word in message for word in ("creating", "simultaneous", "concurrent"))


def describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    answer = or_none(lambda: ddb.describe_table(TableName=name))
    return dict(answer["Table"]) if answer else None


def settled(table: dict[str, Any]) -> bool:
    """ACTIVE, with every index ACTIVE and no encryption change in progress."""
    return (
        table["TableStatus"] == "ACTIVE"
        and all(
            i.get("IndexStatus") not in TRANSITIONAL_INDEX_STATUSES
            for i in table.get("GlobalSecondaryIndexes") or []
        )
        and (table.get("SSEDescription") or {}).get("Status") not in TRANSITIONAL_SSE_STATUSES
    )


def wait_settled(ddb: Any, name: str, *, timeout: float) -> dict[str, Any]:
    """Wait until the table accepts the next change; fail fast if its KMS key is unusable."""

    def check() -> dict[str, Any] | None:
        table = describe_table(ddb, name)
        if table is None:
            raise DeployerError(f"DynamoDB table {name} disappeared while waiting for it")
        if table["TableStatus"] == "INACCESSIBLE_ENCRYPTION_CREDENTIALS":
            raise DeployerError(
                f"DynamoDB table {name} cannot use its KMS key (disabled, scheduled for "
                "deletion or its grant revoked): restore access to the key"
            )
        return table if settled(table) else None

    return poll(
        check, what=f"DynamoDB table {name} to be ACTIVE", timeout=timeout, delay=TABLE_POLL_DELAY
    )


def wait_deleted(ddb: Any, name: str) -> None:
    wait_gone(
        lambda: describe_table(ddb, name),
        what=f"DynamoDB table {name}",
        timeout=TABLE_DELETE_TIMEOUT,
        delay=TABLE_POLL_DELAY,
    )
