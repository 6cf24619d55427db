"""CloudWatch Logs: the log group driver that flow logs, Lambda and API Gateway share.

Each stack component yields its own `aws_cloudwatch_log_group` node (the group belongs with what
writes to it); this module only knows how to create, read, change and delete one.
"""

from __future__ import annotations

from typing import Any

from deployer.aws import (
    error_code,
    is_not_found,
    paginate,
    retry_while,
    tag_changes,
    user_tags,
)
from deployer.batch import Describe, item_key
from deployer.resource import Context, Resource, resource

# How long a freshly created or re-policied KMS key may be refused by CloudWatch Logs before we
# give up: key policy changes propagate within seconds, rarely up to a couple of minutes.
KMS_PROPAGATION_TIMEOUT = 120.0


# Up to 50 groups by exact name per call (the other way to filter is a name prefix).
LOG_GROUPS = Describe(
    "logs",
    "describe_log_groups",
    "logGroups",
    {"name": item_key("logGroupName")},
    request=lambda by, values: {"logGroupIdentifiers": values},
    chunk=50,
)


@resource
class LogGroup(Resource):
    """A log group: id = its name; `arn` without the `:*` suffix, as Terraform reports it."""

    type = "aws_cloudwatch_log_group"
    arn_kind = ("logs", "log-group")
    batched_read = (LOG_GROUPS, "name")
    force_new = frozenset({"name", "name_prefix", "log_group_class"})
    # Terraform-side switch (keep the group on destroy); AWS knows nothing of it.
    write_only = frozenset({"skip_destroy"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        logs = ctx.client("logs")
        name: str = desired["name"]
        params: dict[str, Any] = {"logGroupName": name}
        if desired.get("kms_key_id"):
            params["kmsKeyId"] = desired["kms_key_id"]
        if desired.get("tags"):
            params["tags"] = dict(desired["tags"])
        if desired.get("log_group_class"):
            params["logGroupClass"] = desired["log_group_class"]
        if desired.get("deletion_protection_enabled"):
            params["deletionProtectionEnabled"] = True
        retry_while(
            lambda: logs.create_log_group(**params),
            retryable=kms_key_not_usable_yet,
            timeout=KMS_PROPAGATION_TIMEOUT,
        )
        try:
            if desired.get("retention_in_days"):
                logs.put_retention_policy(
                    logGroupName=name, retentionInDays=int(desired["retention_in_days"])
                )
        except Exception:
            logs.delete_log_group(logGroupName=name)  # a failed create leaves nothing behind
            raise
        return name

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        logs = ctx.client("logs")
        group = ctx.describe_one(LOG_GROUPS, "name", id)
        if group is None:
            return None
        arn = log_group_arn(group)
        try:
            tags = logs.list_tags_for_resource(resourceArn=arn).get("tags") or {}
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": group["logGroupName"],
            "name": group["logGroupName"],
            "arn": arn,
            # AWS omits the retention when logs never expire; Terraform reports 0.
            "retention_in_days": group.get("retentionInDays", 0),
            "kms_key_id": group.get("kmsKeyId"),
            "log_group_class": group.get("logGroupClass", "STANDARD"),
            "deletion_protection_enabled": group.get("deletionProtectionEnabled", False),
            "tags": user_tags(tags),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        logs = ctx.client("logs")
        retention = int(desired.get("retention_in_days") or 0)
        if retention != int(live.get("retention_in_days") or 0):
            if retention:
                logs.put_retention_policy(logGroupName=id, retentionInDays=retention)
            else:
                logs.delete_retention_policy(logGroupName=id)
        key = desired.get("kms_key_id")
        if key != live.get("kms_key_id"):
            if key:
                retry_while(
                    lambda: logs.associate_kms_key(logGroupName=id, kmsKeyId=key),
                    retryable=kms_key_not_usable_yet,
                    timeout=KMS_PROPAGATION_TIMEOUT,
                )
            else:
                logs.disassociate_kms_key(logGroupName=id)
        protection = desired.get("deletion_protection_enabled")
        if protection is not None and bool(protection) != bool(
            live.get("deletion_protection_enabled")
        ):
            logs.put_log_group_deletion_protection(
                logGroupIdentifier=id, deletionProtectionEnabled=bool(protection)
            )
        to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
        if to_set:
            logs.tag_resource(resourceArn=live["arn"], tags=to_set)
        if to_remove:
            logs.untag_resource(resourceArn=live["arn"], tagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        if ctx.node.attributes.get("skip_destroy"):
            return
        try:
            ctx.client("logs").delete_log_group(logGroupName=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic: an interrupted create left a group of that name."""
        name = desired.get("name")
        if not name:
            return None
        return str(name) if find_log_group(ctx.client("logs"), name) is not None else None


def find_log_group(logs: Any, name: str) -> dict[str, Any] | None:
    """The group of exactly this name (the API only filters by prefix)."""
    for group in paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name):
        if group["logGroupName"] == name:
            found: dict[str, Any] = group
            return found
    return None


def log_group_arn(group: dict[str, Any]) -> str:
    """`logGroupArn` (no `:*`), or `arn` without its `:*` where an older API omits it."""
    arn: str = group.get("logGroupArn") or group["arn"]
    return arn.removesuffix(":*")


def kms_key_not_usable_yet(exc: BaseException) -> bool:
    """CloudWatch Logs refuses a key whose policy does not (yet) let the service use it."""
    return error_code(exc) in {"InvalidParameterException", "AccessDeniedException"} and (
        "kms" in str(exc).lower()
    )
