"""IAM roles, their inline policies and managed-policy attachments, and role look-ups.

IAM is global: every call goes to us-east-1 whatever the workspace. IAM is also eventually
consistent: a role a few seconds old may be unknown to PutRolePolicy (or to a read right after
its create), a policy just detached may still block DeleteRole; the drivers wait those out for
as long as Terraform does.

A refresh reads every role's inline policies and attachments through one paginated call,
GetAccountAuthorizationDetails (`ROLE_DETAILS`), instead of a call per policy: the exclusive
resources (`resources/iam/exclusive.py`), which must see every policy of a role, cost no more
than the policies themselves.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from datetime import datetime
from functools import partial
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import paginate
from deployer.batch import BatchRead, Describe, Item, item_key
from deployer.drift.policy_diff import statements
from deployer.errors import (
    AlreadyExists,
    Conflict,
    DeployerError,
    NotFound,
    ignore_missing,
    is_kind,
    or_none,
)
from deployer.resource import (
    Context,
    DataSource,
    Resource,
    data_source,
    resource,
)
from deployer.tagging import ADDRESS_TAG, Tagging, is_ours, tag_dict
from deployer.waiting import delete_when_released, retry_while

# How long IAM's own eventual consistency is waited out (a role a few seconds old unknown to
# PutRolePolicy, a detached policy still blocking DeleteRole): Terraform's IAM propagation
# timeout, since AWS documents no bound beyond "changes can take time to propagate".
IAM_PROPAGATION_TIMEOUT_S = 120.0


def policy_json(document: Any) -> str:
    """A policy document as a JSON string comparable with the desired one.

    IAM returns documents URL-encoded; botocore decodes them into dicts, but leaves a string
    when it cannot parse one, so both forms are handled.
    """
    if isinstance(document, str):
        text = urllib.parse.unquote(document)
        try:
            document = json.loads(text)
        except ValueError:
            return text
    return json.dumps(document, sort_keys=True)


def _timestamp(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _whole_account(by: str, values: list[str]) -> dict[str, Any]:
    """GetAccountAuthorizationDetails takes no role names: it lists every role."""
    return {"Filter": ["Role"]}


# Every role of the account with its inline policy documents and attached managed policies, by
# role name: one paginated call answers a refresh's reads of them all (one "chunk": the call
# ignores the names). Outside a refresh a read asks for its one role (`role_details`).
ROLE_DETAILS = Describe(
    "iam",
    "get_account_authorization_details",
    "RoleDetailList",
    {"role-name": item_key("RoleName")},
    request=_whole_account,
    chunk=sys.maxsize,
)


def batched_member(
    ctx: Context, role: str, listed: str, key: str, value: str
) -> tuple[bool, Item | None]:
    """One inline or attached policy of a role from the refresh's batched details: (True, the
    member or None when the role has no such one); (False, None) outside a refresh, where the
    driver asks IAM for that policy alone."""
    prefetched = ctx.prefetched(ROLE_DETAILS, "role-name", role)
    if prefetched is None:
        return False, None
    for detail in prefetched:
        for member in detail.get(listed) or []:
            if member.get(key) == value:
                return True, member
    return True, None


def role_details(
    ctx: Context, role: str, inline: bool = True, attached: bool = True
) -> Item | None:
    """The role's `RoleDetail` (as GetAccountAuthorizationDetails describes it: its
    `RolePolicyList` with documents and its `AttachedManagedPolicies`), None when the role is
    gone. From the refresh's batch when there is one; else by the role's own list calls, only
    those asked for (`inline`, `attached`), since one role's read must not list the account."""
    prefetched = ctx.prefetched(ROLE_DETAILS, "role-name", role)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    iam = ctx.client("iam")
    detail: Item = {"RoleName": role, "RolePolicyList": [], "AttachedManagedPolicies": []}
    try:
        if inline:
            for name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=role):
                found = or_none(partial(iam.get_role_policy, RoleName=role, PolicyName=name))
                if found is not None:  # deleted between the listing and the get
                    detail["RolePolicyList"].append(
                        {"PolicyName": name, "PolicyDocument": found["PolicyDocument"]}
                    )
        if attached:
            detail["AttachedManagedPolicies"] = list(
                paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)
            )
    except NotFound:
        return None
    return detail


def policy_words(document: Any) -> str:
    """What a policy document allows or denies, on what, in a line: `Allow s3:GetObject,
    s3:PutObject on arn:aws:s3:::b/*; Deny * on *` (a drift finding's words for an inline
    policy nobody declared), in the words drift uses for a statement's change."""
    try:
        doc = json.loads(policy_json(document))
    except ValueError:
        return "a document that is not JSON"
    found = statements(doc) if isinstance(doc, dict) else []
    return "; ".join(s.words() for s in found) or "no statement"


# --- drivers ------------------------------------------------------------------------------


@resource
class Role(Resource):
    """A role; id = its name, Terraform's import id. Called in us-east-1 (IAM is global)."""

    type = "aws_iam_role"
    arn_kind = ("iam", "role")
    policy_attributes = frozenset({"assume_role_policy", "inline_policy"})
    global_service = True
    lookup_by = {"name": "name"}
    # Terraform waits for a new role to show in reads several times in a row.
    consistent_reads = 2
    table = Table(
        Attr("name", "RoleName", force_new=True),
        Attr("path", "Path", force_new=True, default="/"),
        Attr(
            "assume_role_policy",
            "AssumeRolePolicyDocument",
            update=Setter("UpdateAssumeRolePolicy", "PolicyDocument"),
            from_api=policy_json,
        ),
        # UpdateRole resets what it is not given (moto does; AWS documents nothing either way):
        # the two travel together.
        Attr(
            "description",
            "Description",
            update=True,
            together="settings",
            # GetRole omits an empty description.
            from_api=lambda value: value or "",
        ),
        Attr(
            "max_session_duration",
            "MaxSessionDuration",
            update=True,
            together="settings",
            default=3600,
            to_api=int,
        ),
        Attr(
            "permissions_boundary",
            "PermissionsBoundary.PermissionsBoundaryArn",
            create="PermissionsBoundary",
            update=Setter("PutRolePermissionsBoundary", "PermissionsBoundary"),
        ),
        # A Terraform-side switch, not an AWS attribute: our delete always behaves as if on.
        Attr("force_detach_policies", create=False, write_only=True, default=False),
        Attr("arn", "Arn", computed=True),
        Attr("unique_id", "RoleId", computed=True),
        Attr("create_date", "CreateDate", computed=True, from_api=_timestamp),
        service="iam",
        create_call="CreateRole",
        update_call="UpdateRole",
        described="Role",
        id_parameter="RoleName",
    )
    # GetRole reports the tags with the role: no listing call.
    tagging = Tagging("RoleName", list_call=None, tag_call="tag_role", untag_call="untag_role")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        assert self.table is not None and self.tagging is not None
        name = str(desired["name"])
        try:
            ctx.client("iam").create_role(
                **self.table.create_parameters(desired),
                Tags=self.tagging.to_api(desired.get("tags") or {}),
            )
        except AlreadyExists as exc:
            # No state (or a lost one) but our tags on it: ours, adopt it. Otherwise refuse.
            if self.find(ctx, desired) is None:
                raise DeployerError(
                    f"IAM role {name} already exists and is not tagged as "
                    f"{ADDRESS_TAG}={desired.get('tags', {}).get(ADDRESS_TAG)}: it was not made "
                    "by this deployment; rename or delete it"
                ) from exc
        return name

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = or_none(
            lambda: ctx.client("iam").get_role(RoleName=id)["Role"]
        )
        return found

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role = self.describe(ctx, id)
        return None if role is None else self.attributes(role)

    @classmethod
    def attributes(cls, role: dict[str, Any]) -> dict[str, Any]:
        """GetRole's answer in the provider's attribute names (the look-up reads the same)."""
        assert cls.table is not None and cls.tagging is not None
        return {
            "id": role["RoleName"],
            **cls.table.read(role),
            "tags": cls.tagging.from_api(role.get("Tags")),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """DeleteRole refuses a role that still has policies or instance profiles: remove them
        in Terraform's order (instance profiles, managed policies, inline policies), then
        delete, waiting out IAM's lag in seeing those removals."""
        iam = ctx.client("iam")
        try:
            for profile in paginate(
                iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=id
            ):
                ignore_missing(
                    partial(
                        iam.remove_role_from_instance_profile,
                        InstanceProfileName=profile["InstanceProfileName"],
                        RoleName=id,
                    )
                )
            for policy in paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=id
            ):
                _detach(iam, id, policy["PolicyArn"])
            for name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=id):
                ignore_missing(partial(iam.delete_role_policy, RoleName=id, PolicyName=name))
        except NotFound:
            return
        delete_when_released(
            lambda: iam.delete_role(RoleName=id),
            what=f"IAM role {id}'s policies",
            timeout=IAM_PROPAGATION_TIMEOUT_S,
            in_use=_busy,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateRole has no idempotency token; a role carrying our address tag is ours."""
        role = self.describe(ctx, desired["name"])
        if role is None or not is_ours(tag_dict(role.get("Tags")), desired):
            return None
        return str(role["RoleName"])


@resource
class RolePolicy(Resource):
    """An inline policy; id `role:policy`, Terraform's import id."""

    type = "aws_iam_role_policy"
    policy_attributes = frozenset({"policy"})
    taggable = False
    global_service = True
    table = Table(
        Attr("role", "RoleName", force_new=True),
        Attr("name", "PolicyName", force_new=True),
        Attr("policy", "PolicyDocument", update=True, from_api=policy_json),
        service="iam",
        # PutRolePolicy replaces the document whole: creating and updating are one call.
        create_call="PutRolePolicy",
        update_call="PutRolePolicy",
        described="GetRolePolicyResponse",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        self._put(ctx, desired)
        return role_policy_id(desired["role"], desired["name"])

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [BatchRead(ROLE_DETAILS, "role-name", parse_role_policy_id(id)[0])]

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """GetRolePolicy's answer; in a refresh, the same from the role's batched details."""
        role, name = parse_role_policy_id(id)
        batched, policy = batched_member(ctx, role, "RolePolicyList", "PolicyName", name)
        if batched:
            return None if policy is None else {"RoleName": role, **policy}
        iam = ctx.client("iam")
        found: dict[str, Any] | None = or_none(
            lambda: iam.get_role_policy(RoleName=role, PolicyName=name)
        )
        return found

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        role, name = parse_role_policy_id(id)
        self._put(ctx, {**desired, "role": role, "name": name})

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        role, name = parse_role_policy_id(id)
        iam = ctx.client("iam")
        ignore_missing(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = role_policy_id(desired["role"], desired["name"])
        return id if self.read(ctx, id) is not None else None

    def _put(self, ctx: Context, desired: dict[str, Any]) -> None:
        assert self.table is not None
        request = self.table.create_parameters(desired)
        iam = ctx.client("iam")
        retry_while(
            lambda: iam.put_role_policy(**request),
            retryable=_iam_lag,
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )


@resource
class RolePolicyAttachment(Resource):
    """A managed policy attached to a role; id `role/policy-arn`, Terraform's import id."""

    type = "aws_iam_role_policy_attachment"
    taggable = False
    global_service = True
    table = Table(
        # The role is asked for its attached policies: the id names it (`read`).
        Attr("role", create="RoleName", force_new=True),
        Attr("policy_arn", "PolicyArn", force_new=True),
        service="iam",
        create_call="AttachRolePolicy",
        described="AttachedPolicy",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        assert self.table is not None
        iam = ctx.client("iam")
        request = self.table.create_parameters(desired)
        arn = desired["policy_arn"]
        retry_while(
            lambda: iam.attach_role_policy(**request),
            # A missing policy (its ARN in the message) is a mistake, not lag: fail at once.
            retryable=lambda exc: _iam_lag(exc) and arn not in str(exc),
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
        return attachment_id(desired["role"], arn)

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [BatchRead(ROLE_DETAILS, "role-name", parse_attachment_id(id)[0])]

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The policy among those attached to the role, None when it is not (or no role)."""
        role, arn = parse_attachment_id(id)
        batched, policy = batched_member(ctx, role, "AttachedManagedPolicies", "PolicyArn", arn)
        if batched:
            return None if policy is None else dict(policy)
        iam = ctx.client("iam")
        try:
            for policy in paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role
            ):
                if policy["PolicyArn"] == arn:
                    return dict(policy)
        except NotFound:
            pass
        return None

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "role": parse_attachment_id(id)[0]}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        role, arn = parse_attachment_id(id)
        _detach(ctx.client("iam"), role, arn)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = attachment_id(desired["role"], desired["policy_arn"])
        return id if self.read(ctx, id) is not None else None


@data_source
class RoleLookup(DataSource):
    """The secondary's read of a primary role: GetRole only, never a write."""

    type = "aws_iam_role"
    global_service = True

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        iam = ctx.client("iam")
        role = or_none(lambda: iam.get_role(RoleName=desired["name"])["Role"])
        return None if role is None else Role.attributes(role)


# --- ids, helpers -------------------------------------------------------------------------


def role_policy_id(role: str, name: str) -> str:
    return f"{role}:{name}"


def parse_role_policy_id(id: str) -> tuple[str, str]:
    # Neither role names nor policy names may contain ":".
    role, _, name = id.partition(":")
    return role, name


def attachment_id(role: str, policy_arn: str) -> str:
    return f"{role}/{policy_arn}"


def parse_attachment_id(id: str) -> tuple[str, str]:
    # Role names may not contain "/"; policy ARNs do.
    role, _, arn = id.partition("/")
    return role, arn


def _detach(iam: Any, role: str, policy_arn: str) -> None:
    ignore_missing(
        lambda: retry_while(
            lambda: iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn),
            retryable=_busy,
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
    )


def _busy(exc: BaseException) -> bool:
    """Another change to the same role in progress (ConcurrentModification), or DeleteRole
    still seeing a policy or profile removed a moment ago (DeleteConflict)."""
    return is_kind(exc, Conflict)


def _iam_lag(exc: BaseException) -> bool:
    """A role made seconds ago that IAM does not show everywhere yet, or another change to
    the same role in progress."""
    return is_kind(exc, NotFound) or _busy(exc)
