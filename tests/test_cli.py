"""CLI failure paths: each a clear message and exit 1, nothing written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deployer.aws import DeployerError
from deployer.cli import refuse_data_loss
from deployer.planner import Action, Change, Plan

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
    )
    base.update(env or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "deployer",
            "--spec",
            str(REPO / "spec.yaml"),
            "--state-dir",
            str(tmp_path / "state"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=base,
        cwd=tmp_path,
        timeout=300,
    )


def test_endpoint_that_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli(
        tmp_path,
        "--endpoint-url",
        f"http://127.0.0.1:{port}",
        "plan",
        env={"AWS_MAX_ATTEMPTS": "1"},
    )
    assert result.returncode == 1
    assert "cannot reach the AWS endpoint" in result.stderr
    assert not (tmp_path / "state" / "primary.tfstate.json").exists()


def test_missing_credentials(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--endpoint-url", "http://aws.example.invalid", "plan")
    assert result.returncode == 1
    assert "no AWS credentials found" in result.stderr


def test_replacing_the_database_needs_consent() -> None:
    change = Change(
        "primary:aws_db_instance.main",
        "primary",
        "aws_db_instance.main",
        "aws_db_instance",
        Action.REPLACE,
        forces=["engine"],
    )
    plan = Plan({change.key: change}, ["primary"])
    with pytest.raises(DeployerError, match="--allow-replace"):
        refuse_data_loss(plan, allowed=False)
    refuse_data_loss(plan, allowed=True)
    alias = Change(
        "primary:aws_kms_alias.s3",
        "primary",
        "aws_kms_alias.s3",
        "aws_kms_alias",
        Action.REPLACE,
        forces=["name"],
    )
    refuse_data_loss(Plan({alias.key: alias}, ["primary"]), allowed=False)  # no data held
