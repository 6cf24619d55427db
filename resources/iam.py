"""IAM: roles, their inline policies and managed-policy attachments, and role look-ups.

IAM is global: every call goes to us-east-1 whatever the workspace. IAM is also eventually
consistent: a role a few seconds old may be unknown to PutRolePolicy, a policy just detached may
still block DeleteRole; the drivers wait those out for as long as Terraform does.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from deployer.aws import (
    DeployerError,
    error_code,
    is_not_found,
    paginate,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.diff import diff_attributes
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, DataSource, Resource, data_source, resource

# How long IAM's own eventual consistency is waited out (a role a few seconds old unknown to
# PutRolePolicy, a detached policy still blocking DeleteRole): Terraform's IAM propagation
# timeout, since AWS documents no bound beyond "changes can take time to propagate".
IAM_PROPAGATION_TIMEOUT_S = 120.0


# --- drivers ------------------------------------------------------------------------------


@resource
class Role(Resource):
    """A role; id = its name, Terraform's import id. Called in us-east-1 (IAM is global)."""

    type = "aws_iam_role"
    arn_kind = ("iam", "role")
    policy_attributes = frozenset({"assume_role_policy", "inline_policy"})
    global_service = True
    lookup_by = {"name": "name"}
    force_new = frozenset({"name", "path"})
    # A Terraform-side switch, not an AWS attribute: our delete always behaves as if it is on.
    write_only = frozenset({"force_detach_policies"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        name = desired["name"]
        extra: dict[str, Any] = {}
        if desired.get("description") is not None:
            extra["Description"] = desired["description"]
        if desired.get("max_session_duration") is not None:
            extra["MaxSessionDuration"] = int(desired["max_session_duration"])
        try:
            iam.create_role(
                RoleName=name,
                Path=desired.get("path") or "/",
                AssumeRolePolicyDocument=desired["assume_role_policy"],
                Tags=tag_list(desired.get("tags") or {}),
                **extra,
            )
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            # No state (or a lost one) but our tags on it: ours, adopt it. Otherwise refuse.
            if self.find(ctx, desired) is None:
                raise DeployerError(
                    f"IAM role {name} already exists and is not tagged as "
                    f"{ADDRESS_TAG}={desired.get('tags', {}).get(ADDRESS_TAG)}: it was not made "
                    "by this deployment; rename or delete it"
                ) from exc
        return str(name)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role = find_role(ctx.client("iam"), id)
        return None if role is None else role_attributes(role)

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        iam = ctx.client("iam")
        changed = diff_attributes(desired, live, self.write_only)
        if "assume_role_policy" in changed:
            iam.update_assume_role_policy(RoleName=id, PolicyDocument=desired["assume_role_policy"])
        settings: dict[str, Any] = {}
        if "description" in changed:
            settings["Description"] = desired["description"]
        if "max_session_duration" in changed:
            settings["MaxSessionDuration"] = int(desired["max_session_duration"])
        if settings:
            iam.update_role(RoleName=id, **settings)
        if "tags" in changed:
            to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
            if to_set:
                iam.tag_role(RoleName=id, Tags=tag_list(to_set))
            if to_remove:
                iam.untag_role(RoleName=id, TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """DeleteRole refuses a role that still has policies or instance profiles: remove them
        in Terraform's order (instance profiles, managed policies, inline policies), then
        delete, waiting out IAM's lag in seeing those removals."""
        iam = ctx.client("iam")
        try:
            for profile in paginate(
                iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=id
            ):
                _ignore_not_found(
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
                _ignore_not_found(partial(iam.delete_role_policy, RoleName=id, PolicyName=name))
            retry_while(
                lambda: iam.delete_role(RoleName=id),
                retryable=_removal_not_yet_seen,
                timeout=IAM_PROPAGATION_TIMEOUT_S,
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateRole has no idempotency token; a role carrying our address tag is ours."""
        role = find_role(ctx.client("iam"), desired["name"])
        if role is None:
            return None
        tags = tag_dict(role.get("Tags"))
        wanted = (desired.get("tags") or {}).get(ADDRESS_TAG)
        return str(role["RoleName"]) if wanted and tags.get(ADDRESS_TAG) == wanted else None


@resource
class RolePolicy(Resource):
    """An inline policy; id `role:policy`, Terraform's import id."""

    type = "aws_iam_role_policy"
    policy_attributes = frozenset({"policy"})
    taggable = False
    global_service = True
    force_new = frozenset({"name", "role"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        # PutRolePolicy replaces the document whole: creating and updating are one call.
        _put_role_policy(ctx.client("iam"), desired["role"], desired["name"], desired["policy"])
        return role_policy_id(desired["role"], desired["name"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role, name = parse_role_policy_id(id)
        try:
            found = ctx.client("iam").get_role_policy(RoleName=role, PolicyName=name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": id,
            "role": found["RoleName"],
            "name": found["PolicyName"],
            "policy": policy_json(found["PolicyDocument"]),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        role, name = parse_role_policy_id(id)
        _put_role_policy(ctx.client("iam"), role, name, desired["policy"])

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        role, name = parse_role_policy_id(id)
        iam = ctx.client("iam")
        _ignore_not_found(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = role_policy_id(desired["role"], desired["name"])
        return id if self.read(ctx, id) is not None else None


@resource
class RolePolicyAttachment(Resource):
    """A managed policy attached to a role; id `role/policy-arn`, Terraform's import id."""

    type = "aws_iam_role_policy_attachment"
    taggable = False
    global_service = True
    force_new = frozenset({"role", "policy_arn"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        role, arn = desired["role"], desired["policy_arn"]
        retry_while(
            lambda: iam.attach_role_policy(RoleName=role, PolicyArn=arn),
            # A missing policy (its ARN in the message) is a mistake, not lag: fail at once.
            retryable=lambda exc: _iam_lag(exc) and arn not in str(exc),
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
        return attachment_id(role, arn)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        role, arn = parse_attachment_id(id)
        if not is_attached(ctx.client("iam"), role, arn):
            return None
        return {"id": id, "role": role, "policy_arn": arn}

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
        role = find_role(ctx.client("iam"), desired["name"])
        return None if role is None else role_attributes(role)


# --- ids, finders, helpers ----------------------------------------------------------------


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


def find_role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        role: dict[str, Any] = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return role


def role_attributes(role: dict[str, Any]) -> dict[str, Any]:
    """GetRole's answer in the provider's attribute names (shared by resource and data source)."""
    boundary = role.get("PermissionsBoundary") or {}
    created = role.get("CreateDate")
    return {
        "id": role["RoleName"],
        "name": role["RoleName"],
        "arn": role["Arn"],
        "unique_id": role["RoleId"],
        "path": role["Path"],
        # GetRole omits an empty description.
        "description": role.get("Description", ""),
        "max_session_duration": role.get("MaxSessionDuration"),
        "assume_role_policy": policy_json(role["AssumeRolePolicyDocument"]),
        "permissions_boundary": boundary.get("PermissionsBoundaryArn"),
        "create_date": created.isoformat() if isinstance(created, datetime) else created,
        "tags": user_tags(tag_dict(role.get("Tags"))),
    }


def is_attached(iam: Any, role: str, policy_arn: str) -> bool:
    try:
        return any(
            policy["PolicyArn"] == policy_arn
            for policy in paginate(
                iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role
            )
        )
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise


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


def _put_role_policy(iam: Any, role: str, name: str, document: str) -> None:
    retry_while(
        lambda: iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document),
        retryable=_iam_lag,
        timeout=IAM_PROPAGATION_TIMEOUT_S,
    )


def _detach(iam: Any, role: str, policy_arn: str) -> None:
    _ignore_not_found(
        lambda: retry_while(
            lambda: iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn),
            retryable=lambda exc: error_code(exc) == "ConcurrentModification",
            timeout=IAM_PROPAGATION_TIMEOUT_S,
        )
    )


def _iam_lag(exc: BaseException) -> bool:
    """A role made seconds ago that IAM does not show everywhere yet, or a concurrent change
    to the same role."""
    return error_code(exc) in ("NoSuchEntity", "ConcurrentModification")


def _removal_not_yet_seen(exc: BaseException) -> bool:
    """DeleteRole still seeing a policy or profile removed a moment ago."""
    return error_code(exc) in ("DeleteConflict", "ConcurrentModification")


def _ignore_not_found(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as exc:
        if not is_not_found(exc):
            raise
