"""Bad specs: exit 1, a message naming the spec path and the problem, and no AWS call at all."""

from __future__ import annotations

import copy
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer.cli import main
from deployer.graph import build_graph
from deployer.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
GOOD: dict[str, Any] = yaml.safe_load((REPO / "spec.yaml").read_text())


class ConnectionCounter:
    """A loopback listener standing in for AWS: any connection to it is an AWS call."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def fake_aws() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    change(doc)
    return doc


CASES: list[tuple[str, Any, str]] = [
    (
        "unknown key",
        edited(lambda d: d["network"]["primary"].update(vpc_cidrs="10.0.0.0/16")),
        "network.primary.vpc_cidrs: unknown key",
    ),
    (
        "wrong type",
        edited(lambda d: d["lambda"].update(memory_mb="lots")),
        "lambda.memory_mb: expected an integer, got a string ('lots')",
    ),
    (
        "missing required key",
        edited(lambda d: d["network"]["secondary"].pop("vpc_cidr")),
        "network.secondary.vpc_cidr: required key is missing",
    ),
    (
        "invalid CIDR",
        edited(lambda d: d["network"]["primary"].update(vpc_cidr="10.10.0.0/33")),
        "network.primary.vpc_cidr: invalid CIDR '10.10.0.0/33'",
    ),
    (
        "overlapping CIDR",
        edited(lambda d: d["network"]["primary"]["private_subnets"].__setitem__(0, "10.10.0.0/23")),
        "network.primary.private_subnets[0]: subnet 10.10.0.0/23 overlaps "
        "network.primary.public_subnets[0]",
    ),
    (
        "overlapping VPCs",
        edited(lambda d: d["network"]["secondary"].update(vpc_cidr="10.10.0.0/16")),
        "network.secondary.vpc_cidr: 10.10.0.0/16 overlaps the primary VPC",
    ),
    (
        "subnet outside its VPC",
        edited(
            lambda d: d["network"]["secondary"]["public_subnets"].__setitem__(2, "10.99.2.0/24")
        ),
        "network.secondary.public_subnets[2]: subnet 10.99.2.0/24 is outside the VPC 10.20.0.0/16",
    ),
    (
        "unknown region",
        edited(lambda d: d["workspaces"]["secondary"].update(region="eu-middle-9")),
        "workspaces.secondary.region: unknown region 'eu-middle-9'",
    ),
    (
        "same region twice",
        edited(lambda d: d["workspaces"]["secondary"].update(region="us-east-1")),
        "workspaces.secondary.region: the secondary workspace must be in another region",
    ),
    (
        "suffix not DNS-safe",
        edited(lambda d: d.update(environment_suffix="Prod_1")),
        "environment_suffix: 'Prod_1' is not DNS-safe",
    ),
    (
        "no concurrency reserved at all",
        edited(lambda d: d["lambda"].update(reserved_concurrency=0)),
        "lambda.reserved_concurrency: must be positive, got 0",
    ),
]


@pytest.mark.parametrize(("case", "doc", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_spec_is_refused_before_any_aws_call(
    case: str,
    doc: Any,
    message: str,
    tmp_path: Path,
    fake_aws: ConnectionCounter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code = main(
        [
            "--spec",
            str(path),
            "--state-dir",
            str(tmp_path / "state"),
            "--endpoint-url",
            fake_aws.url,
            "apply",
            "--auto-approve",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert message in err
    assert str(path) in err
    assert fake_aws.connections == 0
    assert not (tmp_path / "state" / "primary.tfstate.json").exists()


def test_yaml_syntax_error_names_its_line(
    tmp_path: Path, fake_aws: ConnectionCounter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.yaml"
    lines = (REPO / "spec.yaml").read_text().splitlines()
    lines[12] = "    vpc_cidr: 10.10.0.0/16: oops"
    path.write_text("\n".join(lines))
    code = main(["--spec", str(path), "--endpoint-url", fake_aws.url, "plan"])
    err = capsys.readouterr().err
    assert code == 1
    assert "YAML syntax error" in err
    assert f"{path}:13:" in err
    assert fake_aws.connections == 0


def test_a_duplicate_key_is_refused_with_both_lines(
    tmp_path: Path, fake_aws: ConnectionCounter, capsys: pytest.CaptureFixture[str]
) -> None:
    """YAML keeps the second of two `rds:` sections silently; the spec must not."""
    text = (REPO / "spec.yaml").read_text()
    lines = text.splitlines()
    first = lines.index("rds:") + 1
    path = tmp_path / "spec.yaml"
    path.write_text(text + "rds:\n  instance_class: db.t3.small\n")
    again = len(lines) + 1
    state = tmp_path / "state"
    code = main(
        [
            *("--spec", str(path), "--state-dir", str(state)),
            *("--endpoint-url", fake_aws.url, "apply", "--auto-approve"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"{path}:{again}: rds: duplicate key (first at line {first}, again at line {again})" in err
    )
    assert fake_aws.connections == 0
    assert not (state / "primary.tfstate.json").exists()

    nested = text.replace("  memory_mb: 256", "  memory_mb: 256\n  memory_mb: 512")
    path.write_text(nested)
    with pytest.raises(Exception, match=r"lambda\.memory_mb: duplicate key"):
        load_spec(path)


def test_error_names_the_line_of_the_bad_key(tmp_path: Path) -> None:
    text = (REPO / "spec.yaml").read_text().replace("memory_mb: 256", "memory_mb: many")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    line = text.splitlines().index("  memory_mb: many") + 1
    with pytest.raises(Exception, match=rf"spec.yaml:{line}: lambda.memory_mb"):
        load_spec(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    doc = edited(
        lambda d: (
            d.update(environment_suffix="UPPER"),
            d["workspaces"]["secondary"].update(region="mars-1"),
        )
    )
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(Exception) as raised:
        load_spec(path)
    assert "environment_suffix" in str(raised.value)
    assert "mars-1" in str(raised.value)


def test_missing_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--spec", str(tmp_path / "nope.yaml"), "plan"])
    assert code == 1
    assert "cannot read the spec" in capsys.readouterr().err


def test_reserved_concurrency_may_be_left_out(tmp_path: Path) -> None:
    """`null`: no reservation, and the function node says nothing about it."""
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(edited(lambda d: d["lambda"].update(reserved_concurrency=None))))
    spec = load_spec(path)
    assert spec.lambda_.reserved_concurrency is None
    function = build_graph(spec).node("primary:aws_lambda_function.payment_processor")
    assert "reserved_concurrent_executions" not in function.attributes


def test_repository_spec_is_valid() -> None:
    spec = load_spec(REPO / "spec.yaml")
    assert spec.region("primary") == "us-east-1"
    assert spec.region("secondary") == "eu-west-1"
