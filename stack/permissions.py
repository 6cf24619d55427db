"""The IAM helper: each component declares here what a role must let it do.

A permission belongs with what needs it: the function component knows which tables, keys and
log group the payment handler touches, the bucket component what replication reads and writes,
the network component where flow logs are delivered. So each of them declares its statements on
a role by the role's logical name,

    @grants("lambda_exec")
    def payment_handler(spec: Spec) -> list[Statement]:
        return [statement("PaymentTables", [...], [...]), ...]

and `stack/roles.py`, which owns the roles (names, trust, managed policies), makes each role's
inline policy from what was declared for it, without importing the consumers: dependencies point
from the consumers to `roles` and to this module, never back, so there is no import cycle to
work around.

Declarations run when the declaring module is imported. `policy_document` and `granted_roles`
load the whole stack first (`deployer.resource.load_stack`), so that a caller never sees a
policy with a declaration missing because its module happened not to be imported yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deployer.model import WORKSPACES, Json
from deployer.resource import load_stack
from deployer.spec import Spec

POLICY_VERSION = "2012-10-17"

Statement = dict[str, Any]
Statements = Callable[[Spec], list[Statement]]


@dataclass(frozen=True)
class Grant:
    """Statements one component declared on one role."""

    role: str
    statements: Statements

    @property
    def declared_by(self) -> str:
        """`module.function`: where to look for a statement of the role's policy."""
        return f"{self.statements.__module__}.{self.statements.__qualname__}"


# Keyed by who declared it: importing a module again replaces its grants, never doubles them.
_GRANTS: dict[str, Grant] = {}


def grants(role: str) -> Callable[[Statements], Statements]:
    """Declare that the decorated function's statements belong in `role`'s inline policy."""

    def register(statements: Statements) -> Statements:
        grant = Grant(role, statements)
        _GRANTS[grant.declared_by] = grant
        return statements

    return register


def declared(role: str) -> list[Grant]:
    """The grants on `role`, by declaring module (and in declaration order within one), so the
    policy does not depend on the order in which modules happened to be imported."""
    load_stack()
    found = [grant for grant in _GRANTS.values() if grant.role == role]
    return sorted(found, key=lambda grant: grant.statements.__module__)


def granted_roles() -> set[str]:
    """Every role some component declared statements on."""
    load_stack()
    return {grant.role for grant in _GRANTS.values()}


def policy_document(spec: Spec, role: str) -> Json | None:
    """`role`'s inline policy: every statement declared on it; None when none is."""
    found = declared(role)
    if not found:
        return None
    statements = [s for grant in found for s in grant.statements(spec)]
    return Json({"Version": POLICY_VERSION, "Statement": statements})


# --- writing statements -----------------------------------------------------------------------


def regions(spec: Spec) -> list[str]:
    """Both workspaces' regions: IAM is global, so a role serves both."""
    return [spec.region(ws) for ws in WORKSPACES]


def sid(*words: str) -> str:
    """Statement ids allow only letters and digits: `("Keys", "us-east-1")` → `KeysUsEast1`."""
    return "".join(part[:1].upper() + part[1:] for word in words for part in word.split("-"))


def statement(
    sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> Statement:
    """An Allow statement; actions sorted, a single resource written as itself."""
    made: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if condition:
        made["Condition"] = condition
    return made
