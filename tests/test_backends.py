"""State backends: the S3 backend and its conditional-write lock, `init --migrate`, and locks
seen through the CLI (a stale local lock, two applies racing on one S3 workspace)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import sandbox
from deployer.backends import LocalBackend, S3Backend, create_bucket
from deployer.state import LockedError, State

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state_dir = tmp_path_factory.mktemp("sandbox")
    info = sandbox.start(state_dir)
    try:
        yield info.endpoint
    finally:
        sandbox.stop(state_dir)


def s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def command(endpoint: str, state_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "deployer",
        "--spec",
        str(REPO / "spec.yaml"),
        "--state-dir",
        str(state_dir),
        "--endpoint-url",
        endpoint,
        *args,
    ]


def env() -> dict[str, str]:
    return {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01"}


def run(endpoint: str, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(endpoint, state_dir, *args),
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=600,
    )


def test_s3_lock_is_a_conditional_write_naming_the_holder(emulator: str) -> None:
    client = s3(emulator)
    assert create_bucket(client, "state-lock-unit", "us-east-1")
    backend = S3Backend(client, "state-lock-unit", "env/dev")
    with backend.lock("primary", "apply"):
        body = json.loads(
            client.get_object(Bucket="state-lock-unit", Key="env/dev/primary.tflock")["Body"].read()
        )
        assert body["pid"] == os.getpid() and body["operation"] == "apply" and body["since"]
        began = time.monotonic()
        with (
            pytest.raises(LockedError, match=rf"locked .* by pid {os.getpid()} .*\(apply\) since"),
            backend.lock("primary", "plan"),
        ):
            pass
        assert time.monotonic() - began < 5  # at once, no waiting
        with backend.lock("secondary", "apply"):
            pass  # another workspace is independent
    with backend.lock("primary", "apply"):
        pass  # released on exit
    assert not backend.force_unlock("primary")


def test_s3_state_round_trip_is_versioned_and_encrypted(emulator: str, tmp_path: Path) -> None:
    client = s3(emulator)
    create_bucket(client, "state-roundtrip", "us-east-1")
    assert client.get_bucket_versioning(Bucket="state-roundtrip")["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket="state-roundtrip")[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = client.get_public_access_block(Bucket="state-roundtrip")
    assert all(block["PublicAccessBlockConfiguration"].values())
    backend = S3Backend(client, "state-roundtrip", "p")
    state = State.load(tmp_path, "primary", backend)
    state.record("aws_vpc.main", {"type": "aws_vpc", "status": "created", "id": "vpc-1"})
    state.record("aws_vpc.main", {"type": "aws_vpc", "status": "created", "id": "vpc-2"})
    again = State.load(tmp_path, "primary", backend)
    assert again.get("aws_vpc.main") == {"type": "aws_vpc", "status": "created", "id": "vpc-2"}
    versions = client.list_object_versions(Bucket="state-roundtrip", Prefix="p/primary")
    assert len(versions["Versions"]) == 2
    assert not (tmp_path / "primary.tfstate.json").exists()  # nothing written locally


def test_stale_local_lock_is_reported_through_the_cli(emulator: str, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    code = (
        "import os, sys; from pathlib import Path; from deployer.state import workspace_lock\n"
        "cm = workspace_lock(Path(sys.argv[1]), 'primary', 'apply'); cm.__enter__(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(state_dir)], check=True, cwd=REPO)
    held = json.loads((state_dir / "primary.lock").read_text())

    blocked = run(emulator, state_dir, "plan", "--region", "primary")
    assert blocked.returncode == 1
    assert f"workspace primary is locked by pid {held['pid']} on {held['host']} (apply)" in (
        blocked.stderr
    )
    assert f"since {held['since']}" in blocked.stderr
    assert "no longer running" in blocked.stderr
    assert "`deployer force-unlock primary`" in blocked.stderr

    released = run(emulator, state_dir, "force-unlock", "primary")
    assert released.returncode == 0 and "Released the lock of workspace primary" in released.stdout
    assert not (state_dir / "primary.lock").exists()
    assert run(emulator, state_dir, "force-unlock", "primary").stdout.startswith("Workspace")


def test_init_creates_the_bucket_and_migrates_local_state(emulator: str, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    local = State.load(state_dir, "primary")
    local.record("aws_vpc.main", {"type": "aws_vpc", "status": "created", "id": "vpc-9"})
    before = (state_dir / "primary.tfstate.json").read_bytes()

    missing = run(emulator, state_dir, "--backend-bucket", "state-init-test", "init")
    assert missing.returncode == 1 and "--create-bucket" in missing.stderr

    done = run(
        emulator,
        state_dir,
        "--backend-bucket",
        "state-init-test",
        "--backend-prefix",
        "payments",
        "init",
        "--create-bucket",
        "--migrate",
    )
    assert done.returncode == 0, done.stderr
    assert "Migrated" in done.stdout
    client = s3(emulator)
    remote = client.get_object(Bucket="state-init-test", Key="payments/primary.tfstate.json")
    assert remote["Body"].read() == before
    assert client.get_bucket_versioning(Bucket="state-init-test")["Status"] == "Enabled"
    # Later commands use the recorded backend without flags; force-unlock reaches S3.
    client.put_object(Bucket="state-init-test", Key="payments/primary.tflock", Body=b"{}")
    released = run(emulator, state_dir, "force-unlock", "primary")
    assert "Released" in released.stdout, released.stderr
    assert json.loads((state_dir / "backend.json").read_text())["bucket"] == "state-init-test"


def test_two_applies_racing_exactly_one_proceeds(emulator: str, tmp_path: Path) -> None:
    client = s3(emulator)
    create_bucket(client, "state-apply-race", "us-east-1")
    backend = S3Backend(client, "state-apply-race", "")
    flags = ("--backend-bucket", "state-apply-race")
    first = subprocess.Popen(
        command(emulator, tmp_path / "a", *flags, "apply", "--auto-approve", "--region", "primary"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=REPO,
    )
    # Wait until the first holds the lock, then start the second.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client.head_object(Bucket="state-apply-race", Key="primary.tflock")
            break
        except Exception:
            time.sleep(0.05)
    else:
        pytest.fail("the first apply never took the lock")
    began = time.monotonic()
    second = run(emulator, tmp_path / "b", *flags, "apply", "--auto-approve", "--region", "primary")
    assert second.returncode == 1
    assert time.monotonic() - began < 30  # fails at once, not after the first finishes
    assert (
        f"workspace primary is locked (s3://state-apply-race/primary.tflock) by pid {first.pid}"
        in (second.stderr)
    )
    assert "(apply) since" in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    assert State.load(tmp_path / "a", "primary", backend).addresses()  # the state is in S3
    assert not (tmp_path / "a" / "primary.tfstate.json").exists()
    assert LocalBackend(tmp_path / "b").read("primary") is None
