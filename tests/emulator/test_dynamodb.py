"""DynamoDB (emulator/dynamodb.py): UpdateTable's streams and attribute definitions, TagResource."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import install_extensions

PRIMARY = "us-east-1"
SECONDARY = "eu-west-1"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_dynamodb_corrections_patch_each_method_once() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from emulator.dynamodb import DYNAMODB_CORRECTIONS

    install_extensions()
    methods = [
        (DynamoDBBackend, "update_table_streams"),
        (DynamoDBBackend, "update_table"),
        (DynamoDBBackend, "tag_resource"),
    ]
    before = [getattr(owner, name) for owner, name in methods]
    for correct in DYNAMODB_CORRECTIONS:
        correct()
    install_extensions()
    assert [getattr(owner, name) for owner, name in methods] == before
    assert DynamoDBBackend.update_table._deployer_patches == {  # type: ignore[attr-defined]
        "merged-definitions"
    }


def _table(ddb: Any, **extra: Any) -> dict[str, Any]:
    described: dict[str, Any] = ddb.create_table(
        TableName="payments",
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "merchant", "AttributeType": "S"},
            {"AttributeName": "created", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_merchant",
                "KeySchema": [
                    {"AttributeName": "merchant", "KeyType": "HASH"},
                    {"AttributeName": "created", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )["TableDescription"]
    return described


def _definitions(ddb: Any) -> dict[str, str]:
    table = ddb.describe_table(TableName="payments")["Table"]
    return {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}


def test_dynamodb_stream_is_disabled_then_enabled_anew(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    created = _table(
        ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    first_stream = created["LatestStreamArn"]

    # No switch of view type while the stream is enabled, nor a second enable.
    for view_type in ("KEYS_ONLY", "NEW_AND_OLD_IMAGES"):
        with pytest.raises(ClientError) as exc:
            ddb.update_table(
                TableName="payments",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
            )
        assert _error(exc) == ("ValidationException", 400)
    table = ddb.describe_table(TableName="payments")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["LatestStreamArn"] == first_stream

    ddb.update_table(TableName="payments", StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in ddb.describe_table(TableName="payments")["Table"]
    with pytest.raises(ClientError) as exc:  # nothing left to disable
        ddb.update_table(TableName="payments", StreamSpecification={"StreamEnabled": False})
    assert _error(exc) == ("ValidationException", 400)

    # Enabled again, with another view type: a new stream.
    ddb.update_table(
        TableName="payments",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    table = ddb.describe_table(TableName="payments")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert table["LatestStreamArn"] != first_stream

    # A disable that names a view type disables all the same.
    ddb.update_table(
        TableName="payments",
        StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
    )
    assert "StreamSpecification" not in ddb.describe_table(TableName="payments")["Table"]


def test_dynamodb_stream_enabled_on_a_table_created_without_one(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    _table(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName="payments", StreamSpecification={"StreamEnabled": False})
    assert _error(exc) == ("ValidationException", 400)
    ddb.update_table(
        TableName="payments",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    table = ddb.describe_table(TableName="payments")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


def test_dynamodb_attribute_definitions_follow_the_keys_in_use(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    _table(ddb)
    # A deleted index's key definitions go with it; the table's own key stays defined.
    ddb.update_table(
        TableName="payments", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_merchant"}}]
    )
    assert _definitions(ddb) == {"id": "S"}

    # A new index's keys are added to the definitions the table has.
    ddb.update_table(
        TableName="payments",
        AttributeDefinitions=[{"AttributeName": "status", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    assert _definitions(ddb) == {"id": "S", "status": "S"}

    # Definitions of attributes no key uses are not kept.
    ddb.update_table(
        TableName="payments",
        AttributeDefinitions=[{"AttributeName": "unused", "AttributeType": "N"}],
    )
    assert _definitions(ddb) == {"id": "S", "status": "S"}


def test_dynamodb_new_index_keys_must_be_defined(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    _table(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.update_table(
            TableName="payments",
            AttributeDefinitions=[{"AttributeName": "region", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by_region",
                        "KeySchema": [
                            {"AttributeName": "region", "KeyType": "HASH"},
                            {"AttributeName": "status", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        )
    assert _error(exc) == ("ValidationException", 400)
    assert "status" in str(exc.value)
    table = ddb.describe_table(TableName="payments")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_merchant"]
    assert _definitions(ddb) == {"id": "S", "merchant": "S", "created": "N"}


def test_dynamodb_tag_resource_overwrites_a_key(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    arn = _table(ddb, Tags=[{"Key": "Owner", "Value": "payments"}])["TableArn"]
    ddb.tag_resource(
        ResourceArn=arn,
        Tags=[{"Key": "Owner", "Value": "someone-else"}, {"Key": "CostCenter", "Value": "42"}],
    )
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "Owner", "Value": "someone-else"},
        {"Key": "CostCenter", "Value": "42"},
    ]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["Owner"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "CostCenter", "Value": "42"}
    ]
