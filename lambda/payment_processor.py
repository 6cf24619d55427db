"""Payment processor Lambda: API Gateway REST (Lambda proxy) handler.

Routes:
  POST /payments        create a payment; idempotent on the ``Idempotency-Key``
  GET  /payments/{id}   read a payment
  GET  /health          cheap DynamoDB check for Route 53 health checks

Environment:
  TRANSACTIONS_TABLE        DynamoDB table, hash key ``transaction_id`` (S)
  IDEMPOTENCY_TABLE         DynamoDB table, hash key ``idempotency_key`` (S), TTL ``expires_at``
  DEPLOY_REGION/AWS_REGION  region of this deployment (its own region's tables)
  LOG_LEVEL                 DEBUG, INFO (default), WARNING, ERROR
  IDEMPOTENCY_TTL_SECONDS   how long an idempotency key is remembered (default 86400)

Idempotency: the idempotency record and the transaction are written in one DynamoDB
``TransactWriteItems`` whose idempotency Put is conditional on the key being new (or its
record expired). A repeat with the same key and the same request returns the original
transaction (200); the same key with a different request is refused (409).

Transaction ids are random UUID4s, not derived from the idempotency key: the conditional
transactional write already makes retries safe, and a random id cannot be guessed from a
client-chosen key by anyone probing ``GET /payments/{id}``.

Card data is never accepted: a body carrying card fields (``card_number``, ``pan``, ``cvv``,
...) or a card number in the free-text description is refused with 400, and neither the body,
the headers nor any field value is ever logged.

Only boto3 and the standard library are used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

#: ISO 4217 list one (active alphabetic codes), including fund codes, precious metals and the
#: supranational units. Withdrawn codes are left out (ANG replaced by XCG in 2025, BGN by EUR in
#: 2026, HRK, SLL, ZWL, CUC, VEF, MRO, STD, ...).
ISO_4217_CURRENCIES: frozenset[str] = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
        "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
        "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP",
        "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
        "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
        "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR",
        "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
        "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
        "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
        "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD",
        "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
        "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX",
        "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAD",
        "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD",
        "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG",
    }
)  # fmt: skip

#: Codes in the list that denote no currency at all: "testing" and "no currency involved".
NON_PAYMENT_CODES: frozenset[str] = frozenset({"XTS", "XXX"})

#: Currencies a payment may be made in.
PAYMENT_CURRENCIES: frozenset[str] = ISO_4217_CURRENCIES - NON_PAYMENT_CODES

#: Body keys (normalised: lower case, no ``_``/``-``/space) that carry card data.
CARD_DATA_FIELDS: frozenset[str] = frozenset(
    {
        "card", "cardnumber", "cardno", "cardnum", "creditcard", "creditcardnumber", "ccnumber",
        "ccnum", "pan", "primaryaccountnumber", "cvv", "cvv2", "cvc", "cvc2", "cid", "csc",
        "securitycode", "cardsecuritycode", "cardverificationvalue", "expiry", "expirydate",
        "expdate", "expirationdate", "cardexpiry", "expmonth", "expyear", "pin", "pinblock",
        "track1", "track2", "trackdata", "magstripe",
    }
)  # fmt: skip

ALLOWED_PAYMENT_FIELDS: frozenset[str] = frozenset(
    {"amount", "currency", "merchant_id", "idempotency_key", "description"}
)

MAX_BODY_BYTES = 16 * 1024
MAX_MERCHANT_ID = 128
MAX_IDEMPOTENCY_KEY = 128
MAX_DESCRIPTION = 256
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
DEFAULT_IDEMPOTENCY_TTL = 24 * 3600
HEALTH_SENTINEL_KEY = "__health__"

_AMOUNT_STRING = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,2})?")
_TRANSACTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# 13 to 19 digits, optionally grouped by single spaces or dashes (a printed card number).
_PAN_CANDIDATE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")

# --------------------------------------------------------------------------------------------
# Structured logging
# --------------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update(fields)
        return json.dumps(entry, default=str, separators=(",", ":"), ensure_ascii=True)


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at emit time (Lambda ships stdout to CloudWatch)."""

    payment_processor_json = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stdout
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _configure_logger() -> logging.Logger:
    log = logging.getLogger("payment_processor")
    # Replace, not add: a re-import (tests) must not leave a second handler behind.
    for old in [h for h in log.handlers if getattr(h, "payment_processor_json", False)]:
        log.removeHandler(old)
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    # The Lambda runtime puts its own plain-text handler on the root logger: do not duplicate.
    log.propagate = False
    log.setLevel(_log_level())
    return log


def _log_level() -> int:
    level = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO").strip().upper())
    return level if isinstance(level, int) else logging.INFO


logger = _configure_logger()

# --------------------------------------------------------------------------------------------
# AWS clients (created lazily, reused across invocations of a warm container)
# --------------------------------------------------------------------------------------------

_BOTO_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=2,
    read_timeout=5,
)
_clients: dict[str, Any] = {}
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _region() -> str:
    return (
        os.environ.get("DEPLOY_REGION")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )


def _dynamodb() -> Any:
    """The DynamoDB client for this region; boto3 itself honours ``AWS_ENDPOINT_URL``."""
    region = _region()
    client = _clients.get(region)
    if client is None:
        client = boto3.session.Session().client("dynamodb", region_name=region, config=_BOTO_CONFIG)
        _clients[region] = client
    return client


def _reset_clients() -> None:
    """Forget cached clients (tests start a fresh AWS mock per test)."""
    _clients.clear()


def _transactions_table() -> str:
    return os.environ["TRANSACTIONS_TABLE"]


def _idempotency_table() -> str:
    return os.environ["IDEMPOTENCY_TABLE"]


def _to_ddb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def _from_ddb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


# --------------------------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered to the caller as JSON; its message never contains request values."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    all_headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    all_headers.update(headers or {})
    return {
        "statusCode": status,
        "headers": all_headers,
        "body": json.dumps(body, default=_json_default, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, matched case-insensitively (single or multi-value form)."""
    wanted = name.lower()
    headers = event.get("headers") or {}
    if isinstance(headers, Mapping):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == wanted and value is not None:
                return str(value)
    multi = event.get("multiValueHeaders") or {}
    if isinstance(multi, Mapping):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == wanted and values:
                return str(values[0])
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError("non-finite numbers are not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate key")
        obj[key] = value
    return obj


def _parse_body(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("body")
    if raw is None or raw == "":
        raise ApiError(400, "invalid_request", "a JSON request body is required")
    if not isinstance(raw, str):
        raise ApiError(400, "invalid_request", "the request body must be a JSON document")
    if event.get("isBase64Encoded"):
        try:
            raw_bytes = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_json", "the request body is not valid base64") from None
    else:
        raw_bytes = raw.encode("utf-8", errors="surrogatepass")
    if len(raw_bytes) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"the request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        text = raw_bytes.decode("utf-8")
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        # JSONDecodeError is a ValueError; its message is not echoed (it can quote the body).
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    return data


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _normalise_key(key: str) -> str:
    return re.sub(r"[\s_\-.]", "", key).lower()


def safe_field_name(key: str) -> str:
    """``key`` if it is a plain identifier that holds no card number, else a placeholder.

    Field names are echoed in errors and logged; a caller-chosen key must not smuggle data.
    """
    if _SAFE_NAME.fullmatch(key) and not contains_card_number(key):
        return key
    return "<redacted>"


def _card_field_path(value: Any, path: str = "") -> str | None:
    """The path of the first key anywhere in ``value`` that names card data, if any."""
    if isinstance(value, dict):
        for key, inner in value.items():
            name = safe_field_name(str(key))
            here = f"{path}.{name}" if path else name
            if _normalise_key(str(key)) in CARD_DATA_FIELDS:
                return here
            found = _card_field_path(inner, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found = _card_field_path(inner, f"{path}[{index}]")
            if found:
                return found
    return None


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True if ``text`` holds a 13-19 digit Luhn-valid number (a probable card PAN)."""
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            return True
    return False


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "validation_error", message, field=field)


def parse_amount(value: Any) -> Decimal:
    """A positive amount with at most two decimal places, as a 2-place ``Decimal``."""
    if isinstance(value, bool) or value is None:
        raise _invalid("amount", "amount must be a positive decimal number or string")
    if isinstance(value, str):
        if not _AMOUNT_STRING.fullmatch(value):
            raise _invalid(
                "amount", "amount must be a positive decimal with at most 2 decimal places"
            )
        amount = Decimal(value)
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        # A float only arrives if the caller bypassed parse_float; refuse it, never round it.
        raise _invalid("amount", "amount must be a positive decimal number or string")
    if not amount.is_finite():
        raise _invalid("amount", "amount must be a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _invalid("amount", "amount must have at most 2 decimal places")
    if amount <= 0:
        raise _invalid("amount", "amount must be greater than zero")
    if amount > MAX_AMOUNT:
        raise _invalid("amount", f"amount must not exceed {MAX_AMOUNT}")
    return amount.quantize(CENT)


def _bounded_string(body: Mapping[str, Any], field: str, max_len: int) -> str:
    value = body.get(field)
    if value is None:
        raise _invalid(field, f"{field} is required")
    if not isinstance(value, str):
        raise _invalid(field, f"{field} must be a string")
    if not value.strip():
        raise _invalid(field, f"{field} must not be empty")
    if len(value) > max_len:
        raise _invalid(field, f"{field} must be at most {max_len} characters")
    if _CONTROL_CHARS.search(value):
        raise _invalid(field, f"{field} must not contain control characters")
    return value


def _idempotency_key(event: Mapping[str, Any], body: Mapping[str, Any]) -> str:
    header = _header(event, "Idempotency-Key")
    in_body = body.get("idempotency_key")
    if header is not None and in_body is not None and header != in_body:
        raise _invalid("idempotency_key", "the Idempotency-Key header and the body field differ")
    if header is not None:
        return _bounded_string({"idempotency_key": header}, "idempotency_key", MAX_IDEMPOTENCY_KEY)
    return _bounded_string(body, "idempotency_key", MAX_IDEMPOTENCY_KEY)


def validate_payment(event: Mapping[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``POST /payments`` body; the result holds only normalised, allowed fields."""
    card_path = _card_field_path(body)
    if card_path is not None:
        raise ApiError(
            400,
            "card_data_not_accepted",
            "card data must not be sent to this API; use the tokenisation service",
            field=card_path,
        )
    for field in sorted(body):
        if field not in ALLOWED_PAYMENT_FIELDS:
            name = safe_field_name(field)
            raise _invalid(name, f"unknown field {name!r}")
    if "amount" not in body:
        raise _invalid("amount", "amount is required")
    amount = parse_amount(body["amount"])
    currency = body.get("currency")
    if currency is None:
        raise _invalid("currency", "currency is required")
    if not isinstance(currency, str):
        raise _invalid("currency", "currency must be a string")
    if currency not in PAYMENT_CURRENCIES:
        raise _invalid("currency", "currency must be an active ISO 4217 code such as USD")
    merchant_id = _bounded_string(body, "merchant_id", MAX_MERCHANT_ID)
    idempotency_key = _idempotency_key(event, body)
    payment: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "merchant_id": merchant_id,
        "idempotency_key": idempotency_key,
    }
    description = body.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise _invalid("description", "description must be a string")
        if len(description) > MAX_DESCRIPTION:
            raise _invalid(
                "description", f"description must be at most {MAX_DESCRIPTION} characters"
            )
        if contains_card_number(description):
            raise ApiError(
                400,
                "card_data_not_accepted",
                "card data must not be sent to this API",
                field="description",
            )
        payment["description"] = description
    return payment


def request_fingerprint(payment: Mapping[str, Any]) -> str:
    """SHA-256 of the normalised request (without the key), to tell a retry from a reuse."""
    canonical = {
        "amount": str(payment["amount"]),
        "currency": payment["currency"],
        "merchant_id": payment["merchant_id"],
        "description": payment.get("description"),
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Route handlers
# --------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's view of a stored transaction."""
    view: dict[str, Any] = {
        "transaction_id": item["transaction_id"],
        "status": item.get("status"),
        "amount": str(Decimal(item["amount"]).quantize(CENT)),
        "currency": item.get("currency"),
        "merchant_id": item.get("merchant_id"),
        "created_at": item.get("created_at"),
        "region": item.get("region"),
    }
    if item.get("description") is not None:
        view["description"] = item["description"]
    return view


def _get_transaction(transaction_id: str) -> dict[str, Any] | None:
    result = _dynamodb().get_item(
        TableName=_transactions_table(),
        Key={"transaction_id": {"S": transaction_id}},
        ConsistentRead=True,
    )
    item = result.get("Item")
    return _from_ddb(item) if item else None


def _replay(
    ctx: dict[str, Any], existing: Mapping[str, Any] | None, fingerprint: str
) -> dict[str, Any]:
    """Answer a request whose idempotency key is already taken."""
    if existing is None:
        # The competing write has not committed (a concurrent request): ask for a retry.
        raise ApiError(
            409,
            "idempotency_in_progress",
            "a request with this idempotency key is in progress; retry later",
            field="idempotency_key",
            headers={"Retry-After": "1"},
        )
    if existing.get("request_hash") != fingerprint:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this idempotency key was used with a different request",
            field="idempotency_key",
        )
    transaction = _get_transaction(str(existing["transaction_id"]))
    if transaction is None:
        raise RuntimeError("idempotency record points at a missing transaction")
    ctx["transaction_id"] = transaction["transaction_id"]
    ctx["idempotent_replay"] = True
    return _response(200, _public(transaction), {"Idempotent-Replayed": "true"})


def create_payment(event: Mapping[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """``POST /payments``: validate, then write idempotency record + transaction atomically."""
    body = _parse_body(event)
    payment = validate_payment(event, body)
    fingerprint = request_fingerprint(payment)
    now = _now()
    transaction_id = str(uuid.uuid4())
    ttl = int(os.environ.get("IDEMPOTENCY_TTL_SECONDS", DEFAULT_IDEMPOTENCY_TTL))
    epoch = int(now.timestamp())
    transaction: dict[str, Any] = {
        "transaction_id": transaction_id,
        "idempotency_key": payment["idempotency_key"],
        "merchant_id": payment["merchant_id"],
        "amount": payment["amount"],
        "currency": payment["currency"],
        "status": "accepted",
        "created_at": _iso(now),
        "region": _region(),
    }
    if "description" in payment:
        transaction["description"] = payment["description"]
    record = {
        "idempotency_key": payment["idempotency_key"],
        "transaction_id": transaction_id,
        "request_hash": fingerprint,
        "created_at": _iso(now),
        "expires_at": epoch + ttl,
    }
    client = _dynamodb()
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": _idempotency_table(),
                        "Item": _to_ddb(record),
                        # TTL deletion lags expiry by up to days: an expired record is free.
                        "ConditionExpression": (
                            "attribute_not_exists(idempotency_key) OR expires_at < :now"
                        ),
                        "ExpressionAttributeValues": {":now": {"N": str(epoch)}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": _transactions_table(),
                        "Item": _to_ddb(transaction),
                        "ConditionExpression": "attribute_not_exists(transaction_id)",
                    }
                },
            ]
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in ("TransactionCanceledException", "ConditionalCheckFailedException"):
            raise
        reasons = exc.response.get("CancellationReasons") or [{}]
        first = reasons[0] if reasons else {}
        if first.get("Code") not in (None, "ConditionalCheckFailed", "TransactionConflict"):
            raise
        ctx["ddb_error"] = first.get("Code") or code
        if first.get("Item"):
            existing: dict[str, Any] | None = _from_ddb(first["Item"])
        else:
            result = client.get_item(
                TableName=_idempotency_table(),
                Key={"idempotency_key": {"S": payment["idempotency_key"]}},
                ConsistentRead=True,
            )
            existing = _from_ddb(result["Item"]) if result.get("Item") else None
        return _replay(ctx, existing, fingerprint)
    ctx["transaction_id"] = transaction_id
    return _response(201, _public(transaction), {"Location": f"/payments/{transaction_id}"})


def get_payment(event: Mapping[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """``GET /payments/{id}``."""
    params = event.get("pathParameters") or {}
    transaction_id = params.get("id") if isinstance(params, Mapping) else None
    if transaction_id is None:
        match = re.fullmatch(r"/payments/([^/]+)/?", _path(event))
        transaction_id = match.group(1) if match else None
    if not isinstance(transaction_id, str) or not _TRANSACTION_ID.fullmatch(transaction_id):
        raise _invalid("id", "id must be a transaction id (a lower-case UUID)")
    item = _get_transaction(transaction_id)
    if item is None:
        raise ApiError(404, "not_found", "no such payment")
    ctx["transaction_id"] = transaction_id
    return _response(200, _public(item))


def health(event: Mapping[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """``GET /health``: a point read of a sentinel key in each table (needs only GetItem)."""
    region = _region()
    client = _dynamodb()
    try:
        client.get_item(
            TableName=_transactions_table(),
            Key={"transaction_id": {"S": HEALTH_SENTINEL_KEY}},
        )
        client.get_item(
            TableName=_idempotency_table(),
            Key={"idempotency_key": {"S": HEALTH_SENTINEL_KEY}},
        )
    except (ClientError, BotoCoreError, KeyError) as exc:
        if isinstance(exc, ClientError):
            ctx["ddb_error"] = exc.response.get("Error", {}).get("Code")
        else:
            ctx["ddb_error"] = type(exc).__name__
        return _response(503, {"status": "unavailable", "region": region})
    return _response(200, {"status": "ok", "region": region})


# --------------------------------------------------------------------------------------------
# Routing and the entry point
# --------------------------------------------------------------------------------------------

Route = Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]

ROUTES: dict[str, dict[str, Route]] = {
    "/payments": {"POST": create_payment},
    "/payments/{id}": {"GET": get_payment},
    "/health": {"GET": health},
}

_PATH_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/payments/?"), "/payments"),
    (re.compile(r"/payments/[^/]+/?"), "/payments/{id}"),
    (re.compile(r"/health/?"), "/health"),
)


def _path(event: Mapping[str, Any]) -> str:
    path = event.get("path")
    return path if isinstance(path, str) else ""


def resolve_route(event: Mapping[str, Any]) -> str | None:
    """The route template of the event, from ``resource`` or else from ``path``."""
    resource = event.get("resource")
    if isinstance(resource, str) and resource in ROUTES:
        return resource
    path = _path(event)
    for pattern, template in _PATH_PATTERNS:
        if pattern.fullmatch(path):
            return template
    return None


def _dispatch(event: Mapping[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    route = resolve_route(event)
    ctx["route"] = route
    if route is None:
        raise ApiError(404, "not_found", "no such route")
    methods = ROUTES[route]
    method = str(event.get("httpMethod") or "").upper()
    route_handler = methods.get(method)
    if route_handler is None:
        allow = ", ".join(sorted(methods))
        raise ApiError(
            405, "method_not_allowed", f"use {allow} on {route}", headers={"Allow": allow}
        )
    return route_handler(event, ctx)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway REST Lambda-proxy events."""
    started = time.perf_counter()
    logger.setLevel(_log_level())
    request_context = event.get("requestContext") if isinstance(event, Mapping) else None
    ctx: dict[str, Any] = {
        "request_id": getattr(context, "aws_request_id", None),
        "api_request_id": (
            request_context.get("requestId") if isinstance(request_context, Mapping) else None
        ),
        "method": event.get("httpMethod") if isinstance(event, Mapping) else None,
        "route": None,
        "region": _region(),
    }
    try:
        if not isinstance(event, Mapping):
            raise ApiError(400, "invalid_request", "the event is not an API Gateway request")
        response = _dispatch(event, ctx)
    except ApiError as err:
        if err.field is not None:
            ctx["error_field"] = err.field
        ctx["error"] = err.code
        response = _response(err.status, err.body(), err.headers)
    except Exception as exc:  # the last resort: answer 500, log no value from the request
        ctx["error"] = "internal_error"
        ctx["error_type"] = type(exc).__name__
        if isinstance(exc, ClientError):
            ctx["ddb_error"] = exc.response.get("Error", {}).get("Code")
        ctx["traceback"] = "".join(traceback.format_tb(exc.__traceback__))
        response = _response(500, {"error": "internal_error", "message": "internal error"})
    status = response["statusCode"]
    ctx["status"] = status
    ctx["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    logger.log(level, "request handled", extra={"fields": dict(ctx)})
    return response
