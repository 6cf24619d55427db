"""CLI failure paths: each a clear message and exit 1, nothing written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under the state directory, byte for byte."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


@pytest.fixture
def applied_primary(aws: None, tmp_path: Path, capsys: Any) -> Path:
    """A state directory after applying the primary workspace into in-process moto."""
    from deployer import cli

    state_dir = tmp_path / "applied"
    code = cli.main(
        [
            "--spec",
            str(REPO / "spec.yaml"),
            "--state-dir",
            str(state_dir),
            "apply",
            "--auto-approve",
            "--region",
            "primary",
        ]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    capsys.readouterr()
    return state_dir


BAD_STATE = {
    "truncated": (lambda text: text[: len(text) // 2], "unreadable or corrupt"),
    "newer format": (
        lambda text: text.replace('"version": ', '"version": 99, "was": ', 1),
        "newer than this deployer",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_STATE))
def test_bad_state_file_is_refused_and_left_byte_identical(
    applied_primary: Path, tmp_path: Path, capsys: Any, kind: str
) -> None:
    from deployer import cli

    spoil, message = BAD_STATE[kind]
    state_file = applied_primary / "primary.tfstate.json"
    state_file.write_text(spoil(state_file.read_text()))
    before = snapshot(applied_primary)
    for command in (["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
        code = cli.main(
            ["--spec", str(REPO / "spec.yaml"), "--state-dir", str(applied_primary), *command]
        )
        err = capsys.readouterr().err
        assert code == 1, (command, err)
        assert message in err and "primary.tfstate.json" in err, err
        assert snapshot(applied_primary) == before, command


def test_replacing_the_database_is_refused_and_changes_nothing(
    applied_primary: Path, tmp_path: Path, capsys: Any
) -> None:
    from deployer import cli

    changed = tmp_path / "spec.yaml"
    text = (REPO / "spec.yaml").read_text()
    assert "database_name: payments\n" in text
    changed.write_text(text.replace("database_name: payments\n", "database_name: ledger\n"))
    before = snapshot(applied_primary)

    code = cli.main(
        [
            "--spec",
            str(changed),
            "--state-dir",
            str(applied_primary),
            "apply",
            "--auto-approve",
            "--region",
            "primary",
        ]
    )

    err = capsys.readouterr().err
    assert code == 1
    assert "aws_db_instance.main" in err and "--allow-replace" in err, err
    assert snapshot(applied_primary) == before


@pytest.mark.parametrize("failure", ["endpoint that does not answer", "missing credentials"])
def test_unreachable_aws_leaves_state_byte_identical(
    applied_primary: Path, tmp_path: Path, failure: str
) -> None:
    target = tmp_path / "copy"
    (target / "state").mkdir(parents=True)
    for name in ("primary.tfstate.json", "secondary.tfstate.json"):
        if (applied_primary / name).exists():
            (target / "state" / name).write_bytes((applied_primary / name).read_bytes())
    before = snapshot(target / "state")
    if failure == "missing credentials":
        result = run_cli(
            target, "--endpoint-url", "http://aws.example.invalid", "apply", "--auto-approve"
        )
        expected = "no AWS credentials found"
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        result = run_cli(
            target,
            "--endpoint-url",
            f"http://127.0.0.1:{port}",
            "apply",
            "--auto-approve",
            env={"AWS_MAX_ATTEMPTS": "1"},
        )
        expected = "cannot reach the AWS endpoint"
    assert result.returncode == 1
    assert expected in result.stderr
    assert snapshot(target / "state") == before
