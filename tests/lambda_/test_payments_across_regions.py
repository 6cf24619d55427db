"""The payment handler on global tables (moto with `emulator.dynamodb_global`): what its
idempotency guarantees across regions, and the window the replication lag leaves open.

Each region's handler uses its own region's tables (DEPLOY_REGION). A condition expression is
evaluated only in the region that takes the write (DynamoDB Developer Guide, *Global tables: how
it works*), so a retry in the other region is recognised only once the first attempt's writes
have replicated.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import dynamodb_global, install_extensions

HANDLER_PATH = Path(__file__).resolve().parents[2] / "lambda" / "payment_processor.py"
PRIMARY, SECONDARY = "us-east-1", "eu-west-1"
TRANSACTIONS = "payments-transactions-test"
IDEMPOTENCY = "payments-idempotency-test"
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def _global_tables() -> None:
    """Both tables in the primary, each with a replica in the secondary (as stack/tables.py)."""
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    for name, key in ((TRANSACTIONS, "transaction_id"), (IDEMPOTENCY, "idempotency_key")):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=STREAM,
        )
        ddb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PRIMARY,
        "DEPLOY_REGION": PRIMARY,
        "TRANSACTIONS_TABLE": TRANSACTIONS,
        "IDEMPOTENCY_TABLE": IDEMPOTENCY,
        "LOG_LEVEL": "WARNING",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    install_extensions()
    spec = importlib.util.spec_from_file_location("payment_processor_regions", HANDLER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with mock_aws():
        _global_tables()
        module._reset_clients()
        yield module
        module._reset_clients()
    dynamodb_global.set_replication_lag(0)
    dynamodb_global.deliver_due(now=float("inf"))


def _post(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch, region: str, key: str
) -> dict[str, Any]:
    """POST /payments to `region`'s handler with the idempotency key `key`."""
    monkeypatch.setenv("DEPLOY_REGION", region)
    body = {"amount": "10.50", "currency": "USD", "merchant_id": "merchant-1"}
    event = {
        "resource": "/payments",
        "path": "/payments",
        "httpMethod": "POST",
        "headers": {"Idempotency-Key": key},
        "multiValueHeaders": {"Idempotency-Key": [key]},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"requestId": "api-req", "stage": "prod"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = handler.handler(
        event, SimpleNamespace(aws_request_id="req", function_name="payments")
    )
    response["json"] = json.loads(response["body"])
    return response


def _transactions(region: str) -> int:
    ddb = boto3.client("dynamodb", region_name=region)
    count: int = ddb.scan(TableName=TRANSACTIONS, Select="COUNT")["Count"]
    return count


def test_a_retry_in_the_other_region_after_replication_is_a_replay(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _post(handler, monkeypatch, PRIMARY, "key-1")
    assert first["statusCode"] == 201
    retry = _post(handler, monkeypatch, SECONDARY, "key-1")
    assert retry["statusCode"] == 200
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert retry["json"]["transaction_id"] == first["json"]["transaction_id"]
    assert _transactions(PRIMARY) == _transactions(SECONDARY) == 1


def test_a_retry_within_the_replication_lag_is_charged_again(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window the README describes: the condition holds in the secondary, which has not
    yet received the first attempt; afterwards the idempotency record is the later writer's."""
    dynamodb_global.set_replication_lag(60)
    first = _post(handler, monkeypatch, PRIMARY, "key-2")
    retry = _post(handler, monkeypatch, SECONDARY, "key-2")
    assert first["statusCode"] == retry["statusCode"] == 201
    assert retry["json"]["transaction_id"] != first["json"]["transaction_id"]
    dynamodb_global.deliver_due(now=float("inf"))
    assert _transactions(PRIMARY) == _transactions(SECONDARY) == 2
    for region in (PRIMARY, SECONDARY):
        record = boto3.client("dynamodb", region_name=region).get_item(
            TableName=IDEMPOTENCY, Key={"idempotency_key": {"S": "key-2"}}
        )["Item"]
        assert record["transaction_id"] == {"S": retry["json"]["transaction_id"]}
