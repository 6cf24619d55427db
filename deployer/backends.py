"""Where a workspace's state lives and how it is locked: a local directory or an S3 bucket.

`LocalBackend` keeps `<dir>/<workspace>.tfstate.json` (atomically replaced, previous version
kept as `.backup`) and a lock file created with O_EXCL. `S3Backend` keeps the state as the object
`<prefix>/<workspace>.tfstate.json` in a versioned, encrypted bucket and takes the lock by
writing `<prefix>/<workspace>.tflock` with `If-None-Match: *` (an S3 conditional write, as
Terraform's `use_lockfile` does): a second writer gets 412 PreconditionFailed, reads the lock
object, and fails at once naming the holder.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from deployer.aws import DeployerError


class StateError(DeployerError):
    pass


class LockedError(StateError):
    pass


class Backend(Protocol):
    """Bytes in, bytes out, and one exclusive lock per workspace."""

    def describe(self, workspace: str) -> str: ...

    def read(self, workspace: str) -> bytes | None: ...

    def write(self, workspace: str, data: bytes) -> None: ...

    def lock(self, workspace: str, operation: str) -> Any: ...  # a context manager

    def force_unlock(self, workspace: str) -> bool: ...


def holder_info(operation: str) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "operation": operation,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_message(workspace: str, held: dict[str, Any], where: str = "") -> str:
    who = f"pid {held.get('pid', '?')} on {held.get('host', '?')}"
    text = (
        f"workspace {workspace} is locked{where} by {who} ({held.get('operation', '?')}) "
        f"since {held.get('since', '?')}"
    )
    same_host = held.get("host") == socket.gethostname()
    if same_host and isinstance(held.get("pid"), int) and not pid_alive(held["pid"]):
        text += (
            f"; that process is no longer running: release the stale lock with "
            f"`deployer force-unlock {workspace}`"
        )
    else:
        text += f" (if that process is gone, `deployer force-unlock {workspace}` releases it)"
    return text


class LocalBackend:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)

    def path(self, workspace: str) -> Path:
        return self.state_dir / f"{workspace}.tfstate.json"

    def describe(self, workspace: str) -> str:
        return str(self.path(workspace))

    def read(self, workspace: str) -> bytes | None:
        path = self.path(workspace)
        if not path.exists():
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StateError(f"{path}: cannot read the state file ({exc})") from exc

    def write(self, workspace: str, data: bytes) -> None:
        from deployer.state import atomic_write

        atomic_write(self.path(workspace), data)

    @contextmanager
    def lock(self, workspace: str, operation: str) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / f"{workspace}.lock"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(path.read_text())
            except (OSError, ValueError):
                held = {}
            raise LockedError(lock_message(workspace, held)) from None
        with os.fdopen(fd, "w") as handle:
            json.dump(holder_info(operation), handle)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def force_unlock(self, workspace: str) -> bool:
        path = self.state_dir / f"{workspace}.lock"
        if not path.exists():
            return False
        path.unlink()
        return True


class S3Backend:
    """State objects in S3; the lock is an object written only if absent (If-None-Match)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def key(self, workspace: str, suffix: str = ".tfstate.json") -> str:
        name = f"{workspace}{suffix}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def describe(self, workspace: str) -> str:
        return f"s3://{self.bucket}/{self.key(workspace)}"

    def read(self, workspace: str) -> bytes | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(workspace))["Body"]
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            if _code(exc) == "NoSuchBucket":
                raise StateError(
                    f"the state bucket {self.bucket} does not exist: create it with "
                    f"`deployer init --backend-bucket {self.bucket}`"
                ) from exc
            raise
        data: bytes = body.read()
        return data

    def write(self, workspace: str, data: bytes) -> None:
        # One PUT replaces the object whole: S3 never shows a half-written state, and the
        # bucket's versioning keeps every earlier one.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(workspace),
            Body=data,
            ContentType="application/json",
        )

    def _read_lock(self, workspace: str) -> dict[str, Any]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(workspace, ".tflock"))[
                "Body"
            ].read()
            held = json.loads(body)
            return held if isinstance(held, dict) else {}
        except Exception:
            return {}

    @contextmanager
    def lock(self, workspace: str, operation: str) -> Iterator[None]:
        key = self.key(workspace, ".tflock")
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=json.dumps(holder_info(operation)).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                held = self._read_lock(workspace)
                where = f" (s3://{self.bucket}/{key})"
                raise LockedError(lock_message(workspace, held, where)) from None
            if _code(exc) == "NoSuchBucket":
                raise StateError(
                    f"the state bucket {self.bucket} does not exist: create it with "
                    f"`deployer init --backend-bucket {self.bucket}`"
                ) from exc
            raise
        try:
            yield
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def force_unlock(self, workspace: str) -> bool:
        key = self.key(workspace, ".tflock")
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def create_bucket(client: Any, bucket: str, region: str, kms_key_id: str | None = None) -> bool:
    """Create the state bucket if absent: versioned, encrypted, public access blocked.
    Returns whether it was created. Settings are (re)applied either way."""
    created = False
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        args: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(**args)
        created = True
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule: dict[str, Any] = (
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id}
        if kms_key_id
        else {"SSEAlgorithm": "AES256"}
    )
    client.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": True}]
        },
    )
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return created
