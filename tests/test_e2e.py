"""End to end: the CLI as a subprocess against moto's server on a free loopback port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer import sandbox
from deployer.resource import resource_driver

REPO = Path(__file__).resolve().parent.parent
REGIONS = ("us-east-1", "eu-west-1")
pytestmark = pytest.mark.slow


def run(
    endpoint: str,
    state_dir: Path,
    *args: str,
    spec: Path = REPO / "spec.yaml",
    launcher: Sequence[str] = ("-m", "deployer"),
) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess against the emulator; `launcher` may be a test wrapper script
    (tests/crash_launcher.py) in place of `-m deployer`."""
    env = {**os.environ, **sandbox.SANDBOX_CREDENTIALS, "DEPLOYER_WAIT_SCALE": "0.01"}
    return subprocess.run(
        [
            sys.executable,
            *launcher,
            "--spec",
            str(spec),
            "--state-dir",
            str(state_dir),
            "--endpoint-url",
            endpoint,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def project_resources(endpoint: str) -> dict[str, list[str]]:
    """Everything of the project's kinds that exists, in both regions."""
    found: dict[str, list[str]] = {}
    for region in REGIONS:
        ec2 = client(endpoint, "ec2", region)
        project = [{"Name": "tag:Project", "Values": ["payments"]}]
        found[f"{region} vpcs"] = [v["VpcId"] for v in ec2.describe_vpcs(Filters=project)["Vpcs"]]
        found[f"{region} subnets"] = [
            s["SubnetId"] for s in ec2.describe_subnets(Filters=project)["Subnets"]
        ]
        found[f"{region} nat gateways"] = [
            n["NatGatewayId"]
            for n in ec2.describe_nat_gateways(Filters=project)["NatGateways"]
            if n["State"] not in ("deleted", "deleting")
        ]
        found[f"{region} addresses"] = [
            a["AllocationId"] for a in ec2.describe_addresses(Filters=project)["Addresses"]
        ]
        kms = client(endpoint, "kms", region)
        found[f"{region} keys"] = [
            k["KeyId"]
            for k in kms.list_keys()["Keys"]
            if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
        ]
        found[f"{region} tables"] = client(endpoint, "dynamodb", region).list_tables()["TableNames"]
        logs = client(endpoint, "logs", region)
        found[f"{region} log groups"] = [
            g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]
        ]
    found["buckets"] = [
        b["Name"] for b in client(endpoint, "s3", "us-east-1").list_buckets()["Buckets"]
    ]
    found["roles"] = [
        r["RoleName"]
        for r in client(endpoint, "iam", "us-east-1").list_roles()["Roles"]
        if r["RoleName"].startswith("payments-")
    ]
    return {kind: items for kind, items in found.items() if items}


def test_apply_plan_noop_destroy_round_trip(emulator: str, tmp_path: Path) -> None:
    state = tmp_path / "state"

    early = run(emulator, state, "apply", "--region", "eu-west-1", "--auto-approve")
    assert early.returncode == 1
    assert "primary comes first" in early.stderr
    assert project_resources(emulator) == {}

    applied = run(emulator, state, "apply", "--auto-approve", "--json")
    assert applied.returncode == 0, applied.stderr[-3000:]
    report = json.loads(applied.stdout)
    assert report["ok"] and report["summary"]["added"] > 50

    live = project_resources(emulator)
    for region in REGIONS:
        assert len(live[f"{region} vpcs"]) == 1
        assert len(live[f"{region} subnets"]) == 6
        assert len(live[f"{region} keys"]) >= 2
    assert len(live["roles"]) == len(set(live["roles"]))  # IAM roles exist once

    plan = run(emulator, state, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert "No changes." in plan.stdout

    again = run(emulator, state, "apply", "--auto-approve", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    calls = json.loads(again.stdout)["api_calls"]
    assert calls["write"] == 0, calls["by_operation"]

    clean = run(emulator, state, "drift", "--format", "json")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-2000:]
    assert json.loads(clean.stdout)["has_drift"] is False

    s3 = client(emulator, "s3", "eu-west-1")
    s3.put_bucket_versioning(
        Bucket="payments-data-eu-west-1-dev", VersioningConfiguration={"Status": "Suspended"}
    )
    drifted = run(emulator, state, "drift", "--format", "json")
    assert drifted.returncode == 2
    report = json.loads(drifted.stdout)
    [versioning] = [
        r
        for r in report["resources"]
        if r["address"] == "aws_s3_bucket_versioning.payments" and r["workspace"] == "secondary"
    ]
    assert versioning["status"] == "drifted"
    assert report["parity"]  # the regions no longer match

    healed = run(emulator, state, "apply", "--auto-approve")
    assert healed.returncode == 0, healed.stderr[-3000:]
    assert run(emulator, state, "drift").returncode == 0

    shown = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "show_requirements.py"),
            "--endpoint-url",
            emulator,
            "--spec",
            str(REPO / "spec.yaml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **sandbox.SANDBOX_CREDENTIALS},
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.count("ok ") == 10

    exported = tmp_path / "tf"
    written = run(emulator, state, "export-hcl", "--out", str(exported), "--with-imports")
    assert written.returncode == 0, written.stderr
    imports = (exported / "imports.tf").read_text()
    deployed = {
        ws: json.loads((state / f"{ws}.tfstate.json").read_text())["resources"]
        for ws in ("primary", "secondary")
    }
    importable = {
        address
        for resources in deployed.values()
        for address, entry in resources.items()
        if resource_driver(entry["type"]).importable
    }
    assert imports.count("import {") == len(importable)
    vpc_ids = {
        ws: client(emulator, "ec2", region).describe_vpcs(
            Filters=[{"Name": "tag:Workspace", "Values": [ws]}]
        )["Vpcs"][0]["VpcId"]
        for ws, region in zip(("primary", "secondary"), REGIONS, strict=True)
    }
    for ws, vpc_id in vpc_ids.items():
        assert deployed[ws]["aws_vpc.main"]["id"] == vpc_id
        assert f'"{vpc_id}"' in imports

    outputs = run(emulator, state, "output", "--json")
    assert outputs.returncode == 0
    assert set(json.loads(outputs.stdout)) == {"primary", "secondary"}

    refused = run(emulator, state, "destroy", "--region", "us-east-1", "--auto-approve")
    assert refused.returncode == 1
    assert "destroy secondary first" in refused.stderr

    protected = run(emulator, state, "destroy", "--auto-approve")
    assert protected.returncode == 1
    assert "aws_db_instance.main (primary): database payments-db-dev has deletion protection" in (
        protected.stderr
    )
    assert project_resources(emulator) == live  # refused before deleting anything

    destroyed = run(emulator, state, "destroy", "--auto-approve", "--disable-deletion-protection")
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert project_resources(emulator) == {}
    assert json.loads((state / "primary.tfstate.json").read_text())["resources"] == {}

    # Destroy then apply again, the loop of every test environment: the database secret the
    # destroy scheduled for deletion is restored and adopted, in plain words.
    assert "secret scheduled for deletion on" in destroyed.stdout
    again = run(emulator, state, "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "restored it and adopted it" in again.stdout
    secrets = client(emulator, "secretsmanager", "us-east-1")
    assert len(secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]) == 1
    # The first destroy's final snapshot is kept by name; the second would refuse to overwrite it.
    client(emulator, "rds", "us-east-1").delete_db_snapshot(
        DBSnapshotIdentifier="payments-db-final-dev"
    )
    gone = run(
        emulator,
        state,
        "destroy",
        "--auto-approve",
        "--disable-deletion-protection",
        "--no-recovery-window",
    )
    assert gone.returncode == 0, gone.stderr[-3000:]
    assert "secret deleted at once, without a recovery window" in gone.stdout
    assert secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
    assert project_resources(emulator) == {}
