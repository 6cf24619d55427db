"""Per-workspace state: what the deployer made, written atomically after every operation.

A state file records, per resource address, its Terraform type, live id, the attributes last
applied (resolved desired, never a secret) and the live attributes read back. An entry whose
`status` is `creating` is an intent recorded before a create call: after a crash the next run
looks for what that call may have made and adopts it. `forgotten` lists the addresses that
`deployer state rm` removed (address → the id they had): the resource still exists, so the
next create of that address looks for it first and adopts it instead of making a second one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.backends import (
    Backend,
    LocalBackend,
    LockedError,
    StateError,
    atomic_write,
    lock_message,
)
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


@dataclass
class State:
    """One workspace's state; every mutation is saved before the call returns."""

    path: Path
    workspace: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial: int = 0
    forgotten: dict[str, str | None] = field(default_factory=dict)
    # Set by `deployer failover` on the region it gave up: what happened and when. Its resources
    # stay recorded but are not planned, applied or compared until `deployer failback`.
    lost: dict[str, Any] | None = None
    # What the deployer made on purpose outside the spec and keeps (ARN -> why): a failback's
    # snapshot of the stale writer. Not planned; drift does not call it unmanaged.
    kept: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    backend: Backend | None = field(default=None, repr=False)

    @classmethod
    def load(cls, state_dir: Path, workspace: str, backend: Backend | None = None) -> State:
        backend = backend or LocalBackend(state_dir)
        path = Path(backend.describe(workspace))
        data = backend.read(workspace)
        if data is None:
            return cls(path, workspace, backend=backend)
        try:
            doc = json.loads(data)
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
        forgotten = doc.get("forgotten")
        return cls(
            path,
            workspace,
            doc["resources"],
            int(doc.get("serial", 0)),
            dict(forgotten) if isinstance(forgotten, dict) else {},
            lost=doc["lost"] if isinstance(doc.get("lost"), dict) else None,
            kept=dict(doc["kept"]) if isinstance(doc.get("kept"), dict) else {},
            backend=backend,
        )

    def get(self, address: str) -> dict[str, Any] | None:
        return self.resources.get(address)

    def record(self, address: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.resources[address] = without_secrets(entry)
            self.forgotten.pop(address, None)
            self._save()

    def forget(self, address: str) -> None:
        with self._lock:
            if self.resources.pop(address, None) is not None:
                self._save()

    def remove(self, address: str) -> dict[str, Any] | None:
        """Forget a resource that still exists (`deployer state rm`): its entry goes, and the
        address is remembered as forgotten so that the next create adopts it (see above)."""
        with self._lock:
            entry = self.resources.pop(address, None)
            if entry is not None:
                self.forgotten[address] = entry.get("id")
                self._save()
            return entry

    def mark_lost(self, info: dict[str, Any] | None) -> None:
        """Record (or, with None, clear) that this workspace's region was failed away from."""
        with self._lock:
            self.lost = dict(info) if info is not None else None
            self._save()

    def keep(self, arn: str, why: str) -> None:
        with self._lock:
            self.kept[arn] = why
            self._save()

    def addresses(self) -> list[str]:
        return sorted(self.resources)

    def _save(self) -> None:
        """Written whole: an atomic rename locally, one PUT in S3; never half-written."""
        self.serial += 1
        data = self.to_bytes()
        if self.backend is None:
            atomic_write(self.path, data)
        else:
            self.backend.write(self.workspace, data)

    def to_bytes(self) -> bytes:
        doc = {
            "version": FORMAT_VERSION,
            "workspace": self.workspace,
            "serial": self.serial,
            "resources": dict(sorted(self.resources.items())),
        }
        if self.forgotten:  # absent otherwise: state files stay as they were
            doc["forgotten"] = dict(sorted(self.forgotten.items()))
        if self.lost is not None:
            doc["lost"] = self.lost
        if self.kept:
            doc["kept"] = dict(sorted(self.kept.items()))
        return (json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n").encode()


@contextmanager
def workspace_lock(
    state_dir: Path, workspace: str, operation: str, backend: Backend | None = None
) -> Iterator[None]:
    """An exclusive lock per workspace: a second holder fails at once, naming the first."""
    with (backend or LocalBackend(state_dir)).lock(workspace, operation):
        yield


def force_unlock(state_dir: Path, workspace: str, backend: Backend | None = None) -> bool:
    return (backend or LocalBackend(state_dir)).force_unlock(workspace)


__all__ = [
    "FORMAT_VERSION",
    "Backend",
    "LockedError",
    "State",
    "StateError",
    "atomic_write",
    "force_unlock",
    "lock_message",
    "without_secrets",
    "workspace_lock",
]
