"""State backends: the S3 backend and its conditional-write lock (with its heartbeat), `init
--migrate`, locks seen through the CLI (a stale local lock, a stale S3 lock, two applies racing on
one S3 workspace), and the read-only commands reading the state from S3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import backends, sandbox
from deployer.backends import LocalBackend, S3Backend, create_bucket
from deployer.resource import resource_driver
from deployer.state import LockedError, State

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


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


def test_old_lock_versions_expire_and_other_lifecycle_rules_stay(emulator: str) -> None:
    client = s3(emulator)
    create_bucket(client, "state-lifecycle", "us-east-1")
    theirs = {
        "ID": "keep-logs-a-year",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 365},
    }
    rules = client.get_bucket_lifecycle_configuration(Bucket="state-lifecycle")["Rules"]
    client.put_bucket_lifecycle_configuration(
        Bucket="state-lifecycle", LifecycleConfiguration={"Rules": [*rules, theirs]}
    )
    create_bucket(client, "state-lifecycle", "us-east-1")  # settings applied again

    rules = client.get_bucket_lifecycle_configuration(Bucket="state-lifecycle")["Rules"]
    assert sorted(r["ID"] for r in rules) == [backends.LOCK_RULE_ID, "keep-logs-a-year"]
    (ours,) = [r for r in rules if r["ID"] == backends.LOCK_RULE_ID]
    assert ours["Filter"] == {"Tag": {"Key": "deployer-lock", "Value": "true"}}
    assert ours["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    with S3Backend(client, "state-lifecycle", "").lock("primary", "apply"):
        tags = client.get_object_tagging(Bucket="state-lifecycle", Key="primary.tflock")["TagSet"]
        assert tags == [{"Key": "deployer-lock", "Value": "true"}]


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


def test_two_applies_racing_on_local_state_exactly_one_proceeds(
    fresh_emulator: str, tmp_path: Path
) -> None:
    state_dir = tmp_path / "shared"
    lock = state_dir / "primary.lock"
    first = subprocess.Popen(
        command(fresh_emulator, state_dir, "apply", "--auto-approve", "--region", "primary"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=REPO,
    )
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text()):  # taken, and its holder written
        if time.monotonic() > deadline:
            pytest.fail("the first apply never took the lock")
        time.sleep(0.05)
    began = time.monotonic()
    second = run(fresh_emulator, state_dir, "apply", "--auto-approve", "--region", "primary")
    assert second.returncode == 1
    assert time.monotonic() - began < 30  # fails at once, not after the first finishes
    assert f"workspace primary is locked by pid {first.pid}" in second.stderr
    assert "(apply) since" in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    assert not lock.exists()
    assert State.load(state_dir, "primary").addresses()  # the first one's, complete


def lock_body(client: Any, bucket: str, key: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    return body


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="seconds")


def test_s3_lock_with_an_old_heartbeat_is_reported_stale(emulator: str) -> None:
    client = s3(emulator)
    create_bucket(client, "state-lock-stale", "us-east-1")
    backend = S3Backend(client, "state-lock-stale", "")
    other = {"pid": 4242, "host": "ci-runner-elsewhere", "operation": "apply", "since": ago(60)}

    client.put_object(
        Bucket="state-lock-stale",
        Key="primary.tflock",
        Body=json.dumps({**other, "heartbeat": ago(10)}).encode(),
    )
    with pytest.raises(LockedError) as stale, backend.lock("primary", "apply"):
        pass
    message = str(stale.value)
    assert "by pid 4242 on ci-runner-elsewhere (apply)" in message
    assert "last heartbeat 10 minutes ago" in message
    assert "the lock is stale" in message and "not been renewed for 10 minutes" in message
    assert "`deployer force-unlock primary`" in message
    assert lock_body(client, "state-lock-stale", "primary.tflock")["pid"] == 4242  # not stolen

    # A holder on another host that still renews its lock is not stale, however old the lock.
    client.put_object(
        Bucket="state-lock-stale",
        Key="primary.tflock",
        Body=json.dumps({**other, "heartbeat": ago(0.5)}).encode(),
    )
    with pytest.raises(LockedError) as live, backend.lock("primary", "apply"):
        pass
    assert re.search(r"last heartbeat 3\d seconds ago \(if that process is gone", str(live.value))
    assert "is stale" not in str(live.value) and "if that process is gone" in str(live.value)

    # A lock without heartbeats (an older deployer) is never called stale by its age.
    client.put_object(
        Bucket="state-lock-stale", Key="primary.tflock", Body=json.dumps(other).encode()
    )
    with pytest.raises(LockedError) as old, backend.lock("primary", "apply"):
        pass
    assert "is stale" not in str(old.value) and "heartbeat" not in str(old.value)


@pytest.mark.parametrize("if_match", [True, False], ids=["if-match", "older-botocore"])
def test_live_s3_lock_heartbeat_advances_and_never_touches_another_lock(
    emulator: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    if_match: bool,
) -> None:
    client = s3(emulator)
    create_bucket(client, "state-lock-heartbeat", "us-east-1")
    backend = S3Backend(client, "state-lock-heartbeat", "")
    if not if_match:  # a botocore without If-Match: compare the ETag, then write
        monkeypatch.setattr(backend, "_conditional", lambda operation: False)
    key = "primary.tflock"
    monkeypatch.setattr(backends, "LOCK_HEARTBEAT_SECONDS", 0.2)
    with backend.lock("primary", "apply"):
        first = lock_body(client, "state-lock-heartbeat", key)
        assert first["heartbeat"] == first["since"]
        deadline = time.monotonic() + 10
        while (now := lock_body(client, "state-lock-heartbeat", key))["heartbeat"] == first[
            "heartbeat"
        ]:
            assert time.monotonic() < deadline, "the heartbeat never advanced"
            time.sleep(0.1)
        assert now["heartbeat"] > first["heartbeat"]
        assert {k: now[k] for k in ("pid", "host", "operation", "since")} == {
            k: first[k] for k in ("pid", "host", "operation", "since")
        }

        # Someone force-unlocks it and another run takes the lock: the heartbeat's conditional
        # write (If-Match) fails, so it stops and leaves the other lock alone...
        assert backend.force_unlock("primary")
        theirs = {"pid": 1, "host": "elsewhere", "operation": "apply", "since": ago(0)}
        client.put_object(Bucket="state-lock-heartbeat", Key=key, Body=json.dumps(theirs).encode())
        time.sleep(1.0)  # five heartbeat intervals
        assert lock_body(client, "state-lock-heartbeat", key) == theirs
    # ... and so does the release: their lock is still there.
    assert lock_body(client, "state-lock-heartbeat", key) == theirs
    assert "no longer renewed" in capsys.readouterr().err

    # The same when the lock changes hands between two heartbeats: the release's conditional
    # delete refuses.
    assert backend.force_unlock("primary")
    monkeypatch.setattr(backends, "LOCK_HEARTBEAT_SECONDS", 3600.0)
    with backend.lock("primary", "apply"):
        assert backend.force_unlock("primary")
        client.put_object(Bucket="state-lock-heartbeat", Key=key, Body=json.dumps(theirs).encode())
    assert lock_body(client, "state-lock-heartbeat", key) == theirs
    assert "left in place" in capsys.readouterr().err
    assert backend.force_unlock("primary")
    with backend.lock("primary", "apply"):
        pass
    assert not backend.force_unlock("primary")  # an ordinary release deletes the lock


def test_commands_read_s3_state_and_a_stale_lock_is_force_unlocked(
    fresh_emulator: str, tmp_path: Path
) -> None:
    """Every command sees the configured backend (flags, spec.yaml, or what `init` recorded),
    with nothing in the local state directory; a stale S3 lock blocks until force-unlock."""
    emulator = fresh_emulator
    from deployer.cli import outputs_of
    from deployer.graph import build_graph
    from deployer.spec import load_spec

    bucket = "state-cli-reads"
    client = s3(emulator)
    create_bucket(client, bucket, "us-east-1")
    flags = ("--backend-bucket", bucket, "--backend-region", "us-east-1")
    dead = {"pid": 4242, "host": "ci-runner-elsewhere", "operation": "apply", "since": ago(60)}
    client.put_object(
        Bucket=bucket, Key="primary.tflock", Body=json.dumps({**dead, "heartbeat": ago(10)})
    )

    applier = tmp_path / "applier"
    blocked = run(emulator, applier, *flags, "apply", "--auto-approve", "--region", "primary")
    assert blocked.returncode == 1
    assert f"locked (s3://{bucket}/primary.tflock) by pid 4242 on ci-runner-elsewhere" in (
        blocked.stderr
    )
    assert "last heartbeat 10 minutes ago; the lock is stale" in blocked.stderr
    assert "`deployer force-unlock primary`" in blocked.stderr

    released = run(emulator, applier, *flags, "force-unlock", "primary")
    assert released.returncode == 0 and "Released the lock of workspace primary" in released.stdout
    applied = run(emulator, applier, *flags, "apply", "--auto-approve", "--region", "primary")
    assert applied.returncode == 0, applied.stderr[-3000:]

    state = State.load(tmp_path / "unused", "primary", S3Backend(client, bucket, ""))
    created = {a: str(e["id"]) for a in state.addresses() if (e := state.get(a) or {})["id"]}
    assert created and "aws_vpc.main" in created
    spec = load_spec(REPO / "spec.yaml")
    expected = outputs_of(
        build_graph(spec, ["primary"]),
        {"primary": state, "secondary": State.load(tmp_path / "unused", "secondary")},
    )
    assert expected["primary"]

    # `output` through the flags, from an empty state directory.
    reader = tmp_path / "reader"
    shown = run(emulator, reader, *flags, "output", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == expected
    assert json.loads(run(emulator, reader, "output", "--json").stdout) == {}  # local: nothing

    # `output` through spec.yaml's `backend`.
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        (REPO / "spec.yaml").read_text()
        + f"\nbackend:\n  type: s3\n  bucket: {bucket}\n  region: us-east-1\n"
    )
    by_spec = subprocess.run(
        [
            *(sys.executable, "-m", "deployer", "--spec", str(spec_file)),
            *("--state-dir", str(tmp_path / "by-spec"), "--endpoint-url", emulator),
            *("output", "--json"),
        ],
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=600,
    )
    assert by_spec.returncode == 0, by_spec.stderr
    assert json.loads(by_spec.stdout) == expected

    # `export-hcl --with-imports` and `plan` through what `init` recorded in backend.json.
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "backend.json").write_text(
        json.dumps({"bucket": bucket, "region": "us-east-1", "prefix": ""})
    )
    exported = run(
        emulator, recorded, "export-hcl", "--out", str(tmp_path / "tf"), "--with-imports"
    )
    assert exported.returncode == 0, exported.stderr
    imports = (tmp_path / "tf" / "imports.tf").read_text()
    # Each by the id its type's import documentation asks for (`subnet/rtb` for an association).
    entries = {a: state.get(a) or {} for a in created}
    wanted = {
        a: resource_driver(e["type"]).import_id(str(e["id"]), e.get("attributes") or {})
        for a, e in entries.items()
        if resource_driver(e["type"]).importable
    }
    assert "aws_acm_certificate_validation.api" in created.keys() - wanted.keys()
    missing = [
        a
        for a, import_id in wanted.items()
        if not re.search(rf'"{re.escape(a)}"\s+=\s+"{re.escape(import_id)}"', imports)
    ]
    assert not missing, missing
    planned = run(
        emulator, recorded, "plan", "--region", "primary", "--json", "--format", "deployer"
    )
    assert planned.returncode == 0, planned.stderr[-3000:]
    creates = [
        c for c in json.loads(planned.stdout)["changes"] if c["action"] in ("create", "replace")
    ]
    assert not creates  # it compared with the state in S3: everything exists already
    for directory in (reader, tmp_path / "by-spec", recorded):
        assert not list(directory.glob("*.tfstate.json"))  # state was never local
