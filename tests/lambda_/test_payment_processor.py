"""In-process tests of lambda/payment_processor.py against moto's DynamoDB."""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

HANDLER_PATH = Path(__file__).resolve().parents[2] / "lambda" / "payment_processor.py"
REGION = "us-east-1"
TRANSACTIONS = "payments-transactions-test"
IDEMPOTENCY = "payments-idempotency-test"
PAN = "4111111111111111"
CVV = "737"

Invoke = Callable[..., dict[str, Any]]


def load_handler_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("payment_processor_under_test", HANDLER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def create_tables(client: Any) -> None:
    client.create_table(
        TableName=TRANSACTIONS,
        KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=IDEMPOTENCY,
        KeySchema=[{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "idempotency_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=IDEMPOTENCY,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "DEPLOY_REGION": REGION,
        "TRANSACTIONS_TABLE": TRANSACTIONS,
        "IDEMPOTENCY_TABLE": IDEMPOTENCY,
        "LOG_LEVEL": "INFO",
        # No IAM here: skip loading AWS managed policies on every mock start (about 1 s).
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
    }.items():
        monkeypatch.setenv(name, value)
    # A sandbox endpoint in the environment would bypass the in-process mock.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        yield client


@pytest.fixture
def pp(ddb: Any) -> Iterator[ModuleType]:
    module = load_handler_module()
    module._reset_clients()
    yield module
    module._reset_clients()


def make_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    if base64_body and raw_body is not None:
        raw_body = base64.b64encode(raw_body.encode()).decode()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()} or None,
        "queryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": {"requestId": "api-req-1", "stage": "prod"},
        "body": raw_body,
        "isBase64Encoded": base64_body,
    }


@pytest.fixture
def invoke(pp: ModuleType) -> Invoke:
    """Call the handler; check that every response is JSON with the JSON content type."""

    def call(event: dict[str, Any]) -> dict[str, Any]:
        context = SimpleNamespace(aws_request_id="lambda-req-1", function_name="payments")
        response = pp.handler(event, context)
        assert response["headers"]["Content-Type"] == "application/json"
        response["json"] = json.loads(response["body"])
        return response

    return call


def payment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": "10.50", "currency": "USD", "merchant_id": "merchant-1"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def post_payment(
    invoke: Invoke, body: Any = None, *, key: str | None = "key-1", raw_body: str | None = None
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    event = make_event(
        "POST",
        "/payments",
        resource="/payments",
        body=payment_body() if body is None and raw_body is None else body,
        raw_body=raw_body,
        headers=headers,
    )
    return invoke(event)


def get_payment(invoke: Invoke, transaction_id: str) -> dict[str, Any]:
    return invoke(
        make_event(
            "GET",
            f"/payments/{transaction_id}",
            resource="/payments/{id}",
            path_parameters={"id": transaction_id},
        )
    )


def log_entries(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------
# POST /payments
# ------------------------------------------------------------------------------------------


def test_new_payment_is_created(invoke: Invoke, ddb: Any) -> None:
    response = post_payment(invoke, payment_body(description="order 42"))
    assert response["statusCode"] == 201
    body = response["json"]
    assert uuid.UUID(body["transaction_id"]).version == 4
    assert body["amount"] == "10.50"
    assert body["currency"] == "USD"
    assert body["merchant_id"] == "merchant-1"
    assert body["description"] == "order 42"
    assert body["status"] == "accepted"
    assert body["region"] == REGION
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["created_at"])
    assert response["headers"]["Location"] == f"/payments/{body['transaction_id']}"

    stored = ddb.get_item(
        TableName=TRANSACTIONS, Key={"transaction_id": {"S": body["transaction_id"]}}
    )["Item"]
    assert "N" in stored["amount"] and Decimal(stored["amount"]["N"]) == Decimal("10.50")
    assert stored["status"] == {"S": "accepted"}
    assert stored["region"] == {"S": REGION}
    assert stored["idempotency_key"] == {"S": "key-1"}
    record = ddb.get_item(TableName=IDEMPOTENCY, Key={"idempotency_key": {"S": "key-1"}})["Item"]
    assert record["transaction_id"] == {"S": body["transaction_id"]}
    assert int(record["expires_at"]["N"]) > 0


def test_json_number_amount_is_exact(invoke: Invoke, ddb: Any) -> None:
    response = post_payment(
        invoke, raw_body='{"amount": 0.1, "currency": "EUR", "merchant_id": "m"}'
    )
    assert response["statusCode"] == 201
    assert response["json"]["amount"] == "0.10"
    integral = post_payment(invoke, payment_body(amount=25), key="key-2")
    assert integral["statusCode"] == 201
    assert integral["json"]["amount"] == "25.00"


def test_same_key_same_body_returns_original(invoke: Invoke, ddb: Any) -> None:
    first = post_payment(invoke)
    second = post_payment(invoke)
    assert first["statusCode"] == 201
    assert second["statusCode"] == 200
    assert second["json"] == first["json"]
    assert second["headers"]["Idempotent-Replayed"] == "true"
    assert ddb.scan(TableName=TRANSACTIONS)["Count"] == 1


def test_same_key_equivalent_body_is_a_replay(invoke: Invoke) -> None:
    """The fingerprint is of the normalised request: 10.5 and "10.50" are the same amount."""
    first = post_payment(invoke, raw_body='{"amount":"10.50","currency":"USD","merchant_id":"m"}')
    second = post_payment(invoke, raw_body='{"merchant_id":"m","currency":"USD","amount":10.5}')
    assert (first["statusCode"], second["statusCode"]) == (201, 200)
    assert second["json"]["transaction_id"] == first["json"]["transaction_id"]


def test_same_key_different_body_conflicts(invoke: Invoke, ddb: Any) -> None:
    first = post_payment(invoke)
    second = post_payment(invoke, payment_body(amount="11.00"))
    assert first["statusCode"] == 201
    assert second["statusCode"] == 409
    assert second["json"]["error"] == "idempotency_key_reused"
    assert second["json"]["field"] == "idempotency_key"
    assert ddb.scan(TableName=TRANSACTIONS)["Count"] == 1


def test_idempotency_key_header_is_case_insensitive(invoke: Invoke) -> None:
    event = make_event(
        "POST", "/payments", resource="/payments", body=payment_body(),
        headers={"idempotency-key": "abc"},
    )  # fmt: skip
    first = invoke(event)
    event["headers"] = {"IDEMPOTENCY-KEY": "abc"}
    second = invoke(event)
    assert (first["statusCode"], second["statusCode"]) == (201, 200)
    assert first["json"]["transaction_id"] == second["json"]["transaction_id"]


def test_idempotency_key_from_body(invoke: Invoke) -> None:
    first = post_payment(invoke, payment_body(idempotency_key="in-body"), key=None)
    second = post_payment(invoke, payment_body(), key="in-body")
    assert (first["statusCode"], second["statusCode"]) == (201, 200)
    assert first["json"]["transaction_id"] == second["json"]["transaction_id"]


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 129])
def test_bad_idempotency_key(invoke: Invoke, key: str | None) -> None:
    response = post_payment(invoke, key=key)
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "idempotency_key"


def test_header_and_body_keys_must_agree(invoke: Invoke) -> None:
    response = post_payment(invoke, payment_body(idempotency_key="other"), key="key-1")
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "idempotency_key"


def test_expired_idempotency_record_allows_a_new_payment(invoke: Invoke, ddb: Any) -> None:
    """TTL deletion lags expiry: an expired but undeleted record must not block the key."""
    first = post_payment(invoke)
    ddb.update_item(
        TableName=IDEMPOTENCY,
        Key={"idempotency_key": {"S": "key-1"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )
    second = post_payment(invoke, payment_body(amount="99.99"))
    assert second["statusCode"] == 201
    assert second["json"]["transaction_id"] != first["json"]["transaction_id"]


@pytest.mark.parametrize(
    "amount",
    [
        "-1", -1, "-0.01", 0, "0", "0.00", "1.234", "10.001", "abc", "", " 10", "1e3", "+5",
        "1,000.00", "NaN", "Infinity", True, False, None, [], {}, "1000000000000.00",
    ],
)  # fmt: skip
def test_bad_amount(invoke: Invoke, amount: Any) -> None:
    response = post_payment(invoke, payment_body(amount=amount))
    assert response["statusCode"] == 400
    assert response["json"]["error"] == "validation_error"
    assert response["json"]["field"] == "amount"


@pytest.mark.parametrize("raw", ["1.234", "-5", "0", "0.001", "1E-3"])
def test_bad_amount_as_json_number(invoke: Invoke, raw: str) -> None:
    body = '{"amount": ' + raw + ', "currency": "USD", "merchant_id": "m"}'
    response = post_payment(invoke, raw_body=body)
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "amount"


def test_missing_amount(invoke: Invoke) -> None:
    response = post_payment(invoke, payment_body(amount=...))
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "amount"


def test_nan_literal_is_malformed_json(invoke: Invoke) -> None:
    response = post_payment(invoke, raw_body='{"amount": NaN, "currency": "USD"}')
    assert response["statusCode"] == 400
    assert response["json"]["error"] == "invalid_json"


@pytest.mark.parametrize("currency", ["usd", "ABC", "US", "USDD", "", 840, None, ..., "XXX", "BGN"])
def test_bad_currency(invoke: Invoke, currency: Any) -> None:
    response = post_payment(invoke, payment_body(currency=currency))
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "currency"


def test_currency_list_is_iso_4217(pp: ModuleType) -> None:
    codes = pp.ISO_4217_CURRENCIES
    assert isinstance(codes, frozenset)
    assert len(codes) > 150
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in codes)
    assert {"USD", "EUR", "GBP", "JPY", "CHF", "XCG", "ZWG", "SLE", "VES"} <= codes
    assert not {"DEM", "FRF", "HRK", "ZWL", "SLL", "VEF"} & codes


@pytest.mark.parametrize("merchant", [..., None, "", "   ", 7, "m" * 129, "bad\nid"])
def test_bad_merchant(invoke: Invoke, merchant: Any) -> None:
    response = post_payment(invoke, payment_body(merchant_id=merchant))
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "merchant_id"


@pytest.mark.parametrize("description", [5, "d" * 257])
def test_bad_description(invoke: Invoke, description: Any) -> None:
    response = post_payment(invoke, payment_body(description=description))
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "description"


def test_unknown_field_is_named(invoke: Invoke) -> None:
    response = post_payment(invoke, payment_body(metadata={"a": 1}))
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "metadata"


@pytest.mark.parametrize(
    "raw", ["{", "not json", "[1, 2]", "null", '"text"', '{"amount": "1", "amount": "2"}', ""]
)
def test_malformed_json(invoke: Invoke, raw: str) -> None:
    response = post_payment(invoke, raw_body=raw)
    assert response["statusCode"] == 400
    assert response["json"]["error"] in {"invalid_json", "invalid_request"}


def test_missing_body(invoke: Invoke) -> None:
    event = make_event("POST", "/payments", resource="/payments", headers={"Idempotency-Key": "k"})
    response = invoke(event)
    assert response["statusCode"] == 400


def test_oversized_body(invoke: Invoke) -> None:
    response = post_payment(invoke, payment_body(description="x" * 20000))
    assert response["statusCode"] == 413


def test_base64_body(invoke: Invoke) -> None:
    event = make_event(
        "POST", "/payments", resource="/payments", body=payment_body(),
        headers={"Idempotency-Key": "b64"}, base64_body=True,
    )  # fmt: skip
    assert invoke(event)["statusCode"] == 201


@pytest.mark.parametrize(
    "extra",
    [
        {"card_number": PAN},
        {"pan": PAN},
        {"cvv": CVV},
        {"Card-Number": PAN, "CVV2": CVV},
        {"payment_method": {"card": {"number": PAN, "cvc": CVV}}},
        {"items": [{"cardNumber": PAN}]},
    ],
)
def test_card_data_is_rejected_and_never_logged(
    invoke: Invoke,
    pp: ModuleType,
    ddb: Any,
    extra: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pp.logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG, logger="payment_processor"):
            response = post_payment(invoke, payment_body(**extra))
    finally:
        pp.logger.removeHandler(caplog.handler)
    assert response["statusCode"] == 400
    assert response["json"]["error"] == "card_data_not_accepted"
    assert PAN not in response["body"] and CVV not in response["body"]
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    everything += "".join(repr(record.__dict__) for record in caplog.records)
    assert caplog.records, "the rejection itself is logged"
    # As whole numbers: a timestamp's fraction (1795831824.9737, 21:21:44.737) is not the CVV.
    assert not re.search(rf"(?<![\d.]){PAN}(?!\d)", everything)
    assert not re.search(rf"(?<![\d.]){CVV}(?!\d)", everything)
    assert ddb.scan(TableName=TRANSACTIONS)["Count"] == 0


def test_card_number_in_description_is_rejected(
    invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    response = post_payment(invoke, payment_body(description="card 4111 1111 1111 1111 pls"))
    assert response["statusCode"] == 400
    assert response["json"]["error"] == "card_data_not_accepted"
    assert response["json"]["field"] == "description"
    assert "1111 1111" not in capsys.readouterr().out


def test_card_number_as_a_key_is_not_echoed(
    invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    response = post_payment(invoke, payment_body(**{PAN: "x"}))
    assert response["statusCode"] == 400
    assert PAN not in response["body"]
    assert PAN not in capsys.readouterr().out


def test_contains_card_number(pp: ModuleType) -> None:
    assert pp.contains_card_number("4111111111111111")
    assert pp.contains_card_number("pay with 5500-0000-0000-0004 now")
    assert not pp.contains_card_number("order 4111111111111112")  # fails Luhn
    assert not pp.contains_card_number("invoice 12345")
    assert not pp.contains_card_number("no digits here")


# ------------------------------------------------------------------------------------------
# GET /payments/{id}
# ------------------------------------------------------------------------------------------


def test_get_payment_found(invoke: Invoke) -> None:
    created = post_payment(invoke)["json"]
    response = get_payment(invoke, created["transaction_id"])
    assert response["statusCode"] == 200
    assert response["json"] == created


def test_get_payment_by_path_only(invoke: Invoke) -> None:
    created = post_payment(invoke)["json"]
    response = invoke(make_event("GET", f"/payments/{created['transaction_id']}"))
    assert response["statusCode"] == 200
    assert response["json"]["transaction_id"] == created["transaction_id"]


def test_get_payment_not_found(invoke: Invoke) -> None:
    response = get_payment(invoke, str(uuid.uuid4()))
    assert response["statusCode"] == 404
    assert response["json"]["error"] == "not_found"


# An upper-case UUID is not one the handler issues (a fixed one: parallel workers must collect
# the same test ids).
@pytest.mark.parametrize(
    "bad_id", ["abc", "__health__", "../etc", "D4048986-2FBD-41CE-9091-489604FC5CFD"]
)
def test_get_payment_invalid_id(invoke: Invoke, bad_id: str) -> None:
    response = get_payment(invoke, bad_id)
    assert response["statusCode"] == 400
    assert response["json"]["field"] == "id"


# ------------------------------------------------------------------------------------------
# GET /health
# ------------------------------------------------------------------------------------------


def test_health_ok(invoke: Invoke) -> None:
    response = invoke(make_event("GET", "/health", resource="/health"))
    assert response["statusCode"] == 200
    assert response["json"] == {"status": "ok", "region": REGION}


def test_health_reports_the_deploy_region(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_REGION", "eu-west-1")
    create_tables(boto3.client("dynamodb", region_name="eu-west-1"))
    response = invoke(make_event("GET", "/health"))
    assert response["statusCode"] == 200
    assert response["json"] == {"status": "ok", "region": "eu-west-1"}


def test_health_unavailable_when_table_is_gone(invoke: Invoke, ddb: Any) -> None:
    ddb.delete_table(TableName=TRANSACTIONS)
    response = invoke(make_event("GET", "/health", resource="/health"))
    assert response["statusCode"] == 503
    assert response["json"] == {"status": "unavailable", "region": REGION}


# ------------------------------------------------------------------------------------------
# Routing, errors and logs
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/refunds", "/payments/a/b", "/healthz"])
def test_unknown_route(invoke: Invoke, path: str) -> None:
    response = invoke(make_event("GET", path))
    assert response["statusCode"] == 404
    assert response["json"]["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "resource", "allow"),
    [
        ("GET", "/payments", "/payments", "POST"),
        ("DELETE", "/payments", None, "POST"),
        ("POST", "/payments/x", "/payments/{id}", "GET"),
        ("PUT", "/health", "/health", "GET"),
    ],
)
def test_wrong_method(
    invoke: Invoke, method: str, path: str, resource: str | None, allow: str
) -> None:
    response = invoke(make_event(method, path, resource=resource))
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == allow
    assert response["json"]["error"] == "method_not_allowed"


def test_dynamodb_failure_is_a_500_without_details(invoke: Invoke, ddb: Any) -> None:
    ddb.delete_table(TableName=TRANSACTIONS)
    response = post_payment(invoke)
    assert response["statusCode"] == 500
    assert response["json"] == {"error": "internal_error", "message": "internal error"}


def test_concurrent_in_flight_key_is_409(pp: ModuleType, invoke: Invoke, monkeypatch: Any) -> None:
    real = pp._dynamodb()

    class Conflicting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
                },
                "TransactWriteItems",
            )

    monkeypatch.setattr(pp, "_dynamodb", lambda: Conflicting())
    response = post_payment(invoke)
    assert response["statusCode"] == 409
    assert response["json"]["error"] == "idempotency_in_progress"
    assert response["headers"]["Retry-After"] == "1"


def test_clients_are_reused(pp: ModuleType, invoke: Invoke) -> None:
    post_payment(invoke)
    first = pp._dynamodb()
    invoke(make_event("GET", "/health"))
    assert pp._dynamodb() is first


def test_log_lines_are_json(invoke: Invoke, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    post_payment(invoke, payment_body(description="secret-description"))
    post_payment(invoke, raw_body="{")
    invoke(make_event("GET", "/health"))
    out = capsys.readouterr().out
    assert "secret-description" not in out
    assert "merchant-1" not in out
    entries = [json.loads(line) for line in out.splitlines()]
    assert [entry["status"] for entry in entries] == [201, 400, 200]
    for entry in entries:
        assert {"timestamp", "level", "message", "request_id", "route", "status", "latency_ms"} <= (
            entry.keys()
        )
        assert entry["request_id"] == "lambda-req-1"
        assert isinstance(entry["latency_ms"], int | float)
    assert [entry["route"] for entry in entries] == ["/payments", "/payments", "/health"]
    assert [entry["level"] for entry in entries] == ["INFO", "WARNING", "INFO"]
    assert entries[1]["error"] == "invalid_json"


def test_log_level_from_environment(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    invoke(make_event("GET", "/health"))
    assert capsys.readouterr().out == ""
    invoke(make_event("GET", "/nowhere"))
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("LOG_LEVEL", "bogus")
    invoke(make_event("GET", "/health"))
    assert len(log_entries(capsys)) == 1


def test_handler_without_context(pp: ModuleType) -> None:
    response = pp.handler(make_event("GET", "/health"), None)
    assert response["statusCode"] == 200


def test_concurrent_duplicates_create_one_transaction(invoke: Invoke, ddb: Any) -> None:
    """Eight clients retrying the same request at once: one item, one transaction id."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: post_payment(invoke, key="same-key"), range(8)))
    codes = sorted(r["statusCode"] for r in responses)
    assert codes.count(201) == 1
    assert set(codes) <= {200, 201, 409}  # 409: the original was still being written
    ids = {r["json"]["transaction_id"] for r in responses if r["statusCode"] in (200, 201)}
    assert len(ids) == 1
    assert ddb.scan(TableName=TRANSACTIONS)["Count"] == 1


def test_huge_amount_is_refused(invoke: Invoke, ddb: Any) -> None:
    response = post_payment(invoke, payment_body(amount="1000000000000000.00"))
    assert response["statusCode"] == 400
    assert ddb.scan(TableName=TRANSACTIONS)["Count"] == 0
