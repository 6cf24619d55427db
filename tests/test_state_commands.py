"""`deployer state list|show|rm`, `deployer import` and `-target`, through the CLI against
in-process moto (issue 14, item 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import networkx as nx
import pytest

from deployer import cli
from deployer.graph import build_graph
from deployer.spec import load_spec
from deployer.state import workspace_lock

REPO = Path(__file__).resolve().parent.parent
ENDPOINT = "aws_vpc_endpoint.s3"  # a leaf of the graph: nothing refers to it
PLANNED = re.compile(r"^  # (\S+) \((primary|secondary)\) ", re.MULTILINE)


def deployer(state_dir: Path, capsys: Any, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--spec", str(REPO / "spec.yaml"), "--state-dir", str(state_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def state_doc(state_dir: Path, workspace: str = "primary") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((state_dir / f"{workspace}.tfstate.json").read_text())
    return doc


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*.json")}


def endpoints(service: str = "s3") -> list[dict[str, Any]]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found: list[dict[str, Any]] = [
        e
        for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
        if e["ServiceName"].endswith(f".{service}") and e["State"].lower() != "deleted"
    ]
    return found


@pytest.fixture
def applied(aws: None, tmp_path: Path, capsys: Any) -> Path:
    state_dir = tmp_path / "state"
    code, _, err = deployer(state_dir, capsys, "apply", "--auto-approve", "--region", "primary")
    assert code == 0, err[-2000:]
    return state_dir


def test_state_list_shows_every_recorded_address_with_its_workspace(
    applied: Path, capsys: Any
) -> None:
    recorded = state_doc(applied)["resources"]
    code, out, _ = deployer(applied, capsys, "state", "list")
    assert code == 0
    assert out.splitlines() == [f"primary:{address}" for address in sorted(recorded)]

    code, out, _ = deployer(applied, capsys, "state", "list", "--region", "eu-west-1")
    assert code == 0 and out.strip() == ""  # the secondary workspace is not applied

    code, out, _ = deployer(applied, capsys, "state", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {(r["workspace"], r["address"], r["id"]) for r in rows} == {
        ("primary", address, entry["id"]) for address, entry in recorded.items()
    }


def test_state_show_prints_the_recorded_attributes_and_never_the_secret(
    applied: Path, capsys: Any
) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secret_id = state_doc(applied)["resources"]["aws_secretsmanager_secret.db_master"]["id"]
    password = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])["password"]
    assert len(password) >= 16

    shown = []
    for address, entry in state_doc(applied)["resources"].items():
        code, out, err = deployer(applied, capsys, "state", "show", f"primary:{address}")
        assert code == 0, err
        assert out.startswith(f"# primary:{address}:")
        assert f'"{entry["id"]}"' in out  # what state recorded, as Terraform shows it
        shown.append(out)
    assert all(password not in out for out in shown)

    code, db, _ = deployer(
        applied, capsys, "state", "show", "aws_db_instance.main", "--region", "primary"
    )
    assert code == 0
    assert re.search(r"^    password_wo +=  *\(write-only attribute\)$", db, re.MULTILINE), db
    instance_class = state_doc(applied)["resources"]["aws_db_instance.main"]["applied"][
        "instance_class"
    ]
    assert re.search(rf'^    instance_class += "{instance_class}"$', db, re.MULTILINE), db

    # A state file that holds a secret anyway (written by hand, or by another tool): masked.
    path = applied / "primary.tfstate.json"
    doc = state_doc(applied)
    doc["resources"]["aws_db_instance.main"]["attributes"]["master_password"] = password
    path.write_text(json.dumps(doc))
    code, out, _ = deployer(applied, capsys, "state", "show", "primary:aws_db_instance.main")
    assert code == 0
    assert password not in out
    assert re.search(r"^    master_password +=  *\(sensitive value\)$", out, re.MULTILINE), out


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("primary:aws_vpc.nope", "no such resource in the primary workspace's state"),
        ("secondary:aws_vpc.main", "no such resource in the secondary workspace's state"),
        ("aws_vpc", "is not a resource address"),
        ("tertiary:aws_vpc.main", "'tertiary' is not a workspace"),
    ],
)
def test_state_show_refuses_what_state_does_not_hold(
    applied: Path, capsys: Any, address: str, message: str
) -> None:
    code, out, err = deployer(applied, capsys, "state", "show", address)
    assert code == 1 and out == ""
    assert message in err, err


def test_a_workspace_prefix_that_contradicts_region_is_refused(applied: Path, capsys: Any) -> None:
    code, _, err = deployer(
        applied, capsys, "state", "show", "secondary:aws_vpc.main", "--region", "us-east-1"
    )
    assert code == 1
    assert "names the secondary workspace but --region us-east-1 the primary one" in err


def test_state_rm_forgets_then_plan_creates_and_apply_adopts_without_a_duplicate(
    applied: Path, capsys: Any
) -> None:
    entry = state_doc(applied)["resources"][ENDPOINT]
    before = endpoints()
    assert [e["VpcEndpointId"] for e in before] == [entry["id"]]

    code, out, err = deployer(applied, capsys, "state", "rm", f"primary:{ENDPOINT}")
    assert code == 0, err
    assert f"Removed primary:{ENDPOINT} ({entry['id']})" in out
    assert ENDPOINT not in state_doc(applied)["resources"]
    backup = json.loads((applied / "primary.tfstate.json.backup").read_text())
    assert backup["resources"][ENDPOINT] == entry  # the same backup as every state write
    assert endpoints() == before  # forgotten, not deleted

    code, out, _ = deployer(applied, capsys, "plan", "--region", "primary", "--detailed-exitcode")
    assert code == 2
    assert PLANNED.findall(out) == [(ENDPOINT, "primary")]
    assert f"# {ENDPOINT} (primary) will be created" in out

    code, out, err = deployer(applied, capsys, "apply", "--auto-approve", "--region", "primary")
    assert code == 0, err
    assert f"adopted the existing {entry['id']}" in out
    assert [e["VpcEndpointId"] for e in endpoints()] == [entry["id"]]  # no second endpoint
    assert state_doc(applied)["resources"][ENDPOINT]["id"] == entry["id"]
    assert "forgotten" not in state_doc(applied)
    code, _, _ = deployer(applied, capsys, "plan", "--region", "primary", "--detailed-exitcode")
    assert code == 0


def test_state_rm_of_a_resource_others_use_replaces_nothing(applied: Path, capsys: Any) -> None:
    """The plan finds what was forgotten, so what refers to it keeps its known values."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc_id = state_doc(applied)["resources"]["aws_vpc.main"]["id"]
    vpcs = sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"])
    assert deployer(applied, capsys, "state", "rm", "aws_vpc.main", "--region", "primary")[0] == 0

    code, out, _ = deployer(applied, capsys, "plan", "--region", "primary", "--detailed-exitcode")
    assert code == 2
    assert PLANNED.findall(out) == [("aws_vpc.main", "primary")]
    assert f"apply adopts {vpc_id}" in out

    code, _, err = deployer(applied, capsys, "apply", "--auto-approve", "--region", "primary")
    assert code == 0, err
    assert sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]) == vpcs
    assert state_doc(applied)["resources"]["aws_vpc.main"]["id"] == vpc_id
    assert deployer(applied, capsys, "plan", "--region", "primary", "--detailed-exitcode")[0] == 0


def test_state_rm_refuses_an_unknown_address_and_a_held_lock(applied: Path, capsys: Any) -> None:
    before = files(applied)
    code, _, err = deployer(
        applied, capsys, "state", "rm", f"primary:{ENDPOINT}", "primary:aws_vpc.nope"
    )
    assert code == 1 and "aws_vpc.nope: no such resource" in err
    with workspace_lock(applied, "primary", "apply"):
        code, _, err = deployer(applied, capsys, "state", "rm", f"primary:{ENDPOINT}")
    assert code == 1 and "workspace primary is locked" in err, err
    assert files(applied) == before  # all or nothing: nothing was removed


def test_state_rm_in_an_s3_backend_takes_its_lock_and_keeps_the_previous_version(
    applied: Path, capsys: Any
) -> None:
    bucket = "state-rm-test"
    flags = ["--backend-bucket", bucket, "--backend-region", "us-east-1"]
    code, _, err = deployer(applied, capsys, *flags, "init", "--create-bucket", "--migrate")
    assert code == 0, err
    s3 = boto3.client("s3", region_name="us-east-1")

    def remote() -> dict[str, Any]:
        body = s3.get_object(Bucket=bucket, Key="primary.tfstate.json")["Body"].read()
        doc: dict[str, Any] = json.loads(body)
        return doc

    def versions() -> int:
        listing = s3.list_object_versions(Bucket=bucket, Prefix="primary.tfstate.json")
        return len(listing.get("Versions", []))

    before, count = remote(), versions()
    held = {"pid": 4242, "host": "elsewhere", "operation": "apply", "since": "2026-01-01T00:00:00"}
    s3.put_object(Bucket=bucket, Key="primary.tflock", Body=json.dumps(held).encode())
    code, _, err = deployer(applied, capsys, *flags, "state", "rm", f"primary:{ENDPOINT}")
    assert code == 1 and "locked (s3://state-rm-test/primary.tflock) by pid 4242" in err, err
    assert remote() == before
    s3.delete_object(Bucket=bucket, Key="primary.tflock")

    code, out, err = deployer(applied, capsys, *flags, "state", "rm", f"primary:{ENDPOINT}")
    assert code == 0, err
    assert ENDPOINT in before["resources"] and ENDPOINT not in remote()["resources"]
    assert versions() == count + 1  # the bucket keeps the state as it was
    code, out, _ = deployer(applied, capsys, *flags, "state", "list")
    assert out.splitlines() == [f"primary:{a}" for a in sorted(remote()["resources"])]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="primary.tflock")["KeyCount"] == 0


def test_import_adopts_an_existing_resource_after_reading_it(applied: Path, capsys: Any) -> None:
    entry = state_doc(applied)["resources"][ENDPOINT]
    assert deployer(applied, capsys, "state", "rm", f"primary:{ENDPOINT}")[0] == 0

    code, out, err = deployer(applied, capsys, "import", f"primary:{ENDPOINT}", entry["id"])
    assert code == 0, err
    assert "Import successful!" in out
    imported = state_doc(applied)["resources"][ENDPOINT]
    assert imported["id"] == entry["id"] and imported["status"] == "created"
    assert imported["attributes"]["service_name"] == endpoints()[0]["ServiceName"]
    assert sorted(imported["dependencies"]) == sorted(entry["dependencies"])
    assert "forgotten" not in state_doc(applied)  # adopted again
    code, out, _ = deployer(applied, capsys, "plan", "--region", "primary", "--detailed-exitcode")
    assert code == 0, out  # nothing to change for it, nor for anything else


def test_import_refusals_name_the_problem_and_write_nothing(applied: Path, capsys: Any) -> None:
    entry = state_doc(applied)["resources"][ENDPOINT]
    dynamodb_endpoint = state_doc(applied)["resources"]["aws_vpc_endpoint.dynamodb"]["id"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    other_vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_vpc_endpoint(
        VpcId=other_vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway"
    )["VpcEndpoint"]["VpcEndpointId"]

    def refused(args: list[str], *messages: str) -> None:
        before = files(applied)
        code, out, err = deployer(applied, capsys, "import", *args)
        assert code == 1, out
        for message in messages:
            assert message in err, err
        assert files(applied) == before

    refused([f"primary:{ENDPOINT}", entry["id"]], "already in state (id " + entry["id"])
    refused(["primary:aws_vpc_endpoint.nope", entry["id"]], "no such resource", "spec")
    refused([ENDPOINT, entry["id"]], "in both workspaces' spec", f"secondary:{ENDPOINT}")
    assert deployer(applied, capsys, "state", "rm", f"primary:{ENDPOINT}")[0] == 0
    refused(
        [f"primary:{ENDPOINT}", "vpce-0123456789abcdef0"],
        "no aws_vpc_endpoint vpce-0123456789abcdef0 exists in us-east-1",
    )
    refused(
        [f"primary:{ENDPOINT}", dynamodb_endpoint],
        "already in state as primary:aws_vpc_endpoint.dynamodb",
    )
    refused(
        [f"primary:{ENDPOINT}", elsewhere],
        f'vpc_id is "{other_vpc}" in AWS',
        "forces replacement",
    )


def test_target_plans_and_applies_only_the_target_and_its_dependencies(
    aws: None, tmp_path: Path, capsys: Any
) -> None:
    graph = build_graph(load_spec(REPO / "spec.yaml"), ["primary"])
    key = f"primary:{ENDPOINT}"
    expected = {
        graph.node(k).address for k in {key} | nx.ancestors(graph.dag, key) if graph.node(k).stored
    }
    assert 2 < len(expected) < 20  # the endpoint, its VPC and route tables

    state_dir = tmp_path / "state"
    code, out, _ = deployer(state_dir, capsys, "plan", "--region", "primary", "-target", ENDPOINT)
    assert code == 0
    assert {address for address, _ in PLANNED.findall(out)} == expected
    assert "Warning: Resource targeting is in effect" in out
    assert "not for routine use" in out

    code, out, err = deployer(
        state_dir, capsys, "apply", "--auto-approve", "--region", "primary", "--target", ENDPOINT
    )
    assert code == 0, err
    assert "Warning: Applied changes may be incomplete" in out
    assert set(state_doc(state_dir)["resources"]) == expected
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc_id = state_doc(state_dir)["resources"]["aws_vpc.main"]["id"]
    assert [e["VpcEndpointId"] for e in endpoints()] == [
        state_doc(state_dir)["resources"][ENDPOINT]["id"]
    ]
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"] == []
    assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []

    # The rest is still to do, and a plan of another target leaves the endpoint alone.
    code, out, _ = deployer(
        state_dir,
        capsys,
        "plan",
        "--region",
        "primary",
        "-target=aws_dynamodb_table.idempotency",
    )
    assert code == 0
    table = "primary:aws_dynamodb_table.idempotency"
    assert {address for address, _ in PLANNED.findall(out)} == {
        graph.node(k).address
        for k in {table} | nx.ancestors(graph.dag, table)
        if graph.node(k).stored
    }
    assert "will be destroyed" not in out  # what the cut graph leaves out is not deleted


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("aws_vpc.nope", "-target aws_vpc.nope: no such resource in the spec"),
        ("secondary:aws_vpc.main", "the secondary workspace is not part of this run"),
        ("data.aws_caller_identity.current", "is not a resource address"),
    ],
)
def test_a_bad_target_is_refused_before_any_aws_call(
    tmp_path: Path, capsys: Any, target: str, message: str
) -> None:
    # No moto here: a call to AWS would fail on the missing endpoint or credentials instead.
    state_dir = tmp_path / "state"
    code, _, err = deployer(
        state_dir,
        capsys,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "plan",
        "--region",
        "primary",
        "-target",
        target,
    )
    assert code == 1
    assert message in err, err
    assert not state_dir.exists() or files(state_dir) == {}
