"""The IAM helper: components declare what a role may do; `stack/roles.py` assembles it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployer.graph import build_graph
from deployer.spec import Spec
from stack import permissions
from stack.permissions import Statement, declared, grants, policy_document, statement
from stack.roles import ROLES, inline_policy

REPO = Path(__file__).resolve().parents[2]


def test_each_consumer_declares_the_permissions_of_the_role_it_uses() -> None:
    assert {role: [g.declared_by for g in declared(role)] for role in ROLES} == {
        "lambda_exec": ["stack.function.execution"],
        "s3_replication": ["stack.bucket.replication_access"],
        "apigw_cloudwatch": [],
        "rds_monitoring": [],
        "flow_logs": ["stack.network.flow_log_delivery"],
    }


def test_a_role_with_declared_permissions_gets_them_as_its_inline_policy(spec: Spec) -> None:
    nodes = {n.key: n for n in build_graph(spec).nodes("primary")}
    for role in ROLES:
        node = nodes.get(f"primary:aws_iam_role_policy.{role}")
        document = policy_document(spec, role)
        if document is None:
            assert node is None, f"{role} has an inline policy nobody declared"
            continue
        assert node is not None
        assert node.attributes["policy"] == document
        sids = [s["Sid"] for s in document.value["Statement"]]
        declared_sids = [s["Sid"] for g in declared(role) for s in g.statements(spec)]
        assert sids == declared_sids


@pytest.fixture
def extra_grant() -> Iterator[list[str]]:
    """Declarations made by a test, removed afterwards."""
    keys: list[str] = []
    yield keys
    for key in keys:
        permissions._GRANTS.pop(key, None)


def test_grants_on_one_role_are_ordered_by_declaring_module(
    spec: Spec, extra_grant: list[str]
) -> None:
    def late(spec: Spec) -> list[Statement]:
        return [statement("Late", ["logs:PutLogEvents"], ["arn:aws:logs:*:*:log-group:x:*"])]

    late.__module__ = "stack.zz_late_consumer"
    grants("lambda_exec")(late)
    extra_grant.append("stack.zz_late_consumer." + late.__qualname__)
    document = policy_document(spec, "lambda_exec")
    assert document is not None
    assert document.value["Statement"][-1]["Sid"] == "Late"
    assert document.value["Statement"][0]["Sid"] == "PaymentTables"


def test_declaring_again_replaces_rather_than_doubles(spec: Spec) -> None:
    before = policy_document(spec, "flow_logs")
    (grant,) = declared("flow_logs")
    grants("flow_logs")(grant.statements)
    assert policy_document(spec, "flow_logs") == before


def test_permissions_on_a_role_the_stack_lacks_are_refused(
    spec: Spec, extra_grant: list[str]
) -> None:
    def stray(spec: Spec) -> list[Statement]:
        return [statement("Stray", ["sqs:SendMessage"], ["arn:aws:sqs:*:*:q"])]

    grants("no_such_role")(stray)
    extra_grant.append(f"{__name__}.{stray.__qualname__}")
    with pytest.raises(ValueError, match="no_such_role"):
        inline_policy(spec, "lambda_exec")


def test_a_policy_asked_for_first_is_complete() -> None:
    """In a fresh interpreter that imported only the helper and the roles (none of the
    components that declare permissions), the policies still hold every declaration: the
    helper loads the whole stack before assembling one."""
    probe = (
        "import json, pathlib, sys\n"
        "from deployer.spec import load_spec\n"
        "from stack.roles import inline_policy\n"
        "assert 'stack.function' not in sys.modules\n"
        "spec = load_spec(pathlib.Path(sys.argv[1]))\n"
        "print(json.dumps({r: inline_policy(spec, r).value['Statement'] for r in\n"
        "    ('lambda_exec', 's3_replication', 'flow_logs')}, default=str))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(REPO / "spec.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = json.loads(result.stdout)
    assert {role: len(statements) for role, statements in fresh.items()} == {
        "lambda_exec": 7,
        "s3_replication": 5,
        "flow_logs": 2,
    }
