"""Ctrl-C during `deployer apply`: the first press finishes what is in flight and says what
state recorded (the CLI as a subprocess against the emulator), after which the next apply
finishes the job; a second press stops at once and leaves no lock behind. (That an apply killed
at any point recovers on the next one is tests/test_crash.py's subject.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deployer import sandbox
from deployer.interrupts import INTERRUPTED_EXIT
from deployer.state import workspace_lock
from tests.test_e2e import REPO, project_resources, run

pytestmark = pytest.mark.slow


def start_apply(endpoint: str, state: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deployer",
            *("--spec", str(REPO / "spec.yaml"), "--state-dir", str(state)),
            *("--endpoint-url", endpoint, "apply", "--auto-approve", "--parallelism", "2"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def interrupt_once_working(proc: subprocess.Popen[str], presses: int) -> tuple[str, str]:
    """Press Ctrl-C `presses` times once the first resources are being created."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if sum("Creation complete" in s for s in seen) >= 3:
            break
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
    out, err = proc.communicate(timeout=300)
    return "".join(seen) + out, err


def test_ctrl_c_finishes_work_in_flight_and_says_what_to_do(
    fresh_emulator: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    proc = start_apply(fresh_emulator, state)
    out, err = interrupt_once_working(proc, presses=1)
    assert proc.returncode == 1, err[-2000:]
    assert out.count("Creation complete") < 100  # stopped well before the ~200 resources
    assert "Interrupt received: no new operation starts" in err
    assert "Apply interrupted: the operations in flight finished" in err
    assert "Run `deployer apply` again to finish." in err

    finished = run(fresh_emulator, state, "apply", "--auto-approve")
    assert finished.returncode == 0, finished.stderr[-3000:]
    live = project_resources(fresh_emulator)
    assert len(live["us-east-1 vpcs"]) == 1 and len(live["us-east-1 subnets"]) == 6
    assert run(fresh_emulator, state, "plan", "--detailed-exitcode").returncode == 0


HOLD_LOCKS_THEN_WORK = """
import sys, time
from contextlib import ExitStack
from pathlib import Path
from deployer.interrupts import graceful_interrupts
from deployer.state import workspace_lock

with ExitStack() as locks:
    for workspace in ("primary", "secondary"):
        locks.enter_context(workspace_lock(Path(sys.argv[1]), workspace, "apply"))
    with graceful_interrupts(lambda: print("stopping new work", flush=True), locks.close):
        print("working", flush=True)
        time.sleep(60)  # an operation in flight that takes long (a database)
"""


def test_a_second_ctrl_c_stops_at_once_and_releases_the_locks(tmp_path: Path) -> None:
    """The second press does not wait for the long operation in flight; the locks are gone
    with the process, so the next apply is not refused."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCKS_THEN_WORK, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "working"
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline().strip() == "stopping new work"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == INTERRUPTED_EXIT, err
    assert time.monotonic() - began < 30  # not after the minute of work
    assert "Stopped at once." in err and "run apply again" in err
    for workspace in ("primary", "secondary"):
        with workspace_lock(tmp_path, workspace, "apply"):
            pass  # free: released before the process ended
