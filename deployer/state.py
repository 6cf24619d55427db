"""Per-workspace state: what the deployer made, written atomically after every operation.

A state file records, per resource address, its Terraform type, live id, the attributes last
applied (resolved desired, never a secret) and the live attributes read back. An entry whose
`status` is `creating` is an intent recorded before a create call: after a crash the next run
looks for what that call may have made and adopts it.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployer.aws import DeployerError
from deployer.model import is_write_only

FORMAT_VERSION = 1

# Attributes that may hold a secret: never written to state, whatever a driver returns.
SECRET_ATTRIBUTES = frozenset(
    {"password", "master_password", "secret_string", "secret_binary", "private_key"}
)


def without_secrets(value: Any) -> Any:
    """A copy of `value` without any attribute that may hold a secret."""
    if isinstance(value, dict):
        return {
            k: without_secrets(v)
            for k, v in value.items()
            if not ((k in SECRET_ATTRIBUTES and isinstance(v, str)) or is_write_only(k))
        }
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


class StateError(DeployerError):
    pass


class LockedError(StateError):
    pass


@dataclass
class State:
    """One workspace's state; every mutation is saved before the call returns."""

    path: Path
    workspace: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, state_dir: Path, workspace: str) -> State:
        path = state_dir / f"{workspace}.tfstate.json"
        if not path.exists():
            return cls(path, workspace)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StateError(
                f"{path}: the state file is unreadable or corrupt ({exc}); restore it from "
                f"{path.name}.backup or from version control before running again"
            ) from exc
        version = doc.get("version") if isinstance(doc, dict) else None
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise StateError(
                f"{path}: state format version {version!r} is newer than this deployer "
                f"understands ({FORMAT_VERSION}); upgrade the deployer"
            )
        if doc.get("workspace") != workspace or not isinstance(doc.get("resources"), dict):
            raise StateError(f"{path}: not a state file of workspace {workspace!r}")
        return cls(path, workspace, doc["resources"], int(doc.get("serial", 0)))

    def get(self, address: str) -> dict[str, Any] | None:
        return self.resources.get(address)

    def record(self, address: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.resources[address] = without_secrets(entry)
            self._save()

    def forget(self, address: str) -> None:
        with self._lock:
            if self.resources.pop(address, None) is not None:
                self._save()

    def addresses(self) -> list[str]:
        return sorted(self.resources)

    def _save(self) -> None:
        """Write to a temporary file and rename it over the old one: never half-written."""
        self.serial += 1
        doc = {
            "version": FORMAT_VERSION,
            "workspace": self.workspace,
            "serial": self.serial,
            "resources": dict(sorted(self.resources.items())),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle, indent=2, sort_keys=False, default=str)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            if self.path.exists():
                os.replace(self.path, self.path.with_name(self.path.name + ".backup"))
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def workspace_lock(state_dir: Path, workspace: str, operation: str) -> Iterator[None]:
    """An exclusive lock per workspace: a second holder fails at once, naming the first."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{workspace}.lock"
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "operation": operation,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise LockedError(_lock_message(path, workspace)) from None
    with os.fdopen(fd, "w") as handle:
        json.dump(holder, handle)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _lock_message(path: Path, workspace: str) -> str:
    try:
        held = json.loads(path.read_text())
    except (OSError, ValueError):
        held = {}
    who = f"pid {held.get('pid', '?')} on {held.get('host', '?')}"
    text = (
        f"workspace {workspace} is locked by {who} ({held.get('operation', '?')}) "
        f"since {held.get('since', '?')}"
    )
    same_host = held.get("host") == socket.gethostname()
    if same_host and isinstance(held.get("pid"), int) and not _pid_alive(held["pid"]):
        text += (
            f"; that process is no longer running: release the stale lock with "
            f"`deployer force-unlock {workspace}`"
        )
    return text


def force_unlock(state_dir: Path, workspace: str) -> bool:
    path = state_dir / f"{workspace}.lock"
    if not path.exists():
        return False
    path.unlink()
    return True
