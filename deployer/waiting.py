"""Waiting on AWS: polling, retrying eventual consistency, deleting what is still in use.

Every wait of the engine and the drivers goes through `poll` or `retry_while`, so the emulator's
time scale (`DEPLOYER_WAIT_SCALE`) and the "timed out waiting for X" message hold everywhere.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from deployer.errors import Conflict, DeployerError, NotFound

T = TypeVar("T")


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
    consecutive: int = 1,
) -> T:
    """Call `check` until it returns something other than None `consecutive` times in a row
    (Terraform's waiters ask for several answers after writes that propagate: one read can
    come from a replica that has the change while the next still does not), or fail after
    `timeout`."""
    deadline = time.monotonic() + scaled_timeout(timeout)
    interval = delay * wait_scale()
    streak = 0
    while True:
        result = check()
        streak = streak + 1 if result is not None else 0
        if result is not None and streak >= consecutive:
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


def delete_when_released(
    call: Callable[[], Any],
    *,
    what: str,
    timeout: float,
    in_use: Callable[[BaseException], bool] = lambda exc: isinstance(exc, Conflict),
) -> None:
    """Delete, retrying while AWS says something still uses the resource, until `timeout`.

    Lambda ENIs, NAT gateways' addresses, a just-deleted database still counted as a group's
    user: AWS releases them minutes after their owner went. Already gone counts as deleted.
    """
    try:
        retry_while(call, retryable=in_use, timeout=timeout, first_delay=5.0)
    except NotFound:
        return
    except Exception as exc:
        if in_use(exc):
            raise DeployerError(
                f"timed out after {timeout:.0f}s waiting for {what} to be released by what "
                f"uses it: {exc}"
            ) from exc
        raise


def wait_gone(
    read: Callable[[], Any | None], *, what: str, timeout: float, delay: float = 5.0
) -> None:
    """Wait until `read` finds nothing (None, or AWS's "not found")."""

    def gone() -> bool | None:
        try:
            return True if read() is None else None
        except NotFound:
            return True

    poll(gone, what=f"{what} to be deleted", timeout=timeout, delay=delay)


def delete_and_wait_gone(
    call: Callable[[], Any],
    read: Callable[[], Any | None],
    *,
    what: str,
    timeout: float,
    delay: float = 5.0,
    in_use: Callable[[BaseException], bool] | None = None,
) -> None:
    """Delete (retrying while in use, when `in_use` says so), then wait until it is gone:
    what depended on it (a subnet on its NAT gateway) can only go afterwards."""
    if in_use is not None:
        delete_when_released(call, what=what, timeout=timeout, in_use=in_use)
    else:
        try:
            call()
        except NotFound:
            return
    wait_gone(read, what=what, timeout=timeout, delay=delay)
