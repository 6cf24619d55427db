"""Typed AWS errors: one table of error codes, and the exception types drivers catch.

Every client the engine makes (`deployer.aws.Clients`) raises, for a code in the table, a class
that is both botocore's modeled error (so `client.exceptions.X` and `ClientError` still catch
it) and one of the types below, so a driver writes `except NotFound:` instead of fetching the
code and comparing it with a service's spelling of "not found". Finders of our own raise the
same types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")


class DeployerError(Exception):
    """An error with a message fit for the user; the CLI prints it and exits 1."""


class AwsError(Exception):
    """A typed AWS error (a mixin: AWS's own errors are also botocore `ClientError`s)."""


class NotFound(AwsError):
    """The thing (or the setting asked for) does not exist."""


class Conflict(AwsError):
    """Something else still uses it, or it is busy with another change: try again later."""


class AlreadyExists(AwsError):
    """A create met a resource of the same name (ours from a retried call, or someone else's)."""


class PreconditionFailed(AwsError):
    """A conditional write (`If-Match`, `If-None-Match`) found the object not as required."""


# Codes meaning "the thing is gone" (or "the setting is not there"), across services.
NOT_FOUND_CODES = frozenset(
    {
        "NotFoundException",
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchBucketPolicy",
        "NoSuchLifecycleConfiguration",
        "ReplicationConfigurationNotFoundError",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "NoSuchTagSet",
        "OwnershipControlsNotFoundError",
        "ObjectLockConfigurationNotFoundError",
        "ResourceNotFound",
        "TableNotFoundException",
        "NatGatewayNotFound",
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
# Codes meaning "in use by something else" or "busy": the same call may succeed later.
CONFLICT_CODES = frozenset(
    {
        "DependencyViolation",
        "InvalidGroup.InUse",
        "InvalidIPAddress.InUse",
        "ResourceInUseException",
        "ResourceInUse",
        "ResourceConflictException",
        "ConflictException",
        "DeleteConflict",
        "HealthCheckInUse",
        "InvalidDBSubnetGroupStateFault",
        "InvalidDBParameterGroupState",
        "OperationAbortedException",
        "OperationAborted",
        "ConcurrentModification",
    }
)
ALREADY_EXISTS_CODES = frozenset(
    {
        "AlreadyExistsException",
        "EntityAlreadyExists",
        "ResourceAlreadyExistsException",
        "BucketAlreadyOwnedByYou",
        "DBInstanceAlreadyExists",
        "DBSubnetGroupAlreadyExists",
        "DBParameterGroupAlreadyExists",
        "DBSnapshotAlreadyExists",
        "HostedZoneAlreadyExists",
        "HealthCheckAlreadyExists",
        "InvalidPermission.Duplicate",
        "RouteAlreadyExists",
        "TableAlreadyExistsException",
        "ResourceExistsException",
    }
)

PRECONDITION_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return None


def _says_missing(code: str) -> bool:
    """Spellings services use for "not found" beyond the table (SQS's
    `AWS.SimpleQueueService.NonExistentQueue`, `QueueDoesNotExist`)."""
    return "NonExistent" in code or "DoesNotExist" in code


def kind_of(code: str | None) -> type[AwsError] | None:
    """The typed error an AWS error code stands for, if any."""
    if code is None:
        return None
    if code in NOT_FOUND_CODES or code.endswith(".NotFound") or _says_missing(code):
        return NotFound
    if code in CONFLICT_CODES:
        return Conflict
    if code in ALREADY_EXISTS_CODES or code.endswith(".Duplicate"):
        return AlreadyExists
    if code in PRECONDITION_CODES:
        return PreconditionFailed
    return None


def is_kind(exc: BaseException, kind: type[AwsError]) -> bool:
    """Whether `exc` is of the typed kind, raised typed or carrying one of its codes (an error
    from a client the engine did not make, or one our own code built)."""
    return isinstance(exc, kind) or kind_of(error_code(exc)) is kind


def is_not_found(exc: BaseException) -> bool:
    return is_kind(exc, NotFound)


_TYPED: dict[tuple[type[ClientError], type[AwsError]], type[ClientError]] = {}


def _typed_class(base: type[ClientError], kind: type[AwsError]) -> type[ClientError]:
    typed = _TYPED.get((base, kind))
    if typed is None:
        typed = _TYPED.setdefault(
            (base, kind), type(base.__name__, (base, kind), {"__module__": base.__module__})
        )
    return typed


def install_typed_errors(client: Any) -> None:
    """Make `client` raise the typed classes for the codes of the table.

    botocore picks the class of an error with `client.exceptions.from_code(code)`; wrapping that
    one public method is all it takes. The exceptions object is shared by a session's clients of
    one service, so it is wrapped once.
    """
    exceptions = client.exceptions
    if getattr(exceptions, "_deployer_typed", False):
        return
    modeled: Callable[[str], type[ClientError]] = exceptions.from_code

    def from_code(code: str) -> type[ClientError]:
        base = modeled(code)
        kind = kind_of(code)
        return _typed_class(base, kind) if kind is not None else base

    exceptions.from_code = from_code
    exceptions._deployer_typed = True


def or_none(call: Callable[[], T]) -> T | None:
    """The call's answer, or None when AWS says the thing is not there."""
    try:
        return call()
    except NotFound:
        return None


def ignore_missing(call: Callable[[], Any]) -> None:
    """Make a call (a delete) for which "already gone" is success."""
    with contextlib.suppress(NotFound):
        call()


def describe_error(exc: BaseException) -> str:
    """`Code: message` for AWS errors, the text otherwise."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"
