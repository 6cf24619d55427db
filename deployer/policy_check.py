"""Least privilege, checked: no wildcard in a policy we write where AWS allows a narrower one.

Generic over the graph: every attribute of every node is searched for policy documents (a
`Json(...)` value, a dict or a JSON string holding a `Statement`, at any depth, so nested
blocks count too), and nodes shaped like a resource-based permission (`action` + `principal`,
as `aws_lambda_permission`) are checked as one statement. Deny statements may use wildcards:
they only take away.

For each Allow statement:

- no `NotAction` / `NotResource` (an Allow of "everything but");
- no Action `*` or `service:*` (partial wildcards such as `kms:GenerateDataKey*`, which name one
  family of actions, are allowed);
- no Resource `*` (or an ARN whose resource part is `*`, e.g. `arn:aws:s3:::*`) unless every
  action is in `RESOURCE_STAR_ACTIONS`, the actions AWS authorises only on `*`;
- no Principal `*` without a Condition (open to every account);
- in a key policy (the `policy` of a type whose driver says `key_policy`), Resource `*` means
  "this key" and is the only usual value; `kms:*` is allowed only to the account root
  principal: that is AWS's default key policy, which hands the key's administration to IAM
  (without it, the key can become unmanageable). Service principals must have specific actions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from deployer.model import Json, Node, Ref, resolve
from deployer.resource import resource_driver

# Actions that support no resource-level permissions: AWS accepts only Resource "*" for them
# (Service Authorization Reference, "Resource types" column empty). Keep this list small: an
# entry here must be used by the graph and must be of that kind.
RESOURCE_STAR_ACTIONS: Mapping[str, str] = {
    "xray:PutTraceSegments": "X-Ray trace upload: no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray telemetry upload: no resource-level permissions",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe* actions: no resource-level permissions",
    "ec2:DescribeSubnets": "EC2 Describe* actions: no resource-level permissions",
}

# The account root as a principal: `arn:aws:iam::123456789012:root` (or a reference to it).
_ACCOUNT_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::[^:]+:root$")


@dataclass(frozen=True)
class Finding:
    """One wildcard too many: where it is (node key, attribute, statement) and what it is."""

    key: str
    attribute: str
    statement: str
    problem: str

    def __str__(self) -> str:
        return f"{self.key}: {self.attribute}, statement {self.statement}: {self.problem}"


def _placeholder(ref: Ref) -> str:
    """References stay visible but inert: `${aws_s3_bucket.payments.arn}` is no wildcard."""
    return "${" + str(ref) + "}"


def _as_document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and "Statement" in value:
        return value
    if isinstance(value, str) and '"Statement"' in value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) and "Statement" in parsed else None
    return None


def policy_documents(node: Node) -> Iterator[tuple[str, dict[str, Any]]]:
    """(attribute path, document) for every policy document anywhere in the node's attributes."""

    def walk(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(value, Json):
            value = resolve(value.value, _placeholder)
        document = _as_document(value)
        if document is not None:
            yield path, resolve(document, _placeholder)
            return
        if isinstance(value, dict):
            for name, item in value.items():
                yield from walk(item, f"{path}.{name}" if path else str(name))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]")

    yield from walk(node.attributes, "")


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _principals(principal: Any) -> list[str]:
    if isinstance(principal, dict):
        return [str(p) for values in principal.values() for p in _listed(values)]
    return [str(p) for p in _listed(principal)]


def _is_any_resource(resource: Any) -> bool:
    text = str(resource)
    if text == "*":
        return True
    parts = text.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[5] == "*"


def _is_service_wildcard(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def statement_problems(statement: Mapping[str, Any], *, key_policy: bool = False) -> list[str]:
    """What is too broad in one statement (empty when it is fine)."""
    if statement.get("Effect") != "Allow":
        return []
    problems: list[str] = []
    for negated in ("NotAction", "NotResource"):
        if negated in statement:
            problems.append(f"Allow with {negated} grants everything not listed")
    actions = [str(a) for a in _listed(statement.get("Action"))]
    principals = _principals(statement.get("Principal"))
    root_only = bool(principals) and all(_ACCOUNT_ROOT.match(p) for p in principals)
    for action in actions:
        if not _is_service_wildcard(action):
            continue
        if key_policy and action == "kms:*" and root_only:
            continue  # AWS's default key policy: the account (IAM) administers the key
        problems.append(f"Action {action!r} allows every action of the service")
    if not key_policy and any(_is_any_resource(r) for r in _listed(statement.get("Resource"))):
        broad = sorted(a for a in actions if a not in RESOURCE_STAR_ACTIONS)
        if broad:
            problems.append(
                "Resource '*' for actions that support resource-level permissions: "
                + ", ".join(broad)
            )
    if "*" in principals and not statement.get("Condition"):
        problems.append("Principal '*' without a Condition: open to every AWS account")
    return problems


def _permission_problems(attributes: Mapping[str, Any]) -> list[str]:
    """A resource-based permission node (`aws_lambda_permission`): one statement in attributes."""
    problems: list[str] = []
    action = attributes.get("action")
    principal = str(attributes.get("principal"))
    if isinstance(action, str) and _is_service_wildcard(action):
        problems.append(f"Action {action!r} allows every action of the service")
    scoped = attributes.get("source_arn") or attributes.get("source_account")
    if principal == "*" and not scoped:
        problems.append("Principal '*' without a source: anyone may invoke")
    elif principal.endswith(".amazonaws.com") and not scoped:
        problems.append(
            f"service principal {principal} without source_arn or source_account: "
            "any account's resources of that service may use it"
        )
    return problems


def is_permission(node: Node) -> bool:
    return isinstance(node.attributes.get("action"), str) and "principal" in node.attributes


def _holds_key_policy(node: Node) -> bool:
    """Whether the node's driver says its `policy` is a KMS key policy (Resource "*" there
    means "this key")."""
    if not node.stored:
        return False
    try:
        return resource_driver(node.type).key_policy
    except KeyError:
        return False  # another provider's type, or one no driver implements


def check_node(node: Node) -> list[Finding]:
    findings: list[Finding] = []
    for path, document in policy_documents(node):
        key_policy = path == "policy" and _holds_key_policy(node)
        for index, statement in enumerate(_listed(document.get("Statement"))):
            label = str(statement.get("Sid") or f"#{index}")
            findings.extend(
                Finding(node.key, path, label, problem)
                for problem in statement_problems(statement, key_policy=key_policy)
            )
    if is_permission(node):
        findings.extend(
            Finding(node.key, "action/principal", "(permission)", problem)
            for problem in _permission_problems(node.attributes)
        )
    return findings


def check_nodes(nodes: Iterable[Node]) -> list[Finding]:
    """Every finding over the nodes (for a graph: `check_nodes(graph.nodes())`)."""
    return [finding for node in nodes for finding in check_node(node)]
