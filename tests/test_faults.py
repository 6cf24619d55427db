"""Injected faults look like AWS's own answers: retried when transient, raised otherwise."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer import cli
from deployer.aws import Clients, wait_scale
from deployer.faults import FaultInjector, from_environment
from deployer.model import WORKSPACES
from deployer.spec import load_spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def emulator_backoff(monkeypatch: Any) -> None:
    """botocore's retry delays (1 s base for throttling) scaled as every other wait against the
    emulator (`DEPLOYER_WAIT_SCALE`): the same retries and attempts, without the sleeping."""
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount

    def scaled(self: Any, context: Any) -> float:
        return float(original(self, context)) * wait_scale()

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", scaled)


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("ec2", lambda c: c.describe_vpcs()),
        ("iam", lambda c: c.list_roles()),
        ("s3", lambda c: c.list_buckets()),
        ("dynamodb", lambda c: c.list_tables()),
        ("lambda", lambda c: c.list_functions()),
        ("cloudwatch", lambda c: c.describe_alarms()),  # RPC v2 CBOR
        ("route53", lambda c: c.list_hosted_zones()),
        ("rds", lambda c: c.describe_db_instances()),
        ("kms", lambda c: c.list_keys()),
    ],
)
def test_throttling_is_retried_until_it_passes(aws: None, service: str, call: Any) -> None:
    # Half the calls throttled: standard retry mode (8 attempts) gets through.
    faults = FaultInjector(0.5, ("Throttling",), seed=7)
    clients = Clients(hooks=[faults.hook()])
    call(clients(service, "us-east-1"))
    assert sum(faults.injected.values()) >= 1
    assert clients.counter.calls  # the call went through in the end


@pytest.mark.parametrize(
    "service", ["ec2", "iam", "s3", "dynamodb", "apigateway", "cloudwatch", "route53"]
)
def test_non_retryable_error_is_raised_with_its_code(aws: None, service: str) -> None:
    faults = FaultInjector(1.0, ("AccessDenied",))
    clients = Clients(hooks=[faults.hook()])
    client = clients(service, "us-east-1")
    operation = {
        "ec2": "describe_vpcs",
        "iam": "list_roles",
        "s3": "list_buckets",
        "dynamodb": "list_tables",
        "apigateway": "get_rest_apis",
        "cloudwatch": "describe_alarms",
        "route53": "list_hosted_zones",
    }[service]
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert sum(faults.injected.values()) == 1  # not retried


def test_operation_prefix_limits_the_faults(aws: None) -> None:
    faults = FaultInjector(1.0, ("AccessDenied",), operation_prefix="Create")
    kms = Clients(hooks=[faults.hook()])("kms", "us-east-1")
    kms.list_keys()
    with pytest.raises(ClientError):
        kms.create_key()


def test_limit_bounds_the_number_of_faults(aws: None) -> None:
    faults = FaultInjector(1.0, ("AccessDenied",), operation_prefix="CreateKey", limit=1)
    kms = Clients(hooks=[faults.hook()])("kms", "us-east-1")
    with pytest.raises(ClientError):
        kms.create_key()
    kms.create_key()  # the second passes
    assert sum(faults.injected.values()) == 1
    # The refused call was not carried out behind the fault (moto's in-process mock answers
    # `before-send` too): one key, not two.
    assert len(kms.list_keys()["Keys"]) == 1


def test_a_throttled_create_retried_makes_one_resource(aws: None) -> None:
    faults = FaultInjector(1.0, ("Throttling",), operation_prefix="CreateVpc", limit=2)
    ec2 = Clients(hooks=[faults.hook()])("ec2", "us-east-1")
    before = len(ec2.describe_vpcs()["Vpcs"])
    ec2.create_vpc(CidrBlock="10.0.0.0/16")
    assert sum(faults.injected.values()) == 2
    assert len(ec2.describe_vpcs()["Vpcs"]) == before + 1


def test_the_environment_variable_configures_the_injector(monkeypatch: Any) -> None:
    monkeypatch.setenv("DEPLOYER_FAULTS", "0.2:Throttling, InternalError:Create")
    faults = from_environment()
    assert faults is not None
    assert (faults.share, faults.codes, faults.operation_prefix) == (
        0.2,
        ("Throttling", "InternalError"),
        "Create",
    )
    monkeypatch.delenv("DEPLOYER_FAULTS")
    assert from_environment() is None


# --- a full apply of both workspaces, as `deployer apply` runs it -------------------------

# Every retryable error code the injector answers in each service's own protocol: throttling
# (400, 429 and EC2's 503) and 5xx.
RETRYABLE = (
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
)


class Cli:
    """`deployer --spec spec.yaml --state-dir DIR ...` in-process, with the faults it is given.

    The CLI takes its injector from `DEPLOYER_FAULTS` through `deployer.cli.from_environment`;
    here that look-up returns the test's own injector, so that its counts can be read.
    """

    def __init__(self, state_dir: Path, monkeypatch: Any, capsys: Any) -> None:
        self.state_dir = state_dir
        self.faults: FaultInjector | None = None
        self._capsys = capsys
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.delenv("DEPLOYER_FAULTS", raising=False)
        monkeypatch.setattr(cli, "from_environment", lambda: self.faults)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        code = cli.main(
            ["--spec", str(REPO / "spec.yaml"), "--state-dir", str(self.state_dir), *args]
        )
        out, err = self._capsys.readouterr()
        return code, out, err

    def state(self, workspace: str) -> dict[str, Any]:
        """The state file as written: it must parse, whatever happened."""
        document: dict[str, Any] = json.loads(
            (self.state_dir / f"{workspace}.tfstate.json").read_text()
        )
        return document

    def ids(self, tf_type: str) -> dict[str, set[str]]:
        """Region → ids that state records (created) for resources of that type."""
        spec = load_spec(REPO / "spec.yaml")
        found: dict[str, set[str]] = {}
        for workspace in WORKSPACES:
            resources = self.state(workspace)["resources"]
            found[spec.region(workspace)] = {
                str(entry["id"])
                for entry in resources.values()
                if entry["type"] == tf_type and entry.get("status") == "created"
            }
        return found


@pytest.fixture
def deployer_cli(aws: None, tmp_path: Path, monkeypatch: Any, capsys: Any) -> Cli:
    return Cli(tmp_path / "state", monkeypatch, capsys)


def project_vpcs(region: str) -> set[str]:
    ec2 = Clients()("ec2", region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Project", "Values": ["payments"]}])["Vpcs"]
    return {v["VpcId"] for v in vpcs}


def project_keys(region: str) -> set[str]:
    kms = Clients()("kms", region)
    keys = set()
    for key in kms.list_keys()["Keys"]:
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if {"TagKey": "Project", "TagValue": "payments"} in tags:
            keys.add(key["KeyId"])
    return keys


def project_tables(region: str) -> set[str]:
    return set(Clients()("dynamodb", region).list_tables()["TableNames"])


def state_ids_match_the_emulator(deployer_cli: Cli) -> None:
    """Every VPC, key and table in the emulator is in state, and nothing is there twice."""
    vpcs, keys, tables, replicas = (
        deployer_cli.ids(t)
        for t in ("aws_vpc", "aws_kms_key", "aws_dynamodb_table", "aws_dynamodb_table_replica")
    )
    for region in ("us-east-1", "eu-west-1"):
        assert project_vpcs(region) == vpcs[region]
        assert project_keys(region) == keys[region]
        # A replica's id is `table-name:main-region`; its table has the main table's name.
        replica_tables = {id.rpartition(":")[0] for id in replicas[region]}
        assert project_tables(region) == tables[region] | replica_tables


@pytest.mark.slow
def test_full_apply_with_a_fifth_of_calls_failing_retryably_converges(
    deployer_cli: Cli,
) -> None:
    deployer_cli.faults = FaultInjector(0.2, RETRYABLE, seed=2024)
    began = time.monotonic()
    code, out, err = deployer_cli("apply", "--auto-approve")
    elapsed = time.monotonic() - began
    assert code == 0, err[-3000:]
    assert "Apply complete!" in out
    injected = deployer_cli.faults.injected
    codes = {key.rsplit(":", 1)[1] for key in injected}
    services = {key.split(":", 1)[0] for key in injected}
    total = sum(injected.values())
    calls = re.search(r"\((\d+) read and (\d+) write API calls", out)
    assert calls is not None, out[-500:]
    attempts = int(calls[1]) + int(calls[2]) + total  # a fault costs one more attempt
    summary = f"{total} faults in {attempts} attempts, {len(services)} services, {elapsed:.1f}s"
    assert total >= 100, summary
    assert 0.15 <= total / attempts <= 0.25, summary
    assert codes == set(RETRYABLE)
    # Which services draw faults varies with thread timing; the busy ones always do.
    assert {"ec2", "kms", "s3", "dynamodb"} <= services
    assert len(services) >= 8

    deployer_cli.faults = None
    code, out, err = deployer_cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    state_ids_match_the_emulator(deployer_cli)


def test_a_non_retryable_error_stops_the_apply_cleanly_and_the_rerun_finishes(
    deployer_cli: Cli,
) -> None:
    # The first CreateTable of the run is refused; nothing else fails.
    deployer_cli.faults = FaultInjector(
        1.0, ("AccessDenied",), operation_prefix="CreateTable", limit=1
    )
    code, out, err = deployer_cli("apply", "--auto-approve")
    assert code == 1
    assert sum(deployer_cli.faults.injected.values()) == 1
    failed = re.findall(
        r"^Error: (aws_dynamodb_table\.\w+) \((primary|secondary)\): AccessDenied: ", err, re.M
    )
    assert len(failed) == 1, err
    assert err.count("Error: ") == 1, err  # no other resource failed
    assert "Apply stopped:" in err and "state records all of it" in err
    address, workspace = failed[0]

    # State: valid JSON, all that was made recorded; the refused table only as an intent.
    states = {ws: deployer_cli.state(ws) for ws in WORKSPACES}
    unfinished = {
        (ws, recorded)
        for ws, state in states.items()
        for recorded, entry in state["resources"].items()
        if entry.get("status") != "created"
    }
    assert unfinished == {(workspace, address)}  # in-flight work finished and was recorded
    assert len(states["primary"]["resources"]) >= 30
    state_ids_match_the_emulator(deployer_cli)
    spec = load_spec(REPO / "spec.yaml")
    assert spec.name(address.split(".")[1]) not in project_tables(spec.region(workspace))

    # Nothing in the emulator is missing from state (the drift report's discovery), nothing
    # recorded has drifted; the refused table is pending, as is what waits for it.
    code, out, err = deployer_cli("drift", "--format", "json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["unmanaged"] == []
    status = {(r["workspace"], r["address"]): r["status"] for r in report["resources"]}
    assert status[(workspace, address)] == "pending"
    assert not {"drifted", "missing"} & set(status.values()), status

    # The rerun, without faults, finishes and converges.
    deployer_cli.faults = None
    code, out, err = deployer_cli("apply", "--auto-approve")
    assert code == 0, err[-3000:]
    code, out, err = deployer_cli("plan", "--detailed-exitcode")
    assert code == 0, out + err
    state_ids_match_the_emulator(deployer_cli)
    assert all(
        entry["status"] == "created"
        for state in (deployer_cli.state(ws) for ws in WORKSPACES)
        for entry in state["resources"].values()
    )
