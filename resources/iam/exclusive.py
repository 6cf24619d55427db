"""Exclusive ownership of a role's policies: Terraform's `aws_iam_role_policies_exclusive` and
`aws_iam_role_policy_attachments_exclusive`.

An inline policy or managed policy put on a managed role behind the deployer's back is the
privilege escalation an auditor most wants to see: these resources own the whole set, so drift
reports the extra one (with what it allows, `describe_value`) and apply removes it. Their reads
come from the refresh's one GetAccountAuthorizationDetails call (`ROLE_DETAILS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from deployer.attributes import Attr, Table
from deployer.batch import BatchRead, Item
from deployer.errors import DeployerError, NotFound, ignore_missing
from deployer.resource import DETAILS, Context, Resource, describe_items, resource
from deployer.waiting import retry_while
from resources.iam.roles import (
    IAM_PROPAGATION_TIMEOUT_S,
    ROLE_DETAILS,
    _busy,
    _detach,
    _iam_lag,
    policy_words,
    role_details,
)


class RoleExclusive(Resource):
    """The whole set of one kind of policy on a role (Terraform's `*_exclusive` IAM types);
    id = the role's name, their import id.

    Create and update remove every policy of the role that the set does not name, so one put
    on the role behind our back is drift until apply takes it off; destroy removes nothing (it
    only stops the reconciliation, as Terraform's does). The policies themselves are their own
    resources, declared before this one: this resource only watches the set.
    """

    taggable = False
    global_service = True
    # The attribute holding the set, and what the role's details list it in.
    members: ClassVar[str]
    listed: ClassVar[str]
    member_key: ClassVar[str]

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [BatchRead(ROLE_DETAILS, "role-name", id)]

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        role = str(desired["role_name"])
        self.reconcile(ctx, role, desired)
        return role

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        return role_details(ctx, id, **self.asked)

    @property
    def asked(self) -> dict[str, bool]:
        """Which of the role's lists `role_details` needs to ask for alone."""
        inline = self.listed == "RolePolicyList"
        return {"inline": inline, "attached": not inline}

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        detail = self.describe(ctx, id)
        if detail is None:
            return None
        items = detail.get(self.listed) or []
        return {
            "id": id,
            "role_name": id,
            self.members: sorted(str(item[self.member_key]) for item in items),
            DETAILS: {str(item[self.member_key]): self.words(item) for item in items},
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        self.reconcile(ctx, id, desired)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Nothing: the policies stay on the role; only their reconciliation stops."""

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Nothing to adopt but the role: an interrupted create is simply made again."""
        return None

    def reconcile(self, ctx: Context, role: str, desired: dict[str, Any]) -> None:
        """Remove what the role has beyond the set, from a fresh read (never a refresh's
        batch, which may be older than the plan); a role made seconds ago may not show yet."""
        fresh = Context(ctx.clients, ctx.region, ctx.node, ctx.options)
        live = retry_while(
            partial(self._live, fresh, role), retryable=_iam_lag, timeout=IAM_PROPAGATION_TIMEOUT_S
        )
        wanted = {str(item) for item in desired.get(self.members) or []}
        have = set(live[self.members])
        iam = ctx.client("iam")
        for extra in sorted(have - wanted):
            self.remove(iam, role, extra)
        self.add_missing(iam, role, sorted(wanted - have))

    def _live(self, ctx: Context, role: str) -> dict[str, Any]:
        live = self.read(ctx, role)
        if live is None:
            raise NotFound(f"IAM role {role} does not exist")
        return live

    def describe_value(
        self, attribute: str, value: Any, live: Mapping[str, Any] | None = None
    ) -> str:
        if attribute == self.members:
            return describe_items(value, live)
        return super().describe_value(attribute, value, live)

    def words(self, item: Item) -> str:
        raise NotImplementedError

    def remove(self, iam: Any, role: str, member: str) -> None:
        raise NotImplementedError

    def add_missing(self, iam: Any, role: str, members: list[str]) -> None:
        raise NotImplementedError


@resource
class RolePoliciesExclusive(RoleExclusive):
    """Every inline policy of a role: one not named is deleted (DeleteRolePolicy)."""

    type = "aws_iam_role_policies_exclusive"
    members, listed, member_key = "policy_names", "RolePolicyList", "PolicyName"
    table = Table(
        Attr("role_name", "RoleName", create="RoleName", force_new=True),
        # The set is kept by removing what it does not name (`reconcile`).
        Attr("policy_names", update="PolicyName"),
        service="iam",
        create_call="DeleteRolePolicy",
        update_call="DeleteRolePolicy",
        described="RoleDetail",
        id_parameter="RoleName",
    )

    def words(self, item: Item) -> str:
        return policy_words(item.get("PolicyDocument"))

    def remove(self, iam: Any, role: str, member: str) -> None:
        ignore_missing(
            lambda: retry_while(
                lambda: iam.delete_role_policy(RoleName=role, PolicyName=member),
                retryable=_busy,
                timeout=IAM_PROPAGATION_TIMEOUT_S,
            )
        )

    def add_missing(self, iam: Any, role: str, members: list[str]) -> None:
        """An inline policy is made by its own `aws_iam_role_policy` (this set has no
        document to put): a name the role lacks is a mistake the plan should not hide."""
        if members:
            raise DeployerError(
                f"IAM role {role} has no inline policy {', '.join(members)}: declare it as an "
                "aws_iam_role_policy this set depends on"
            )


@resource
class RolePolicyAttachmentsExclusive(RoleExclusive):
    """Every managed policy attached to a role: one not named is detached (DetachRolePolicy),
    one named but missing attached (AttachRolePolicy), as Terraform's does."""

    type = "aws_iam_role_policy_attachments_exclusive"
    members, listed, member_key = "policy_arns", "AttachedManagedPolicies", "PolicyArn"
    table = Table(
        Attr("role_name", "RoleName", create="RoleName", force_new=True),
        Attr("policy_arns", update="PolicyArn"),
        service="iam",
        create_call="DetachRolePolicy",
        update_call="DetachRolePolicy",
        other_calls=("AttachRolePolicy",),
        described="RoleDetail",
        id_parameter="RoleName",
    )

    def words(self, item: Item) -> str:
        return f"managed policy {item.get('PolicyName') or item['PolicyArn']}"

    def remove(self, iam: Any, role: str, member: str) -> None:
        _detach(iam, role, member)

    def add_missing(self, iam: Any, role: str, members: list[str]) -> None:
        for arn in members:
            attach = partial(iam.attach_role_policy, RoleName=role, PolicyArn=arn)
            retry_while(
                attach,
                # A missing policy (its ARN in the message) is a mistake, not lag.
                retryable=partial(_lag_for, arn),
                timeout=IAM_PROPAGATION_TIMEOUT_S,
            )


def _lag_for(arn: str, exc: BaseException) -> bool:
    return _iam_lag(exc) and arn not in str(exc)
