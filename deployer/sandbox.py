"""Lifecycle of the local AWS emulator behind ``deployer sandbox start|stop|status``.

The emulator (``python -m emulator``, which needs moto: the ``sandbox`` extra) runs detached, in
its own session, on a loopback port. Its pid file ``STATE_DIR/sandbox.json`` (pid, port,
endpoint, started_at) is written atomically once the server answers HTTP; its output goes to
``STATE_DIR/sandbox.log``. A lock file ``STATE_DIR/sandbox.lock`` serialises concurrent
start/stop/status calls. POSIX only.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployer.aws import DeployerError
from emulator import EXIT_ADDRESS_IN_USE

HOST = "127.0.0.1"
PID_FILE = "sandbox.json"
LOG_FILE = "sandbox.log"
LOCK_FILE = "sandbox.lock"
START_TIMEOUT = 20.0  # seconds for the server to answer HTTP
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL
_POLL_INTERVAL = 0.1
_PORT_ATTEMPTS = 3  # when the port is picked here and another process takes it meanwhile
# The module the emulator runs as; its process is recognised by it (`-m emulator`) in /proc.
EMULATOR_MODULE = "emulator"
# What installs the emulator's moto, which the deployer's own dependencies leave out.
SANDBOX_INSTALL = "pip install 'deployer[sandbox]'"

# Dummy credentials for talking to the sandbox; moto maps them to account 123456789012.
SANDBOX_CREDENTIALS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# Emulators started by this process, kept so that stop() reaps them (no zombie, no
# "still running" ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


class SandboxError(DeployerError, RuntimeError):
    """The sandbox could not be started or stopped (the CLI prints the message and exits 1)."""


@dataclass(frozen=True)
class SandboxInfo:
    """A running sandbox: its process, port, endpoint URL and start time (ISO 8601, UTC)."""

    pid: int
    port: int
    endpoint: str
    started_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxInfo:
        return cls(
            pid=int(data["pid"]),
            port=int(data["port"]),
            endpoint=str(data["endpoint"]),
            started_at=str(data["started_at"]),
        )


def start(state_dir: Path, port: int | None = None) -> SandboxInfo:
    """Start the emulator, or return the one already running for ``state_dir``.

    With ``port`` None a free loopback port is picked. Raises ``SandboxError`` if moto is not
    installed, and (with the tail of the log) if the server dies or does not answer within
    ``START_TIMEOUT`` seconds.
    """
    if importlib.util.find_spec("moto") is None:
        raise SandboxError(
            "the local emulator needs moto, which a production install leaves out: install the "
            f"deployer with its sandbox extra ({SANDBOX_INSTALL})"
        )
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with _locked(state_dir):
        running = _live_info(state_dir)
        if running is not None:
            return running
        for _ in range(1 if port is not None else _PORT_ATTEMPTS):
            info = _spawn(state_dir, port if port is not None else _free_port())
            if info is not None:
                _write_pid_file(state_dir, info)
                return info
        raise SandboxError(
            f"the emulator could not bind a port on {HOST}\n{_log_tail(state_dir / LOG_FILE)}"
        )


def stop(state_dir: Path) -> bool:
    """Stop the sandbox (SIGTERM, SIGKILL after ``STOP_TIMEOUT``); False if none was running."""
    state_dir = Path(state_dir)
    if not state_dir.is_dir():
        return False
    with _locked(state_dir):
        info = _read_pid_file(state_dir)
        if info is None:
            return False
        was_running = _is_running(info.pid)
        if was_running:
            _terminate(info.pid)
        _remove_pid_file(state_dir)
        return was_running


def status(state_dir: Path) -> SandboxInfo | None:
    """The running sandbox, or None (a stale pid file is removed)."""
    state_dir = Path(state_dir)
    if not (state_dir / PID_FILE).exists():  # never started here: look, write nothing
        return None
    with _locked(state_dir):
        return _live_info(state_dir)


def running_endpoint(state_dir: Path) -> str | None:
    """The endpoint URL of the running sandbox, or None."""
    info = status(state_dir)
    return info.endpoint if info is not None else None


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    with open(state_dir / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _live_info(state_dir: Path) -> SandboxInfo | None:
    info = _read_pid_file(state_dir)
    if info is not None and not _is_running(info.pid):
        _remove_pid_file(state_dir)
        return None
    return info


def _read_pid_file(state_dir: Path) -> SandboxInfo | None:
    path = state_dir / PID_FILE
    try:
        return SandboxInfo.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: treat as stale
        return None


def _write_pid_file(state_dir: Path, info: SandboxInfo) -> None:
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=f".{PID_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(info.to_dict(), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, state_dir / PID_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_pid_file(state_dir: Path) -> None:
    (state_dir / PID_FILE).unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _emulator_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import this very `emulator` (beside this `deployer`), installed or not.
    package_root = str(Path(__file__).resolve().parent.parent)
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = package_root + (os.pathsep + pythonpath if pythonpath else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _spawn(state_dir: Path, port: int) -> SandboxInfo | None:
    """Start the server on ``port`` and wait until it answers; None if the port was taken."""
    log_path = state_dir / LOG_FILE
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", EMULATOR_MODULE, "--host", HOST, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=state_dir,
            env=_emulator_env(),
            start_new_session=True,
        )
    _children[proc.pid] = proc
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    endpoint = f"http://{HOST}:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        code = proc.poll()
        if code is not None:
            _children.pop(proc.pid, None)
            if code == EXIT_ADDRESS_IN_USE:
                return None
            raise SandboxError(
                f"the emulator exited with status {code} while starting; "
                f"last lines of {log_path}:\n{_log_tail(log_path)}"
            )
        if _answers(endpoint):
            return SandboxInfo(pid=proc.pid, port=port, endpoint=endpoint, started_at=started_at)
        if time.monotonic() > deadline:
            _terminate(proc.pid)
            raise SandboxError(
                f"the emulator did not answer on {endpoint} within {START_TIMEOUT:.0f} s; "
                f"last lines of {log_path}:\n{_log_tail(log_path)}"
            )
        time.sleep(_POLL_INTERVAL)


def _answers(endpoint: str) -> bool:
    """Whether an HTTP server answers at ``endpoint`` (any status counts)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(f"{endpoint}/moto-api/", timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def _is_running(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) emulator process."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc_dir = Path("/proc") / str(pid)
    if not proc_dir.is_dir():  # no procfs (macOS): trust the signal check
        return True
    try:
        state = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc_dir / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # A zombie, or a recycled pid that is no longer the emulator, counts as not running.
    return state != "Z" and f"\0-m\0{EMULATOR_MODULE}\0".encode() in cmdline


def _terminate(pid: int) -> None:
    """SIGTERM the emulator's process group, SIGKILL it after ``STOP_TIMEOUT``, reap it."""
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        if not _send_signal(pid, sig):
            break
        deadline = time.monotonic() + timeout
        while _is_running(pid) and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
        if not _is_running(pid):
            break
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)
    if _is_running(pid):
        raise SandboxError(f"the emulator (pid {pid}) did not stop")


def _send_signal(pid: int, sig: signal.Signals) -> bool:
    """Signal the emulator's process group (it leads one: start_new_session), else the process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
        return True
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"
