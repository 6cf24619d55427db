"""Crash safety: `kill -9` an apply at several points, apply again, and count what exists.

Each case runs against its own fresh emulator, so that the inventory counted afterwards is the
work of that case alone. After the rerun, every live resource of the counted kinds must be in
state exactly once (no duplicate, no orphan), every state entry must be `created`, and a plan must
show no changes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import sandbox

REPO = Path(__file__).resolve().parent.parent
# Runs the CLI and exits 137 right after a named node's create returns (tests only).
CRASH_LAUNCHER = REPO / "tests" / "crash_launcher.py"
REGIONS = {"primary": "us-east-1", "secondary": "eu-west-1"}
PROJECT = [{"Name": "tag:Project", "Values": ["payments"]}]
pytestmark = pytest.mark.slow


@pytest.fixture
def emulator(fresh_emulator: str) -> str:
    """A fresh emulator per case: the inventory afterwards is this case's alone."""
    return fresh_emulator


def command(
    endpoint: str, state_dir: Path, *args: str, crash_after_create: str | None = None
) -> list[str]:
    """The CLI's command line; with ``crash_after_create`` (a node key), through the launcher
    that kills the process once that node's create call has returned."""
    program = (
        [str(CRASH_LAUNCHER), crash_after_create, "--"]
        if crash_after_create is not None
        else ["-m", "deployer"]
    )
    return [
        sys.executable,
        *program,
        "--spec",
        str(REPO / "spec.yaml"),
        "--state-dir",
        str(state_dir),
        "--endpoint-url",
        endpoint,
        *args,
    ]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01", **extra}


def run(
    endpoint: str,
    state_dir: Path,
    *args: str,
    crash_after_create: str | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(endpoint, state_dir, *args, crash_after_create=crash_after_create),
        capture_output=True,
        text=True,
        env=environment(**env),
        cwd=REPO,
        timeout=600,
    )


def kill_after(endpoint: str, state_dir: Path, creations: int) -> int:
    """Start an apply and SIGKILL it once `creations` resources reported completion."""
    proc = subprocess.Popen(
        command(endpoint, state_dir, "apply", "--auto-approve"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(),
        cwd=REPO,
    )
    assert proc.stdout is not None
    seen = 0
    try:
        for line in proc.stdout:
            if "Creation complete" in line:
                seen += 1
                if seen >= creations:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
    finally:
        proc.stdout.close()
        returncode = proc.wait(timeout=120)
    assert seen >= creations, f"the apply ended after {seen} creations, before the kill"
    assert returncode == -signal.SIGKILL
    return seen


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def live_inventory(endpoint: str) -> dict[tuple[str, str], list[str]]:
    """Live ids by (type, region) for the kinds a crash could duplicate or orphan."""
    found: dict[tuple[str, str], list[str]] = {}
    for region in REGIONS.values():
        ec2 = client(endpoint, "ec2", region)
        found["aws_vpc", region] = [v["VpcId"] for v in ec2.describe_vpcs(Filters=PROJECT)["Vpcs"]]
        found["aws_subnet", region] = [
            s["SubnetId"] for s in ec2.describe_subnets(Filters=PROJECT)["Subnets"]
        ]
        found["aws_nat_gateway", region] = [
            n["NatGatewayId"]
            for n in ec2.describe_nat_gateways(Filters=PROJECT)["NatGateways"]
            if n["State"] not in ("deleted", "deleting", "failed")
        ]
        found["aws_eip", region] = [
            a["AllocationId"] for a in ec2.describe_addresses(Filters=PROJECT)["Addresses"]
        ]
        found["aws_security_group", region] = [
            g["GroupId"] for g in ec2.describe_security_groups(Filters=PROJECT)["SecurityGroups"]
        ]
        kms = client(endpoint, "kms", region)
        found["aws_kms_key", region] = [
            k["KeyId"]
            for k in kms.list_keys()["Keys"]
            if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            not in ("PendingDeletion", "PendingReplicaDeletion")
        ]
        found["aws_dynamodb_table", region] = client(endpoint, "dynamodb", region).list_tables()[
            "TableNames"
        ]
        found["aws_cloudwatch_log_group", region] = [
            g["logGroupName"]
            for g in client(endpoint, "logs", region).describe_log_groups()["logGroups"]
        ]
        # Route 53 health-check alarms live in us-east-1 whatever the workspace: by name.
        found.setdefault(("aws_cloudwatch_metric_alarm", "global"), []).extend(
            a["AlarmName"]
            for a in client(endpoint, "cloudwatch", region).describe_alarms()["MetricAlarms"]
        )
        found["aws_lambda_function", region] = [
            f["FunctionName"]
            for f in client(endpoint, "lambda", region).list_functions()["Functions"]
        ]
    # Global: S3 bucket names and IAM roles (made from the primary only).
    found["aws_s3_bucket", "global"] = [
        b["Name"] for b in client(endpoint, "s3", "us-east-1").list_buckets()["Buckets"]
    ]
    found["aws_iam_role", "global"] = [
        r["RoleName"]
        for r in client(endpoint, "iam", "us-east-1").list_roles()["Roles"]
        if r["RoleName"].startswith("payments-")
    ]
    return {key: sorted(ids) for key, ids in found.items()}


GLOBAL_KINDS = ("aws_s3_bucket", "aws_iam_role", "aws_cloudwatch_metric_alarm")
# The VPC's default group, adopted and tagged, is listed live among the tagged security groups.
LIVE_KIND = {"aws_default_security_group": "aws_security_group"}


def state_inventory(state_dir: Path) -> dict[tuple[str, str], list[str]]:
    """State ids by (type, region), over the same kinds; every entry must be `created`."""
    found: dict[tuple[str, str], list[str]] = {}
    not_created: list[str] = []
    for workspace, region in REGIONS.items():
        doc = json.loads((state_dir / f"{workspace}.tfstate.json").read_text())
        for address, entry in doc["resources"].items():
            if entry.get("status") != "created":
                not_created.append(f"{workspace}:{address} ({entry.get('status')})")
                continue
            where = "global" if entry["type"] in GLOBAL_KINDS else region
            kind = LIVE_KIND.get(entry["type"], entry["type"])
            id = str(entry["id"])
            if entry["type"] == "aws_dynamodb_table_replica":
                # A table's replica: its table in this region, named `table-name:main-region`.
                kind, id = "aws_dynamodb_table", id.rpartition(":")[0]
            found.setdefault((kind, where), []).append(id)
    assert not not_created, f"entries left unfinished: {not_created}"
    return {key: sorted(ids) for key, ids in found.items()}


def assert_exactly_the_state(endpoint: str, state_dir: Path) -> None:
    live = live_inventory(endpoint)
    recorded = state_inventory(state_dir)
    problems = []
    for key, ids in sorted(live.items()):
        expected = recorded.get(key, [])
        orphans = sorted(set(ids) - set(expected))
        missing = sorted(set(expected) - set(ids))
        if orphans or missing or len(ids) != len(set(ids)):
            problems.append(f"{key}: live {ids}, state {expected}")
    assert not problems, "live resources differ from state:\n" + "\n".join(problems)
    # The spec's inventory: the counted kinds all exist, one per address.
    assert len(live["aws_vpc", "us-east-1"]) == len(live["aws_vpc", "eu-west-1"]) == 1
    assert len(live["aws_subnet", "us-east-1"]) == len(live["aws_subnet", "eu-west-1"]) == 6
    assert len(live["aws_s3_bucket", "global"]) == 2


def converge_and_check(endpoint: str, state_dir: Path) -> None:
    again = run(endpoint, state_dir, "apply", "--auto-approve")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    plan = run(endpoint, state_dir, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert_exactly_the_state(endpoint, state_dir)


@pytest.mark.parametrize("creations", [5, 40, 120])
def test_kill_9_during_apply_then_apply_converges(
    emulator: str, tmp_path: Path, creations: int
) -> None:
    state_dir = tmp_path / "state"
    kill_after(emulator, state_dir, creations)
    # The kill left a valid state file (atomic replace) and a stale lock of a dead process.
    for workspace in REGIONS:
        path = state_dir / f"{workspace}.tfstate.json"
        if path.exists():
            json.loads(path.read_text())
    blocked = run(emulator, state_dir, "apply", "--auto-approve")
    assert blocked.returncode == 1
    assert "no longer running" in blocked.stderr and "force-unlock" in blocked.stderr
    for workspace in REGIONS:
        released = run(emulator, state_dir, "force-unlock", workspace)
        assert released.returncode == 0
    converge_and_check(emulator, state_dir)


@pytest.mark.parametrize(
    "address",
    [
        "primary:aws_kms_key.s3",
        "primary:aws_vpc.main",
        "secondary:aws_subnet.private_b",
        "primary:aws_iam_role.lambda_exec",
        "primary:aws_s3_bucket.payments",
        "primary:aws_dynamodb_table.transactions",
        "secondary:aws_dynamodb_table_replica.idempotency",
    ],
)
def test_crash_between_create_and_record_is_adopted(
    emulator: str, tmp_path: Path, address: str
) -> None:
    """The hardest moment: the resource exists, state says only that it was being created."""
    state_dir = tmp_path / "state"
    crashed = run(emulator, state_dir, "apply", "--auto-approve", crash_after_create=address)
    assert crashed.returncode == 137, crashed.stdout[-2000:] + crashed.stderr[-2000:]
    workspace, name = address.split(":", 1)
    doc = json.loads((state_dir / f"{workspace}.tfstate.json").read_text())
    assert doc["resources"][name]["status"] == "creating"
    for ws in REGIONS:
        run(emulator, state_dir, "force-unlock", ws)
    converge_and_check(emulator, state_dir)
    doc = json.loads((state_dir / f"{workspace}.tfstate.json").read_text())
    assert doc["resources"][name]["status"] == "created"
