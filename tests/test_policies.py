"""Least privilege over every policy the graph contains: no wildcard where AWS allows narrower.

The checker (`deployer/policy_check.py`) finds policy documents generically, by shape, in every
attribute of every node of both workspaces; these tests hold the spec's graph to it, show what
it found (so that it cannot pass by finding nothing), and show it catches planted wildcards.
"""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from deployer.graph import Graph, build_graph
from deployer.model import Json, Node
from deployer.policy_check import (
    RESOURCE_STAR_ACTIONS,
    check_node,
    check_nodes,
    is_permission,
    policy_documents,
)
from deployer.spec import load_spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(load_spec(REPO / "spec.yaml"))


def test_no_avoidable_wildcard_in_any_policy_of_the_graph(graph: Graph) -> None:
    findings = check_nodes(graph.nodes())
    assert not findings, "\n".join(str(f) for f in findings)


def test_every_policy_attribute_of_the_graph_is_found(graph: Graph) -> None:
    """The search by shape misses no document named like a policy (`policy`, `*_policy`).

    Names such as `security_policy = "TLS_1_2"` are settings, not documents: only values that
    are JSON (a `Json`, a dict or a JSON string) count.
    """

    def is_document(value: Any) -> bool:
        return isinstance(value, Json | dict) or (isinstance(value, str) and value[:1] == "{")

    for node in graph.nodes():
        named = {k for k, v in node.attributes.items() if k.endswith("policy") and is_document(v)}
        found = {path for path, _ in policy_documents(node)}
        assert named <= found, f"{node.key}: {sorted(named - found)} not recognised as policies"


def test_every_kind_of_policy_the_graph_writes_is_checked(graph: Graph) -> None:
    documents = Counter(
        (node.type, path) for node in graph.nodes() for path, _ in policy_documents(node)
    )
    # Both workspaces: IAM only in the primary (5 roles, 3 with inline policies), the rest
    # per region.
    assert documents[("aws_iam_role", "assume_role_policy")] == 5
    assert documents[("aws_iam_role_policy", "policy")] == 3
    assert documents[("aws_kms_key", "policy")] == sum(
        node.type == "aws_kms_key" for node in graph.nodes()
    )
    assert documents[("aws_kms_key", "policy")] >= 8  # s3, rds, dynamodb, logs per region
    assert documents[("aws_s3_bucket_policy", "policy")] == 2
    assert documents[("aws_vpc_endpoint", "policy")] == 4
    permissions = Counter(node.type for node in graph.nodes() if is_permission(node))
    assert permissions["aws_lambda_permission"] == 6


def test_the_resource_star_allow_list_is_all_in_use(graph: Graph) -> None:
    """An entry nothing needs any more is an exception waiting to be abused: drop it."""
    used: set[str] = set()
    for node in graph.nodes():
        for _, document in policy_documents(node):
            for statement in document["Statement"]:
                if statement.get("Effect") == "Allow" and statement.get("Resource") == "*":
                    actions = statement["Action"]
                    used |= {actions} if isinstance(actions, str) else set(actions)
    assert set(RESOURCE_STAR_ACTIONS) <= used


# --- the checker catches what it should --------------------------------------------------


def with_statement(node: Node, statement: dict[str, Any], attribute: str = "policy") -> Node:
    """A copy of the node with one more statement in its policy (the graph is not touched)."""
    bad = copy.deepcopy(node)
    document = bad.attributes[attribute]
    value = copy.deepcopy(document.value if isinstance(document, Json) else document)
    value["Statement"] = [*value["Statement"], statement]
    bad.attributes[attribute] = Json(value)
    return bad


def problems(node: Node) -> list[str]:
    return [str(f) for f in check_node(node)]


@pytest.mark.parametrize(
    ("key", "statement", "expected"),
    [
        (
            "primary:aws_iam_role_policy.lambda_exec",
            {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
            "Action '*'",
        ),
        (
            "primary:aws_iam_role_policy.lambda_exec",
            {
                "Sid": "AllTables",
                "Effect": "Allow",
                "Action": "dynamodb:*",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            },
            "Action 'dynamodb:*'",
        ),
        (
            "primary:aws_iam_role_policy.s3_replication",
            {"Sid": "AnyBucket", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            "Resource '*' for actions that support resource-level permissions: s3:GetObject",
        ),
        (
            "primary:aws_iam_role_policy.flow_logs",
            {
                "Sid": "AnyGroup",
                "Effect": "Allow",
                "Action": "logs:PutLogEvents",
                "Resource": "arn:aws:logs:us-east-1:123456789012:*",
            },
            "Resource '*' for actions that support resource-level permissions",
        ),
        (
            "secondary:aws_s3_bucket_policy.payments",
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::payments-data-eu-west-1-dev/*",
            },
            "Principal '*' without a Condition",
        ),
        (
            "secondary:aws_kms_key.logs",
            {
                "Sid": "LogsAdmin",
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": "kms:*",
                "Resource": "*",
            },
            "Action 'kms:*'",
        ),
        (
            "primary:aws_vpc_endpoint.s3",
            {
                "Sid": "AllBut",
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": "s3:DeleteBucket",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": "1"}},
            },
            "Allow with NotAction",
        ),
    ],
)
def test_a_planted_wildcard_is_reported_with_the_node_address(
    graph: Graph, key: str, statement: dict[str, Any], expected: str
) -> None:
    node = graph.node(key)
    assert problems(node) == []
    found = problems(with_statement(node, statement))
    assert found, f"{key}: the planted statement was not reported"
    assert all(f.startswith(f"{key}: policy, statement {statement['Sid']}: ") for f in found)
    assert any(expected in f for f in found), found
    assert problems(node) == []  # the graph's own node is unchanged


def test_a_planted_wildcard_in_a_trust_policy_is_reported(graph: Graph) -> None:
    key = "primary:aws_iam_role.lambda_exec"
    bad = with_statement(
        graph.node(key),
        {
            "Sid": "AnyoneAssumes",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
        },
        "assume_role_policy",
    )
    assert problems(bad) == [
        f"{key}: assume_role_policy, statement AnyoneAssumes: "
        "Principal '*' without a Condition: open to every AWS account"
    ]


def test_a_policy_given_as_a_json_string_or_in_a_nested_block_is_found(graph: Graph) -> None:
    node = copy.deepcopy(graph.node("primary:aws_iam_role.lambda_exec"))
    node.attributes["inline_policy"] = [
        {
            "name": "extra",
            "policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
            '"Action": "iam:*", "Resource": "*"}]}',
        }
    ]
    found = check_node(node)
    assert [(f.attribute, f.statement) for f in found] == [("inline_policy[0].policy", "#0")] * 2
    assert "Action 'iam:*'" in found[0].problem
    assert "Resource '*'" in found[1].problem


def test_the_default_key_policy_is_allowed_only_to_the_account_root(graph: Graph) -> None:
    key = "primary:aws_kms_key.s3"
    node = graph.node(key)
    root = {
        "Sid": "AnotherRoot",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert problems(with_statement(node, root)) == []
    role = {**root, "Sid": "SomeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"}}
    assert problems(with_statement(node, role)) == [
        f"{key}: policy, statement SomeRole: Action 'kms:*' allows every action of the service"
    ]


def test_deny_statements_may_use_wildcards(graph: Graph) -> None:
    node = graph.node("primary:aws_s3_bucket_policy.payments")
    deny = {"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    assert problems(with_statement(node, deny)) == []


def test_a_lambda_permission_is_checked_as_a_statement(graph: Graph) -> None:
    key = "secondary:aws_lambda_permission.health"
    node = copy.deepcopy(graph.node(key))
    assert problems(node) == []
    node.attributes["action"] = "lambda:*"
    del node.attributes["source_arn"]
    assert problems(node) == [
        f"{key}: action/principal, statement (permission): "
        "Action 'lambda:*' allows every action of the service",
        f"{key}: action/principal, statement (permission): "
        "service principal apigateway.amazonaws.com without source_arn or source_account: "
        "any account's resources of that service may use it",
    ]
