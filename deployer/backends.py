"""Where a workspace's state lives and how it is locked: a local directory or an S3 bucket.

`LocalBackend` keeps `<dir>/<workspace>.tfstate.json` (atomically replaced, previous version
kept as `.backup`) and a lock file created with O_EXCL. `S3Backend` keeps the state as the object
`<prefix>/<workspace>.tfstate.json` in a versioned, encrypted bucket and takes the lock by
writing `<prefix>/<workspace>.tflock` with `If-None-Match: *` (an S3 conditional write, as
Terraform's `use_lockfile` does): a second writer gets 412 PreconditionFailed, reads the lock
object, and fails at once naming the holder.

A lock held by a dead process on the same host is recognised by its pid. One left in S3 by a
process on another host cannot be: while it holds the lock, the holder rewrites the lock object
every `LOCK_HEARTBEAT_SECONDS` with a fresh `heartbeat` time (a conditional write, `If-Match` the
ETag it wrote last, so it never overwrites a lock that someone else took after a force-unlock),
and a lock whose heartbeat is older than `LOCK_EXPIRY_SECONDS` is reported as stale, naming
`deployer force-unlock`. It is never taken over automatically (as with Terraform): a holder
that is only slow or cut off from S3 may still be writing.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from deployer.errors import (
    DeployerError,
    PreconditionFailed,
    error_code,
    is_kind,
    is_not_found,
)

# The holder of an S3 lock renews it this often; a lock not renewed for LOCK_EXPIRY_SECONDS is
# reported as stale (its holder is most likely gone). Module constants so that tests can
# shorten them; read at the time of use.
LOCK_HEARTBEAT_SECONDS = 30.0
LOCK_EXPIRY_SECONDS = 300.0
# Lock objects carry this tag, so that the state bucket's lifecycle rule can expire the old
# versions their renewals leave (a rule cannot match a key suffix such as `.tflock`).
LOCK_TAG = ("deployer-lock", "true")
LOCK_RULE_ID = "deployer-expire-old-lock-versions"


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def heartbeat_age(held: dict[str, Any]) -> float | None:
    """Seconds since the holder last renewed its lock; None for a lock without heartbeats
    (a local lock, or one written by an older deployer)."""
    value = held.get("heartbeat")
    if not isinstance(value, str):
        return None
    try:
        beat = datetime.fromisoformat(value)
    except ValueError:
        return None
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - beat).total_seconds())


def duration(seconds: float) -> str:
    """`45 seconds`, `7 minutes`, `3.5 hours`, `2.0 days`."""
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def lock_message(workspace: str, held: dict[str, Any], where: str = "") -> str:
    who = f"pid {held.get('pid', '?')} on {held.get('host', '?')}"
    text = (
        f"workspace {workspace} is locked{where} by {who} ({held.get('operation', '?')}) "
        f"since {held.get('since', '?')}"
    )
    age = heartbeat_age(held)
    if age is not None:
        text += f", last heartbeat {duration(age)} ago"
    same_host = held.get("host") == socket.gethostname()
    if same_host and isinstance(held.get("pid"), int) and not pid_alive(held["pid"]):
        text += (
            f"; that process is no longer running: release the stale lock with "
            f"`deployer force-unlock {workspace}`"
        )
    elif age is not None and age > LOCK_EXPIRY_SECONDS:
        text += (
            f"; the lock is stale: a live holder renews it every "
            f"{duration(LOCK_HEARTBEAT_SECONDS)} and it has not been renewed for "
            f"{duration(age)} (expiry: {duration(LOCK_EXPIRY_SECONDS)}), so its holder has most "
            f"likely died. Make sure it is not running, then release the lock with "
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
            if error_code(exc) == "NoSuchBucket":
                raise StateError(
                    f"the state bucket {self.bucket} does not exist: create it with "
                    f"`deployer init --backend-bucket {self.bucket}`"
                ) from exc
            if is_not_found(exc):
                return None
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
        ours = holder_info(operation)
        ours["heartbeat"] = ours["since"]
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=json.dumps(ours).encode(),
                ContentType="application/json",
                Tagging="=".join(LOCK_TAG),
                IfNoneMatch="*",
            )
        except Exception as exc:
            if is_kind(exc, PreconditionFailed):
                held = self._read_lock(workspace)
                where = f" (s3://{self.bucket}/{key})"
                raise LockedError(lock_message(workspace, held, where)) from None
            if error_code(exc) == "NoSuchBucket":
                raise StateError(
                    f"the state bucket {self.bucket} does not exist: create it with "
                    f"`deployer init --backend-bucket {self.bucket}`"
                ) from exc
            raise
        etag = response.get("ETag") or self.client.head_object(Bucket=self.bucket, Key=key)["ETag"]
        heartbeat = _Heartbeat(self, workspace, key, ours, str(etag))
        heartbeat.start()
        try:
            yield
        finally:
            heartbeat.stopped.set()
            heartbeat.join()  # an in-flight renewal finishes first: its ETag is the last one
            if not heartbeat.lost:
                self._release(workspace, key, heartbeat.etag)

    def _conditional(self, operation: str) -> bool:
        """Whether this botocore knows `If-Match` on `operation` (older ones do not)."""
        try:
            shape = self.client.meta.service_model.operation_model(operation).input_shape
        except Exception:
            return False
        return "IfMatch" in shape.members

    def _put_if_match(self, key: str, body: bytes, etag: str) -> str:
        """Replace `key` only if it is still the object with `etag`; returns the new ETag."""
        args: dict[str, Any] = {"ContentType": "application/json", "Tagging": "=".join(LOCK_TAG)}
        if self._conditional("PutObject"):
            args["IfMatch"] = etag
        else:  # an older botocore: compare, then write (a narrow race, but never a blind write)
            current = self.client.head_object(Bucket=self.bucket, Key=key)["ETag"]
            if current != etag:
                raise _precondition_failed()
        response = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **args)
        return str(
            response.get("ETag") or self.client.head_object(Bucket=self.bucket, Key=key)["ETag"]
        )

    def _release(self, workspace: str, key: str, etag: str) -> None:
        """Delete our lock object, and only ours: after a force-unlock someone else's lock may
        be there now."""
        try:
            if self._conditional("DeleteObject"):
                try:
                    self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
                    return
                except Exception as exc:
                    if is_kind(exc, PreconditionFailed) or is_not_found(exc):
                        raise
                    # A store without conditional deletes: compare, then delete, below.
            if self.client.head_object(Bucket=self.bucket, Key=key)["ETag"] != etag:
                raise _precondition_failed()
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if is_not_found(exc):
                return  # released already (force-unlock)
            if is_kind(exc, PreconditionFailed):
                _warn(
                    f"the lock of workspace {workspace} (s3://{self.bucket}/{key}) is no longer "
                    "the one this run took (released with force-unlock and taken by another "
                    "run?): left in place"
                )
                return
            raise

    def force_unlock(self, workspace: str) -> bool:
        key = self.key(workspace, ".tflock")
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True


class _Heartbeat(threading.Thread):
    """Renews one S3 lock while its holder runs: every LOCK_HEARTBEAT_SECONDS, the lock object
    is rewritten with a fresh `heartbeat` time, only if it is still the object this run wrote
    last (`If-Match` its ETag). A lock that is gone or someone else's now is never touched
    again (`lost`); a failed renewal (throttling, network) is retried at the next beat."""

    def __init__(
        self, backend: S3Backend, workspace: str, key: str, held: dict[str, Any], etag: str
    ) -> None:
        super().__init__(name=f"lock-heartbeat-{workspace}", daemon=True)
        self.backend = backend
        self.workspace = workspace
        self.key = key
        self.held = held
        self.etag = etag
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stopped.wait(LOCK_HEARTBEAT_SECONDS):
            if not self.beat():
                return

    def beat(self) -> bool:
        body = json.dumps({**self.held, "heartbeat": _now()}).encode()
        try:
            self.etag = self.backend._put_if_match(self.key, body, self.etag)
        except Exception as exc:
            if is_kind(exc, PreconditionFailed) or is_not_found(exc):
                self.lost = True
                _warn(
                    f"the lock of workspace {self.workspace} "
                    f"(s3://{self.backend.bucket}/{self.key}) was released by someone else "
                    "(force-unlock?) while this run held it: it is no longer renewed"
                )
                return False
        return True


def _precondition_failed() -> Exception:
    from botocore.exceptions import ClientError

    error = {"Error": {"Code": "PreconditionFailed", "Message": "ETag differs"}}
    return ClientError(error, "PutObject")


def _warn(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr, flush=True)


def create_bucket(client: Any, bucket: str, region: str, kms_key_id: str | None = None) -> bool:
    """Create the state bucket if absent: versioned, encrypted, public access blocked.
    Returns whether it was created. Settings are (re)applied either way."""
    created = False
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        if not is_not_found(exc):
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
    _expire_old_lock_versions(client, bucket)
    return created


def _expire_old_lock_versions(client: Any, bucket: str) -> None:
    """Each lock renewal leaves a noncurrent version: expire those after a day, keeping the
    state's own history and any rule the bucket already has."""
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except Exception as exc:
        if not is_not_found(exc):
            raise
        rules = []
    ours = {
        "ID": LOCK_RULE_ID,
        "Filter": {"Tag": {"Key": LOCK_TAG[0], "Value": LOCK_TAG[1]}},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }
    others = [rule for rule in rules if rule.get("ID") != LOCK_RULE_ID]
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [*others, ours]}
    )


def atomic_write(path: Path, data: bytes, keep_backup: bool = True) -> None:
    """Write to a temporary file and rename it over the old one: never half-written. State
    keeps the previous version beside it (`.backup`); a user's file (the spec) need not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup:
            _replace_keeping_backup(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, f"{tmp}.backup"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise


def _replace_keeping_backup(tmp: str, path: Path) -> None:
    """Put `tmp` in place of `path`, keeping the old file as `path.backup`.

    The state file exists at every instant: the backup is made by a hard link, renamed over the
    old backup, and only then is the new file renamed over the state file. (Renaming the state
    file to the backup first left a moment without any state file: a `kill -9` then made the
    next run believe that nothing existed, and create everything again.)
    """
    if path.exists():
        backup = path.with_name(path.name + ".backup")
        link = f"{tmp}.backup"
        try:
            os.link(path, link)
        except OSError:  # no hard links on this file system: a copy does the same
            import shutil

            shutil.copy2(path, link)
        os.replace(link, backup)
    os.replace(tmp, path)
