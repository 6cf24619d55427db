"""`deployer sandbox` lifecycle: a real emulator process on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import cli, sandbox
from deployer.sandbox import SANDBOX_CREDENTIALS, SandboxError, SandboxInfo
from emulator import ENV_DEFAULTS


def _client(service: str, endpoint: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=SANDBOX_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SANDBOX_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=SANDBOX_CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(autouse=True)
def _sandbox_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # The emulator must set its own moto settings, whatever the test process has.
    for name in ENV_DEFAULTS:
        monkeypatch.delenv(name, raising=False)


def test_sandbox_lifecycle(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    assert sandbox.status(state_dir) is None
    assert sandbox.stop(state_dir) is False

    info = sandbox.start(state_dir)
    try:
        assert info.endpoint == f"http://127.0.0.1:{info.port}"
        assert sandbox.status(state_dir) == info
        assert sandbox.running_endpoint(state_dir) == info.endpoint
        assert json.loads((state_dir / "sandbox.json").read_text()) == info.to_dict()

        identity = _client("sts", info.endpoint).get_caller_identity()
        assert identity["Account"] == "123456789012"

        acm = _client("acm", info.endpoint)
        cert_arn = acm.request_certificate(DomainName="api.example.com", ValidationMethod="DNS")[
            "CertificateArn"
        ]
        cert = acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]
        assert cert["Status"] == "ISSUED"

        policy = _client("iam", info.endpoint).get_policy(
            PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
        )
        assert policy["Policy"]["PolicyName"] == "ReadOnlyAccess"

        # The RDS extension is installed in the server.
        source_arn = _client("rds", info.endpoint).create_db_instance(
            DBInstanceIdentifier="payments",
            Engine="postgres",
            DBInstanceClass="db.t3.medium",
            MasterUsername="payments",
            MasterUserPassword="not-a-real-password-1",
            AllocatedStorage=20,
            StorageEncrypted=True,
            BackupRetentionPeriod=7,
        )["DBInstance"]["DBInstanceArn"]
        key_arn = _client("kms", info.endpoint, "eu-west-1").create_key()["KeyMetadata"]["Arn"]
        replica_rds = _client("rds", info.endpoint, "eu-west-1")
        backup = replica_rds.start_db_instance_automated_backups_replication(
            SourceDBInstanceArn=source_arn, KmsKeyId=key_arn, BackupRetentionPeriod=7
        )["DBInstanceAutomatedBackup"]
        assert backup["Status"] == "replicating"
        listed = replica_rds.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
        assert [b["DBInstanceArn"] for b in listed] == [source_arn]

        assert sandbox.start(state_dir) == info
    finally:
        stopped = sandbox.stop(state_dir)
    assert stopped is True
    assert sandbox.status(state_dir) is None
    assert not (state_dir / "sandbox.json").exists()
    assert _gone(info.pid)
    assert sandbox.stop(state_dir) is False
    assert "listening" in (state_dir / "sandbox.log").read_text()


def test_stale_pid_file_is_removed(tmp_path: Path) -> None:
    pid_file = tmp_path / "sandbox.json"
    dead = SandboxInfo(pid=2**22 + 12345, port=1, endpoint="http://127.0.0.1:1", started_at="x")
    pid_file.write_text(json.dumps(dead.to_dict()))
    assert sandbox.status(tmp_path) is None
    assert not pid_file.exists()
    pid_file.write_text("not json")
    assert sandbox.running_endpoint(tmp_path) is None
    assert not pid_file.exists()


def test_start_fails_clearly_when_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SandboxError, match="could not bind") as exc:
            sandbox.start(tmp_path, port=port)
    assert "already in use" in str(exc.value)
    assert sandbox.status(tmp_path) is None


def test_start_without_moto_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A production install has no moto: `sandbox start` says which extra brings it, exit 1."""
    monkeypatch.setitem(sys.modules, "moto", None)  # as if not installed: find_spec finds none
    state_dir = tmp_path / "state"
    assert cli.main(["--state-dir", str(state_dir), "sandbox", "start"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("Error: the local emulator needs moto")
    assert "pip install 'deployer[sandbox]'" in error
    assert "Traceback" not in error
    assert not (state_dir / "sandbox.json").exists()  # nothing was started
    with pytest.raises(SandboxError, match=r"deployer\[sandbox\]"):
        sandbox.start(state_dir)
