"""Shared AWS mechanics: clients per region, retries, call counts, pagination.

Drivers never build clients or loop on errors themselves: they get clients from `Clients`
(whose errors are typed: deployer/errors.py), retry eventual consistency with `retry_while` and
wait through `poll` (deployer/waiting.py), and declare their tag calls (deployer/tagging.py).
The names of those modules are importable from here too.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import boto3
import botocore.config

from deployer.errors import (
    NOT_FOUND_CODES,
    AlreadyExists,
    Conflict,
    DeployerError,
    NotFound,
    describe_error,
    error_code,
    ignore_missing,
    install_typed_errors,
    is_not_found,
    or_none,
)
from deployer.ratelimit import DEFAULT_RATE_LIMITS, RateLimit, RateLimiter, limiter_from
from deployer.tagging import Tagging, tag_changes, tag_dict, tag_list, user_tags
from deployer.waiting import (
    delete_and_wait_gone,
    delete_when_released,
    poll,
    retry_while,
    scaled_timeout,
    wait_gone,
    wait_scale,
)

__all__ = [
    "NOT_FOUND_CODES",
    "AlreadyExists",
    "CallCounter",
    "Clients",
    "Conflict",
    "DeployerError",
    "NotFound",
    "Tagging",
    "delete_and_wait_gone",
    "delete_when_released",
    "describe_error",
    "error_code",
    "iam_propagation_error",
    "ignore_missing",
    "is_not_found",
    "is_read_operation",
    "or_none",
    "paginate",
    "poll",
    "retry_while",
    "scaled_timeout",
    "tag_changes",
    "tag_dict",
    "tag_list",
    "user_tags",
    "wait_gone",
    "wait_scale",
]

# Botocore's "standard" retry mode: exponential backoff with jitter for throttling, 5xx and
# connection errors. Eventual-consistency errors are retried separately (`retry_while`).
RETRY_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
)


def iam_propagation_error(exc: BaseException) -> bool:
    """A role or key a few seconds old that another service cannot use yet."""
    code = error_code(exc)
    message = str(exc).lower()
    if code in {
        "InvalidParameterValueException",
        "InvalidParameterValue",
        "InvalidParameter",
        "InvalidRequest",
    }:
        return "assume" in message or "role" in message or "kms" in message
    return code in {"AccessDenied", "AccessDeniedException"} and "role" in message


# Test* calls (Route 53's TestDNSAnswer) only ask AWS what it would answer.
READ_PREFIXES = (
    "Describe",
    "Get",
    "List",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Scan",
    "Query",
    "Test",
)


def is_read_operation(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES)


class CallCounter:
    """Counts every AWS API call by operation, through botocore's event hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        key = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls[key] += 1

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if is_read_operation(op.split(":")[1]))

    @property
    def writes(self) -> int:
        return sum(self.calls.values()) - self.reads

    def write_operations(self) -> dict[str, int]:
        return {op: n for op, n in self.calls.items() if not is_read_operation(op.split(":")[1])}


class Clients:
    """boto3 clients per (service, region), shared across threads (clients are thread-safe)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        counter: CallCounter | None = None,
        hooks: Iterable[tuple[str, Callable[..., Any]]] = (),
        rate_limits: Mapping[str, RateLimit] | RateLimiter | None = DEFAULT_RATE_LIMITS,
    ) -> None:
        self.endpoint_url = endpoint_url
        # Client-side token buckets per (service, region); None turns them off.
        self.rate_limiter = limiter_from(rate_limits)
        self.session = session or boto3.Session()
        self.counter = counter or CallCounter()
        self._hooks = list(hooks)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self.session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=RETRY_CONFIG,
                )
                install_typed_errors(client)
                client.meta.events.register("before-call", self.counter)
                limit = self.rate_limiter.hook(service, region) if self.rate_limiter else None
                if limit is not None:
                    client.meta.events.register("before-call", limit)
                for event, handler in self._hooks:
                    # First, so that a fault injector answers before any other responder.
                    client.meta.events.register_first(event, handler)
                self._clients[key] = client
            return client


def paginate(client: Any, operation: str, result_key: str, **params: Any) -> Iterator[Any]:
    """Every item of a paginated list call."""
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**params):
            yield from page.get(result_key, [])
    else:
        yield from getattr(client, operation)(**params).get(result_key, [])
