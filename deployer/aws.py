"""Shared AWS mechanics: clients per region, retries, typed errors, waiting, tags, call counts.

Drivers never build clients or loop on errors themselves: they get clients from `Clients`,
classify errors with `error_code`/`is_not_found`, retry eventual consistency with
`retry_while`, and wait through `poll`.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import boto3
import botocore.config
from botocore.exceptions import ClientError

from deployer.ratelimit import DEFAULT_RATE_LIMITS, RateLimit, RateLimiter, limiter_from

T = TypeVar("T")

# Botocore's "standard" retry mode: exponential backoff with jitter for throttling, 5xx and
# connection errors. Eventual-consistency errors are retried separately (`retry_while`).
RETRY_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
)

# Error codes that mean "the thing is gone", across services.
NOT_FOUND_CODES = frozenset(
    {
        "NotFoundException",
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchBucketPolicy",
        "NoSuchLifecycleConfiguration",
        "ReplicationConfigurationNotFoundError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "NoSuchTagSet",
        "OwnershipControlsNotFoundError",
        "ResourceNotFound",
        "TableNotFoundException",
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidInternetGatewayID.NotFound",
        "InvalidAllocationID.NotFound",
        "NatGatewayNotFound",
        "InvalidRouteTableID.NotFound",
        "InvalidRoute.NotFound",
        "InvalidAssociationID.NotFound",
        "InvalidVpcEndpointId.NotFound",
        "InvalidGroup.NotFound",
        "InvalidSecurityGroupRuleId.NotFound",
        "InvalidFlowLogId.NotFound",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "DBSubnetGroupNotFoundFault",
        "DBParameterGroupNotFound",
        "DBInstanceAutomatedBackupNotFound",
        "NoSuchHostedZone",
        "NoSuchHealthCheck",
        "NotFound",
        "404",
    }
)


class DeployerError(Exception):
    """An error with a message fit for the user; the CLI prints it and exits 1."""


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return None


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return code is not None and (code in NOT_FOUND_CODES or code.endswith(".NotFound"))


def describe_error(exc: BaseException) -> str:
    """`Code: message` for AWS errors, the text otherwise."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def wait_scale() -> float:
    """Seconds between polls are multiplied by this (the emulator needs no real waiting)."""
    return float(os.environ.get("DEPLOYER_WAIT_SCALE", "1"))


def scaled_timeout(timeout: float) -> float:
    """A timeout under `wait_scale`, never below 10 s: a slow machine still gets its retries."""
    return max(timeout * wait_scale(), min(timeout, 10.0))


def poll(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    delay: float = 5.0,
) -> T:
    """Call `check` until it returns something other than None, or fail after `timeout`."""
    deadline = time.monotonic() + scaled_timeout(timeout)
    interval = delay * wait_scale()
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise DeployerError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def retry_while(
    call: Callable[[], T],
    *,
    retryable: Callable[[BaseException], bool],
    timeout: float = 120.0,
    first_delay: float = 1.0,
) -> T:
    """Retry a call that fails with a transient, eventual-consistency error.

    Backoff doubles up to 10 s with full jitter; the last error is raised after `timeout`.
    """
    deadline = time.monotonic() + scaled_timeout(timeout)
    delay = first_delay
    while True:
        try:
            return call()
        except Exception as exc:
            if not retryable(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0, delay) * wait_scale())
            delay = min(delay * 2, 10.0)


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


READ_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "Search", "Select", "Scan", "Query")


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


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """`{"a": "b"}` → `[{"Key": "a", "Value": "b"}]`, sorted for stable calls."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(
    tags: Iterable[dict[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {t[key]: t[value] for t in tags or []}


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags without the `aws:` ones that AWS itself adds."""
    return {k: v for k, v in tags.items() if not k.startswith("aws:")}


def tag_changes(
    desired: dict[str, str], live: dict[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """(tags to set, tag keys to remove) to bring live tags to the desired ones."""
    live = user_tags(live or {})
    to_set = {k: v for k, v in desired.items() if live.get(k) != v}
    to_remove = sorted(k for k in live if k not in desired)
    return to_set, to_remove
