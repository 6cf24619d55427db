"""Fault injection for tests and drills: fail a chosen share of AWS calls with chosen errors.

A botocore `before-send` handler that answers, instead of AWS, with an error response in the
service's own protocol. botocore parses and retries it exactly as a real answer: throttling
and 5xx codes are retried with backoff (standard mode), others are raised.

`DEPLOYER_FAULTS="0.2:Throttling,InternalError"` turns it on for a CLI run (share, then codes;
an optional third field limits it to operations whose name starts with a prefix:
`"1.0:AccessDenied:Create"`).
"""

from __future__ import annotations

import functools
import json
import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

# Where an answered request is pointed, so that no other responder acts on it.
ANSWERED_URL = "https://fault-injected.invalid/"

# HTTP status AWS uses with each error code (the retry logic reads both).
STATUS = {
    "Throttling": 400,
    "ThrottlingException": 400,
    "TooManyRequestsException": 429,
    "RequestLimitExceeded": 503,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}


@dataclass
class FaultInjector:
    """Fails `share` of the matching calls with one of `codes`, picked at random.

    `limit` bounds the number of faults (`limit=1` with `share=1.0`: the first matching call
    fails, the rest pass).
    """

    share: float
    codes: tuple[str, ...]
    operation_prefix: str = ""
    seed: int | None = None
    limit: int | None = None
    injected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        if not operation.startswith(self.operation_prefix):
            return None
        with self._lock:
            if self.limit is not None and sum(self.injected.values()) >= self.limit:
                return None
            if self._random.random() >= self.share:
                return None
            code = self._random.choice(self.codes)
            self.injected[f"{service}:{operation}:{code}"] += 1
        response = error_response(request.url, _protocol(service), code)
        # botocore calls every `before-send` handler and takes the first answer: a responder
        # registered after this one (moto's in-process mock) would still carry the request out,
        # creating what the fault says was not created. Pointed nowhere, it is ignored.
        request.url = ANSWERED_URL
        return response

    def hook(self) -> tuple[str, Any]:
        """For `Clients(hooks=[...])`: answers before the request leaves the machine."""
        return ("before-send", self)


@functools.cache
def _protocol(service_id: str) -> str:
    """The wire protocol of a service, which decides how an error body is written.

    Service models are costly to load (seconds for all of them): the service named like the id
    is tried first (`ec2`, `api-gateway` → `apigateway`), and every answer is kept.
    """
    import botocore.session

    session = botocore.session.get_session()
    available = session.get_available_services()
    guesses = [n for n in (service_id, service_id.replace("-", "")) if n in available]
    for name in [*guesses, *available]:
        model = session.get_service_model(name)
        if model.service_id.hyphenize() == service_id:
            # The one the client speaks: CloudWatch lists CBOR first, botocore picks JSON.
            return str(getattr(model, "resolved_protocol", model.protocol))
    return "json"


def error_response(url: str, protocol: str, code: str) -> AWSResponse:
    """An AWS error answer in the service's own protocol, so botocore parses it as real."""
    status = STATUS.get(code, 400)
    message = f"injected fault ({code})"
    headers: dict[str, str] = {}
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"x-amzn-errortype": code, "content-type": "application/x-amz-json-1.1"}
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            "</Error></Errors><RequestID>fault</RequestID></Response>"
        ).encode()
    elif protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault</RequestId>"
            "</ErrorResponse>"
        ).encode()
    else:  # rest-xml
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return AWSResponse(url, status, headers, _Raw(body))


class _Raw:
    """The raw-stream interface AWSResponse reads a body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def from_environment() -> FaultInjector | None:
    spec = os.environ.get("DEPLOYER_FAULTS")
    if not spec:
        return None
    share, codes, *prefix = spec.split(":")
    return FaultInjector(
        float(share), tuple(c.strip() for c in codes.split(",")), prefix[0] if prefix else ""
    )
