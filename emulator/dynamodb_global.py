"""DynamoDB global tables, version 2019.11.21 (``DYNAMODB_GLOBAL_EXTENSIONS``).

moto 5.2 has no global tables: UpdateTable drops ``ReplicaUpdates`` without an error, so nothing
in another region ever sees a table's items. The disaster-recovery path (issue 15) needs a
replica table in the secondary region that receives the primary's writes, with its own key,
stream and point-in-time recovery, as AWS keeps it. What AWS documents, and this module does:

- UpdateTable ``ReplicaUpdates`` (API Reference: **UpdateTable**, **ReplicationGroupUpdate**,
  **CreateReplicationGroupMemberAction**, **UpdateReplicationGroupMemberAction**,
  **DeleteReplicationGroupMemberAction**): Create builds the table in the other region's backend
  (same keys, attribute definitions, indexes, billing mode and capacity, stream view type, TTL)
  encrypted with its own KMS key resolved in *that* region; Update changes a replica's key;
  Delete removes the replica's table. A replica of the table's own region, a second replica of
  one region and an Update or Delete of a region that is no replica are ValidationException.
  The UpdateTable answer shows the table UPDATING and the replica CREATING (or DELETING); the
  next DescribeTable shows it ACTIVE (the emulator builds it at once).
- DescribeTable (**TableDescription**, **ReplicaDescription**): ``GlobalTableVersion``
  "2019.11.21" and ``Replicas`` (the other members: RegionName, ReplicaStatus and the
  replica's KMSMasterKeyId) from every member.
- DeleteTable of a member in its own region leaves the others as the group (Developer Guide,
  *Global tables: how it works*: any replica can be deleted like a table).
- Disabling the stream of a table that has replicas is refused with AWS's ValidationException
  ("Disabling Stream is not allowed for a Global Table replica"). Whether AWS refuses to *add*
  a replica to a table without a stream is not documented for 2019.11.21 (the
  NEW_AND_OLD_IMAGES rule of **CreateGlobalTable** is version 2017.11.29's), so it is not
  refused: a replica gets the stream the table has, or none.
- UpdateTimeToLive on one member applies to all (Developer Guide, *Determining the version*:
  version 2019.11.21 keeps "TTL settings ... aligned automatically").
- Replication (Developer Guide, *Global tables: how it works*): after a successful PutItem,
  UpdateItem, DeleteItem, BatchWriteItem or TransactWriteItems, the item as it now is in the
  region that took the write is applied to the other members: conditions are checked in that
  region only, and between regions the last writer wins (a replicated write older than the
  member's own latest write of the item is dropped). Each member's stream records the write.
  By default the write arrives at once; ``set_replication_lag(seconds)`` delays its arrival
  (AWS: "usually within a second"), so a drill or benchmark measures a replication lag. The
  delayed writes are delivered at the next DynamoDB or DynamoDB Streams request.
- UpdateTable ``SSESpecification`` (**UpdateTable**, **SSESpecification**) switches the table's
  key (moto ignores it): a key ID, ARN or alias of the table's own region, the AWS managed key
  ``alias/aws/dynamodb`` when none is named, or the AWS owned key when disabled.

- DynamoDB Streams: the account endpoint botocore sends DescribeStream and GetShardIterator to
  is routed, and a stream record's ``awsRegion`` is its stream's region (moto: always
  us-east-1).

State lives on moto's tables (each member carries the group), so a reset of moto's backends
(the end of a ``mock_aws``) forgets it with them.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.patching import _patch

GLOBAL_TABLE_VERSION = "2019.11.21"
# The message AWS answers a stream disable on a table with replicas (quoted in
# terraform-aws-modules/terraform-aws-dynamodb-table PR #30; docs/dr-emulator-survey.md).
STREAM_DISABLE_REFUSED = (
    "One or more parameter values were invalid: "
    "Disabling Stream is not allowed for a Global Table replica"
)
# Environment variable the emulator's server reads for its initial replication lag (seconds).
LAG_ENV = "DEPLOYER_EMULATOR_REPLICATION_LAG"
# The attribute of a moto Table that holds its replication group.
_GROUP_ATTR = "_deployer_replication_group"

_lock = threading.RLock()
_local = threading.local()


@dataclass(eq=False)
class _Group:
    """The members of one global table: regions whose backend has the table, in join order."""

    account_id: str
    name: str
    regions: list[str]
    # (region, item key) → time of the latest write of that item that region has applied.
    written: dict[tuple[str, str], float] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> _Group:
        # moto's TransactWriteItems deep-copies a table to roll it back: the copy stays a member.
        return self


@dataclass
class _Write:
    """One write to deliver to the other members: the item as it was after it (None: gone)."""

    group: _Group
    source: str
    key: dict[str, Any]
    image: dict[str, Any] | None
    at: float
    due: float


_pending: list[_Write] = []
_lag = float(os.environ.get(LAG_ENV) or 0.0)


def set_replication_lag(seconds: float) -> None:
    """Delay every later write's arrival in the other members by ``seconds`` (0: at once)."""
    global _lag
    if seconds < 0:
        raise ValueError("replication lag cannot be negative")
    _lag = float(seconds)


def replication_lag() -> float:
    """The delay set by ``set_replication_lag`` (or the server's ``LAG_ENV``)."""
    return _lag


def pending_writes() -> int:
    """How many replicated writes have not arrived yet."""
    with _lock:
        return len(_pending)


# --- the group --------------------------------------------------------------------------------


def _backend(account_id: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account_id][region]


def group_of(table: Any) -> _Group | None:
    """The table's group while it has at least one other member."""
    group: _Group | None = getattr(table, _GROUP_ATTR, None)
    if group is None or table.region_name not in group.regions or len(group.regions) < 2:
        return None
    return group


def _members(group: _Group) -> dict[str, Any]:
    """Region → the member's table, skipping any that is gone from its backend."""
    found = {}
    for region in group.regions:
        table = _backend(group.account_id, region).tables.get(group.name)
        if table is not None and getattr(table, _GROUP_ATTR, None) is group:
            found[region] = table
    return found


def _invalid(message: str) -> Exception:
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(message)


def _kms_key_arn(account_id: str, region: str, key_id: str | None) -> str:
    """The key's ARN in ``region``'s KMS (AWS's managed ``alias/aws/dynamodb`` for None).

    CreateReplicationGroupMemberAction: the replica's key must be in the replica's region.
    """
    from moto.kms import kms_backends

    wanted = key_id or "alias/aws/dynamodb"
    if wanted.startswith("arn:") and wanted.split(":")[3] != region:
        raise _invalid(
            f"One or more parameter values were invalid: KMSMasterKeyId {wanted} is not in "
            f"region {region}"
        )
    kms = kms_backends[account_id][region]
    try:
        return str(kms.describe_key(wanted).arn)
    except Exception as exc:  # moto's NotFoundException, or a KeyError for an unknown alias
        raise _invalid(
            f"One or more parameter values were invalid: KMSMasterKeyId {wanted} does not "
            f"exist in region {region}"
        ) from exc


def _replica_description(table: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"RegionName": table.region_name, "ReplicaStatus": "ACTIVE"}
    sse = table.sse_specification or {}
    if sse.get("Enabled") and sse.get("KMSMasterKeyId"):
        described["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
    return described


def _described(original: Any) -> Any:
    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result: dict[str, Any] = original(self, base_key)
        with _lock:
            group = group_of(self)
            if group is not None:
                others = [t for r, t in _members(group).items() if r != self.region_name]
                result[base_key]["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
                result[base_key]["Replicas"] = [_replica_description(t) for t in others]
        return result

    return describe


def _create_replica(table: Any, action: dict[str, Any]) -> None:
    """Build the member in the action's region from ``table``
    (CreateReplicationGroupMemberAction), with the items the table has so far."""
    from moto.dynamodb.models.table import Table

    region = action["RegionName"]
    target = _backend(table.account_id, region)
    if table.sse_specification and table.sse_specification.get("Enabled"):
        sse: dict[str, Any] | None = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": _kms_key_arn(table.account_id, region, action.get("KMSMasterKeyId")),
        }
    elif action.get("KMSMasterKeyId"):
        sse = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": _kms_key_arn(table.account_id, region, action["KMSMasterKeyId"]),
        }
    else:
        sse = None
    stream = table.stream_specification or {}
    replica = Table(  # type: ignore[abstract]
        table.name,
        account_id=table.account_id,
        region=region,
        schema=copy.deepcopy(table.schema),
        attr=copy.deepcopy(table.attr),
        throughput=None
        if table.billing_mode == "PAY_PER_REQUEST"
        else {
            "ReadCapacityUnits": table.throughput["ReadCapacityUnits"],
            "WriteCapacityUnits": table.throughput["WriteCapacityUnits"],
        },
        billing_mode=table.billing_mode,
        indexes=[i.describe() for i in table.indexes],
        global_indexes=[
            {k: v for k, v in i.describe().items() if k not in ("IndexStatus", "WarmThroughput")}
            for i in table.global_indexes
        ],
        streams=dict(stream) if stream.get("StreamEnabled") else None,
        sse_specification=sse,
        tags=[],
        deletion_protection_enabled=False,
    )
    replica.ttl = dict(table.ttl)
    for value in table.items.values():
        for item in value.values() if table.has_range_key else [value]:
            replica.put_item(copy.deepcopy(item.to_json()["Attributes"]))
    target.tables[table.name] = replica
    group = getattr(table, _GROUP_ATTR, None)
    if group is None or table.region_name not in group.regions:
        group = _Group(table.account_id, table.name, [table.region_name])
        setattr(table, _GROUP_ATTR, group)
    group.regions.append(region)
    group.written = {k: t for k, t in group.written.items() if k[0] != region}
    setattr(replica, _GROUP_ATTR, group)


def _check_replica_updates(table: Any, updates: list[dict[str, Any]]) -> None:
    """Refuse what AWS refuses before changing anything (UpdateTable ``ReplicaUpdates``)."""
    group = group_of(table)
    members = set(group.regions) if group else {table.region_name}
    for update in updates:
        if len(update) != 1:
            raise _invalid(
                "One or more parameter values were invalid: one action per replica update"
            )
        ((verb, action),) = update.items()
        region = action["RegionName"]
        if verb == "Create":
            if region == table.region_name:
                raise _invalid(
                    "One or more parameter values were invalid: a replica cannot be in the "
                    f"table's own region {region}"
                )
            if region in members:
                raise _invalid(
                    f"One or more parameter values were invalid: {table.name} already has a "
                    f"replica in {region}"
                )
            if table.name in _backend(table.account_id, region).tables:
                raise _invalid(
                    f"Failed to create a the new replica of table with name: '{table.name}' "
                    f"because one or more replicas already existed as tables."
                )
            members.add(region)
        elif region not in members or region == table.region_name:
            raise _invalid(
                f"One or more parameter values were invalid: {region} is not a replica of "
                f"table {table.name}"
            )
        elif verb == "Delete":
            members.discard(region)


def _apply_replica_updates(table: Any, updates: list[dict[str, Any]]) -> dict[str, str]:
    """Apply checked updates; return region → the status UpdateTable's answer shows."""
    shown: dict[str, str] = {}
    for update in updates:
        ((verb, action),) = update.items()
        region = action["RegionName"]
        if verb == "Create":
            _create_replica(table, action)
            shown[region] = "CREATING"
            continue
        group = group_of(table)
        assert group is not None  # _check_replica_updates
        member = _members(group).get(region)
        if verb == "Update" and member is not None:
            if "KMSMasterKeyId" in action:
                member.sse_specification = {
                    "Enabled": True,
                    "SSEType": "KMS",
                    "KMSMasterKeyId": _kms_key_arn(
                        table.account_id, region, action["KMSMasterKeyId"]
                    ),
                }
            shown[region] = "UPDATING"
        elif verb == "Delete":
            _backend(table.account_id, region).tables.pop(table.name, None)
            group.regions.remove(region)
            shown[region] = "DELETING"
    return shown


def _sse_switched(table: Any, specification: dict[str, Any]) -> None:
    """UpdateTable SSESpecification: AWS owned key when disabled, else a key of this region."""
    if not specification.get("Enabled", True):
        table.sse_specification = None
        return
    table.sse_specification = {
        "Enabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": _kms_key_arn(
            table.account_id, table.region_name, specification.get("KMSMasterKeyId")
        ),
    }


def _update_table_with_replicas(original: Any) -> Any:
    def update_table(self: Any) -> Any:
        from moto.dynamodb.responses import DynamoResult

        updates = self.body.get("ReplicaUpdates") or []
        sse = self.body.get("SSESpecification")
        if not updates and sse is None:
            return original(self)
        with _lock:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            _check_replica_updates(table, updates)
            if sse is not None and sse.get("Enabled", True):
                # Resolved before any change: an unknown key or one of another region changes
                # nothing.
                _kms_key_arn(table.account_id, table.region_name, sse.get("KMSMasterKeyId"))
            original(self)  # the request's other changes
            if sse is not None:
                _sse_switched(table, sse)
            shown = _apply_replica_updates(table, updates)
            result = table.describe()
        described = result["TableDescription"]
        if shown:
            described["TableStatus"] = "UPDATING"
            replicas = [r for r in described.get("Replicas", []) if r["RegionName"] not in shown]
            for region, status in shown.items():
                replicas.append({"RegionName": region, "ReplicaStatus": status})
            described["Replicas"] = replicas
            described["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        return DynamoResult(result)

    return update_table


def _delete_leaves_group(original: Any) -> Any:
    def delete_table(self: Any, name: str) -> Any:
        with _lock:
            table = original(self, name)
            group: _Group | None = getattr(table, _GROUP_ATTR, None)
            if group is not None and self.region_name in group.regions:
                group.regions.remove(self.region_name)
            return table

    return delete_table


def _stream_kept_on_replicas(original: Any) -> Any:
    def update_table_streams(self: Any, table: Any, stream_specification: dict[str, Any]) -> None:
        if not stream_specification.get("StreamEnabled") and group_of(table) is not None:
            raise _invalid(STREAM_DISABLE_REFUSED)
        original(self, table, stream_specification)

    return update_table_streams


def _ttl_aligned(original: Any) -> Any:
    def update_time_to_live(self: Any, table_name: str, ttl_spec: dict[str, Any]) -> None:
        original(self, table_name, ttl_spec)
        with _lock:
            table = self.get_table(table_name)
            group = group_of(table)
            for member in _members(group).values() if group else []:
                member.ttl = dict(table.ttl)

    return update_time_to_live


# --- replication of writes ------------------------------------------------------------------


def _key_string(key: dict[str, Any]) -> str:
    return repr(sorted((name, sorted(value.items())) for name, value in key.items()))


def _item_key(table: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _written(backend: Any, table_name: str, key: dict[str, Any]) -> None:
    """Queue the item's image after a successful write, or defer it to the transaction's end."""
    deferred: list[tuple[Any, str, dict[str, Any]]] | None = getattr(_local, "deferred", None)
    if deferred is not None:
        deferred.append((backend, table_name, key))
        return
    from moto.dynamodb.models.dynamo_type import DynamoType

    with _lock:
        table = backend.tables.get(table_name)
        group = group_of(table) if table is not None else None
        if group is None:
            return
        key = _item_key(table, key)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
        image = copy.deepcopy(item.to_json()["Attributes"]) if item is not None else None
        now = time.time()
        group.written[(table.region_name, _key_string(key))] = now
        _pending.append(_Write(group, table.region_name, key, image, now, now + _lag))
    deliver_due()


def deliver_due(now: float | None = None) -> None:
    """Apply every replicated write whose lag has passed, oldest first."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    with _lock:
        moment = time.time() if now is None else now
        due = [w for w in _pending if w.due <= moment]
        if not due:
            return
        _pending[:] = [w for w in _pending if w.due > moment]
        for write in sorted(due, key=lambda w: w.at):
            key_string = _key_string(write.key)
            for region, table in _members(write.group).items():
                if region == write.source:
                    continue
                if write.group.written.get((region, key_string), 0.0) > write.at:
                    continue  # this member has a later write of the item: last writer wins
                write.group.written[(region, key_string)] = write.at
                if write.image is not None:
                    table.put_item(copy.deepcopy(write.image))
                else:
                    hash_value = DynamoType(write.key[table.hash_key_attr])
                    range_key = table.range_key_attr
                    table.delete_item(
                        hash_value, DynamoType(write.key[range_key]) if range_key else None
                    )


def _put_replicated(original: Any) -> Any:
    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *a: Any, **k: Any) -> Any:
        item = original(self, table_name, item_attrs, *a, **k)
        _written(self, table_name, item_attrs)
        return item

    return put_item


def _update_replicated(original: Any) -> Any:
    def update_item(self: Any, table_name: str, key: dict[str, Any], *a: Any, **k: Any) -> Any:
        item = original(self, table_name, key, *a, **k)
        _written(self, table_name, key)
        return item

    return update_item


def _delete_replicated(original: Any) -> Any:
    def delete_item(self: Any, table_name: str, key: dict[str, Any], *a: Any, **k: Any) -> Any:
        item = original(self, table_name, key, *a, **k)
        _written(self, table_name, key)
        return item

    return delete_item


def _transaction_replicated(original: Any) -> Any:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        outer = getattr(_local, "deferred", None)
        _local.deferred = []
        try:
            original(self, transact_items)
            writes, _local.deferred = _local.deferred, outer
        except BaseException:
            _local.deferred = outer  # cancelled: nothing was written, nothing replicates
            raise
        for backend, table_name, key in writes:
            _written(backend, table_name, key)

    return transact_write_items


def _delivering_first(original: Any) -> Any:
    def call_action(self: Any) -> Any:
        deliver_due()
        return original(self)

    return call_action


def _install_global_tables() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    _patch(Table, "describe", "global-table", _described)
    _patch(DynamoHandler, "update_table", "replica-updates", _update_table_with_replicas)
    _patch(DynamoDBBackend, "delete_table", "leaves-group", _delete_leaves_group)
    _patch(DynamoDBBackend, "update_table_streams", "global-stream", _stream_kept_on_replicas)
    _patch(DynamoDBBackend, "update_time_to_live", "aligned", _ttl_aligned)


def _install_replication() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    _patch(DynamoDBBackend, "put_item", "replicated", _put_replicated)
    _patch(DynamoDBBackend, "update_item", "replicated", _update_replicated)
    _patch(DynamoDBBackend, "delete_item", "replicated", _delete_replicated)
    _patch(DynamoDBBackend, "transact_write_items", "replicated", _transaction_replicated)
    _patch(DynamoHandler, "call_action", "delivers", _delivering_first)
    _patch(DynamoDBStreamsHandler, "call_action", "delivers", _delivering_first)


# --- DynamoDB Streams: the account endpoint -------------------------------------------------
# botocore 1.44 sends DescribeStream and GetShardIterator to the account endpoint
# `https://<account>.streams-ddb.<region>.amazonaws.com` (the service's endpoint rules), which
# moto's dynamodbstreams does not route (only `streams.dynamodb.<region>...`): every stream read
# answered 404 "Not yet implemented" in-process. The server routes by the X-Amz-Target header
# and needs no change for a client on its endpoint; a client whose requests still carry the
# account endpoint's Host (a proxy) is routed by the same pattern list.
STREAMS_ACCOUNT_ENDPOINT = r"https?://\d{12}\.streams-ddb\.(.+)\.amazonaws\.com"


def _install_streams_endpoint() -> None:
    import re

    import moto.backend_index as backend_index
    from moto.dynamodbstreams import urls

    if STREAMS_ACCOUNT_ENDPOINT not in urls.url_bases:
        urls.url_bases.append(STREAMS_ACCOUNT_ENDPOINT)
    if not any(
        p.pattern == STREAMS_ACCOUNT_ENDPOINT for _, p in backend_index.backend_url_patterns
    ):
        backend_index.backend_url_patterns.append(
            ("dynamodbstreams", re.compile(STREAMS_ACCOUNT_ENDPOINT))
        )


# --- DynamoDB Streams: a record's region ------------------------------------------------------
# moto writes "awsRegion": "us-east-1" into every stream record. AWS (DynamoDB Streams API
# Reference, **Record**: awsRegion, "The region in which the GetRecords request was received")
# answers the stream's own region: a replica's records in eu-west-1 say eu-west-1.


def _record_in_its_region(original: Any) -> Any:
    def add(self: Any, old: Any, new: Any) -> None:
        original(self, old, new)
        if self.items:
            self.items[-1].record["awsRegion"] = self.table.region_name

    return add


def _install_record_region() -> None:
    from moto.dynamodb.models.table import StreamShard

    _patch(StreamShard, "add", "record-region", _record_in_its_region)


DYNAMODB_GLOBAL_EXTENSIONS: tuple[Callable[[], None], ...] = (
    _install_streams_endpoint,
    _install_record_region,
    _install_global_tables,
    _install_replication,
)
