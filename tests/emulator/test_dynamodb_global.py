"""DynamoDB global tables and the Streams endpoint (emulator/dynamodb_global.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import dynamodb_global

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"
THIRD = "us-west-2"
NAME = "payments"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture
def lag() -> Iterator[None]:
    """Restore the default (no replication lag) whatever the test set."""
    yield
    dynamodb_global.set_replication_lag(0)
    dynamodb_global.deliver_due(now=float("inf"))


def _kms_key(region: str) -> str:
    arn: str = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["Arn"]
    return arn


def _table(ddb: Any, **extra: Any) -> dict[str, Any]:
    described: dict[str, Any] = ddb.create_table(
        TableName=NAME,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "merchant", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_merchant",
                "KeySchema": [{"AttributeName": "merchant", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **extra,
    )["TableDescription"]
    return described


def _global_table(**create: Any) -> tuple[Any, Any]:
    """The table in PRIMARY with a replica in SECONDARY; the two regions' clients."""
    primary = boto3.client("dynamodb", region_name=PRIMARY)
    secondary = boto3.client("dynamodb", region_name=SECONDARY)
    _table(primary)
    primary.update_table(
        TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY, **create}}]
    )
    return primary, secondary


def _item(ddb: Any, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=NAME, Key={"id": {"S": key}}).get("Item")
    return item


def _records(region: str) -> list[dict[str, Any]]:
    ddb = boto3.client("dynamodb", region_name=region)
    streams = boto3.client("dynamodbstreams", region_name=region)
    arn = ddb.describe_table(TableName=NAME)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator)["Records"]
    return records


# --- Streams endpoint -------------------------------------------------------------------------


def test_stream_is_read_through_the_account_endpoint(aws: None) -> None:
    """botocore sends DescribeStream/GetShardIterator to <account>.streams-ddb.<region>."""
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    _table(ddb)
    ddb.put_item(TableName=NAME, Item={"id": {"S": "p-1"}, "merchant": {"S": "m"}})
    records = _records(PRIMARY)
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"]["id"] == {"S": "p-1"}


def test_stream_is_read_from_the_server(emulator: str) -> None:
    """The server routes stream calls by their X-Amz-Target, whatever the endpoint."""
    ddb = boto3.client("dynamodb", region_name=PRIMARY, endpoint_url=emulator)
    streams = boto3.client("dynamodbstreams", region_name=PRIMARY, endpoint_url=emulator)
    ddb.create_table(
        TableName="server-stream",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    ddb.put_item(TableName="server-stream", Item={"id": {"S": "p-1"}})
    arn = ddb.describe_table(TableName="server-stream")["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["NewImage"] for r in records] == [{"id": {"S": "p-1"}}]


# --- ReplicaUpdates and DescribeTable ---------------------------------------------------------


def test_replica_is_built_in_the_other_region(aws: None) -> None:
    primary = boto3.client("dynamodb", region_name=PRIMARY)
    secondary = boto3.client("dynamodb", region_name=SECONDARY)
    source = _table(
        primary,
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": _kms_key(PRIMARY)},
    )
    primary.update_time_to_live(
        TableName=NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    primary.put_item(TableName=NAME, Item={"id": {"S": "before"}, "merchant": {"S": "m"}})
    replica_key = _kms_key(SECONDARY)

    answer = primary.update_table(
        TableName=NAME,
        ReplicaUpdates=[{"Create": {"RegionName": SECONDARY, "KMSMasterKeyId": replica_key}}],
    )["TableDescription"]
    assert answer["TableStatus"] == "UPDATING"
    assert answer["Replicas"] == [{"RegionName": SECONDARY, "ReplicaStatus": "CREATING"}]

    main = primary.describe_table(TableName=NAME)["Table"]
    replica = secondary.describe_table(TableName=NAME)["Table"]
    assert main["GlobalTableVersion"] == replica["GlobalTableVersion"] == "2019.11.21"
    assert main["Replicas"] == [
        {"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": replica_key}
    ]
    assert replica["Replicas"] == [
        {
            "RegionName": PRIMARY,
            "ReplicaStatus": "ACTIVE",
            "KMSMasterKeyId": source["SSEDescription"]["KMSMasterKeyArn"],
        }
    ]
    assert replica["TableArn"] == source["TableArn"].replace(PRIMARY, SECONDARY)
    for field in ("KeySchema", "AttributeDefinitions", "BillingModeSummary", "StreamSpecification"):
        assert replica[field] == source[field], field
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["by_merchant"]
    assert replica["SSEDescription"]["KMSMasterKeyArn"] == replica_key
    assert replica["LatestStreamArn"] != source["LatestStreamArn"]
    ttl = secondary.describe_time_to_live(TableName=NAME)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    assert _item(secondary, "before") == {"id": {"S": "before"}, "merchant": {"S": "m"}}
    # Point-in-time recovery is the replica's own, off until set there.
    backups = secondary.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"


def test_replica_without_a_key_uses_the_regions_managed_key(aws: None) -> None:
    primary = boto3.client("dynamodb", region_name=PRIMARY)
    _table(primary, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    primary.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    replica = boto3.client("dynamodb", region_name=SECONDARY).describe_table(TableName=NAME)
    managed = boto3.client("kms", region_name=SECONDARY).describe_key(KeyId="alias/aws/dynamodb")
    assert replica["Table"]["SSEDescription"]["KMSMasterKeyArn"] == managed["KeyMetadata"]["Arn"]


def test_replica_updates_refused_as_aws_does(aws: None) -> None:
    primary, _ = _global_table()
    refused = [
        [{"Create": {"RegionName": PRIMARY}}],  # the table's own region
        [{"Create": {"RegionName": SECONDARY}}],  # a replica already
        [{"Delete": {"RegionName": THIRD}}],  # no replica there
        [{"Update": {"RegionName": THIRD, "KMSMasterKeyId": "alias/aws/dynamodb"}}],
        [{"Create": {"RegionName": THIRD, "KMSMasterKeyId": _kms_key(PRIMARY)}}],  # other region
        [{"Create": {"RegionName": THIRD, "KMSMasterKeyId": "alias/no-such-key"}}],
    ]
    for updates in refused:
        with pytest.raises(ClientError) as exc:
            primary.update_table(TableName=NAME, ReplicaUpdates=updates)
        assert _error(exc)[0] == "ValidationException", updates
    assert boto3.client("dynamodb", region_name=THIRD).list_tables()["TableNames"] == []
    assert [
        r["RegionName"] for r in primary.describe_table(TableName=NAME)["Table"]["Replicas"]
    ] == [SECONDARY]


def test_stream_of_a_table_with_replicas_stays_on(aws: None) -> None:
    primary, secondary = _global_table()
    for ddb in (primary, secondary):
        with pytest.raises(ClientError) as exc:
            ddb.update_table(TableName=NAME, StreamSpecification={"StreamEnabled": False})
        assert _error(exc) == ("ValidationException", dynamodb_global.STREAM_DISABLE_REFUSED)
    # Once the replica is gone, the table's stream is its own again.
    primary.update_table(TableName=NAME, ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}])
    primary.update_table(TableName=NAME, StreamSpecification={"StreamEnabled": False})


def test_replica_delete_and_delete_table_leave_the_group(aws: None) -> None:
    primary, secondary = _global_table()
    primary.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": THIRD}}])
    third = boto3.client("dynamodb", region_name=THIRD)
    answer = primary.update_table(
        TableName=NAME, ReplicaUpdates=[{"Delete": {"RegionName": SECONDARY}}]
    )["TableDescription"]
    assert {r["RegionName"]: r["ReplicaStatus"] for r in answer["Replicas"]} == {
        SECONDARY: "DELETING",
        THIRD: "ACTIVE",
    }
    assert secondary.list_tables()["TableNames"] == []
    assert [r["RegionName"] for r in third.describe_table(TableName=NAME)["Table"]["Replicas"]] == [
        PRIMARY
    ]

    third.delete_table(TableName=NAME)  # a member deleted in its own region
    table = primary.describe_table(TableName=NAME)["Table"]
    assert "Replicas" not in table and "GlobalTableVersion" not in table
    primary.put_item(TableName=NAME, Item={"id": {"S": "alone"}, "merchant": {"S": "m"}})


def test_replica_update_changes_its_key(aws: None) -> None:
    primary, secondary = _global_table()
    key = _kms_key(SECONDARY)
    primary.update_table(
        TableName=NAME,
        ReplicaUpdates=[{"Update": {"RegionName": SECONDARY, "KMSMasterKeyId": key}}],
    )
    assert (
        secondary.describe_table(TableName=NAME)["Table"]["SSEDescription"]["KMSMasterKeyArn"]
        == key
    )
    assert primary.describe_table(TableName=NAME)["Table"]["Replicas"][0]["KMSMasterKeyId"] == key


def test_update_table_sse_switches_the_key(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    _table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    key = _kms_key(PRIMARY)
    ddb.update_table(
        TableName=NAME, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    )
    assert ddb.describe_table(TableName=NAME)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key
    with pytest.raises(ClientError) as exc:  # a key of another region
        ddb.update_table(
            TableName=NAME,
            SSESpecification={"Enabled": True, "KMSMasterKeyId": _kms_key(SECONDARY)},
        )
    assert _error(exc)[0] == "ValidationException"
    assert ddb.describe_table(TableName=NAME)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key
    ddb.update_table(TableName=NAME, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in ddb.describe_table(TableName=NAME)["Table"]


# --- replication of writes --------------------------------------------------------------------


def test_writes_replicate_to_the_other_member(aws: None) -> None:
    primary, secondary = _global_table()
    primary.put_item(TableName=NAME, Item={"id": {"S": "a"}, "merchant": {"S": "m"}})
    secondary.put_item(TableName=NAME, Item={"id": {"S": "b"}, "merchant": {"S": "m"}})
    primary.update_item(
        TableName=NAME,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET amount = :a",
        ExpressionAttributeValues={":a": {"N": "42"}},
    )
    primary.batch_write_item(
        RequestItems={NAME: [{"PutRequest": {"Item": {"id": {"S": "c"}, "merchant": {"S": "m"}}}}]}
    )
    primary.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": NAME, "Item": {"id": {"S": "d"}, "merchant": {"S": "m"}}}}
        ]
    )
    secondary.delete_item(TableName=NAME, Key={"id": {"S": "c"}})

    for ddb in (primary, secondary):
        assert _item(ddb, "a") == {"id": {"S": "a"}, "merchant": {"S": "m"}, "amount": {"N": "42"}}
        assert _item(ddb, "b") is not None and _item(ddb, "d") is not None
        assert _item(ddb, "c") is None
    # The replica's stream records what reached it: its own write and the replicated ones.
    records = _records(SECONDARY)
    assert {r["awsRegion"] for r in records} == {SECONDARY}
    events = [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records]
    assert events == [
        ("INSERT", "a"),
        ("INSERT", "b"),
        ("MODIFY", "a"),
        ("INSERT", "c"),
        ("INSERT", "d"),
        ("REMOVE", "c"),
    ]


def test_a_condition_is_checked_only_where_the_write_is_made(aws: None, lag: None) -> None:
    primary, secondary = _global_table()
    dynamodb_global.set_replication_lag(60)
    secondary.put_item(TableName=NAME, Item={"id": {"S": "k"}, "merchant": {"S": "eu"}})
    time.sleep(0.01)
    # Not there yet in us-east-1: the condition holds where the write is made.
    primary.put_item(
        TableName=NAME,
        Item={"id": {"S": "k"}, "merchant": {"S": "us"}},
        ConditionExpression="attribute_not_exists(id)",
    )
    dynamodb_global.deliver_due(now=float("inf"))
    # In eu-west-1 the item existed, and the later write replaced it all the same.
    for ddb in (primary, secondary):
        assert _item(ddb, "k") == {"id": {"S": "k"}, "merchant": {"S": "us"}}


def test_a_cancelled_transaction_replicates_nothing(aws: None) -> None:
    primary, secondary = _global_table()
    primary.put_item(TableName=NAME, Item={"id": {"S": "taken"}, "merchant": {"S": "m"}})
    with pytest.raises(ClientError):
        primary.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": NAME, "Item": {"id": {"S": "new"}, "merchant": {"S": "m"}}}},
                {
                    "Put": {
                        "TableName": NAME,
                        "Item": {"id": {"S": "taken"}, "merchant": {"S": "x"}},
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                },
            ]
        )
    assert _item(secondary, "new") is None
    assert _item(secondary, "taken") == {"id": {"S": "taken"}, "merchant": {"S": "m"}}
    # The group survives moto's rollback (a deep copy of the table).
    primary.put_item(TableName=NAME, Item={"id": {"S": "after"}, "merchant": {"S": "m"}})
    assert _item(secondary, "after") is not None


def test_replication_lag_delays_arrival(aws: None, lag: None) -> None:
    primary, secondary = _global_table()
    dynamodb_global.set_replication_lag(0.3)
    written = time.monotonic()
    primary.put_item(TableName=NAME, Item={"id": {"S": "marker"}, "merchant": {"S": "m"}})
    assert _item(secondary, "marker") is None
    assert dynamodb_global.pending_writes() == 1
    while _item(secondary, "marker") is None:
        assert time.monotonic() - written < 5, "the write never arrived"
        time.sleep(0.05)
    assert time.monotonic() - written >= 0.3
    assert dynamodb_global.pending_writes() == 0


def test_last_writer_wins_between_regions(aws: None, lag: None) -> None:
    primary, secondary = _global_table()
    dynamodb_global.set_replication_lag(0.2)
    primary.put_item(TableName=NAME, Item={"id": {"S": "k"}, "merchant": {"S": "first"}})
    time.sleep(0.01)
    secondary.put_item(TableName=NAME, Item={"id": {"S": "k"}, "merchant": {"S": "second"}})
    dynamodb_global.deliver_due(now=float("inf"))
    for ddb in (primary, secondary):
        assert _item(ddb, "k") == {"id": {"S": "k"}, "merchant": {"S": "second"}}


def test_the_servers_lag_comes_from_its_environment() -> None:
    """`deployer sandbox` passes its environment to the server, which reads the lag once."""
    import os
    import subprocess
    import sys

    env = {**os.environ, dynamodb_global.LAG_ENV: "0.5"}
    code = "from emulator import dynamodb_global as g; print(g.replication_lag())"
    answer = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert float(answer.stdout) == 0.5
    with pytest.raises(ValueError):
        dynamodb_global.set_replication_lag(-1)
