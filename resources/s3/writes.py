"""S3 writes, retried through the transient errors S3 gives and botocore does not retry.

A bucket a few seconds old can be invisible to some S3 endpoints (`NoSuchBucket`), and S3
refuses a write while another one on the same bucket is in progress (`OperationAborted`, a
`Conflict`). The bucket and each of its settings write through `write`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from deployer.errors import Conflict, error_code, is_kind
from deployer.waiting import retry_while

T = TypeVar("T")

# A new bucket can be invisible to some S3 endpoints for a short while after CreateBucket (the
# Terraform provider retries NoSuchBucket on bucket settings for 2 minutes for that reason).
BUCKET_PROPAGATION_TIMEOUT = 120.0


def transient_write_error(exc: BaseException, *, retry_missing: bool = True) -> bool:
    """A new bucket not yet visible everywhere, or another write on the bucket in progress."""
    return is_kind(exc, Conflict) or (retry_missing and error_code(exc) == "NoSuchBucket")


def write(
    call: Callable[[], T],
    *,
    retry_missing: bool = True,
    also: Callable[[BaseException], bool] | None = None,
) -> T:
    """A bucket write, retried through S3's transient errors (and those `also` names)."""

    def retryable(exc: BaseException) -> bool:
        return transient_write_error(exc, retry_missing=retry_missing) or bool(also and also(exc))

    return retry_while(call, retryable=retryable, timeout=BUCKET_PROPAGATION_TIMEOUT)
