"""CloudWatch Logs: the log group driver that flow logs, Lambda and API Gateway share.

Each stack component yields its own `aws_cloudwatch_log_group` node (the group belongs with what
writes to it); this module only knows how to create, read, change and delete one.
"""

from __future__ import annotations

from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import paginate
from deployer.batch import Describe, item_key
from deployer.errors import error_code, ignore_missing, or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging
from deployer.waiting import retry_while

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


def _retention(days: Any) -> int:
    """AWS omits the retention when logs never expire; Terraform says 0."""
    return int(days or 0)


def _log_group_arn(arn: Any) -> str | None:
    """`logGroupArn` has no `:*` (the older `arn` field has one): Terraform's `arn` has none."""
    return None if arn is None else str(arn).removesuffix(":*")


# Rows the driver changes itself (two calls each, by the desired value).
BY_VALUE = frozenset({"retention_in_days", "kms_key_id"})


@resource
class LogGroup(Resource):
    """A log group: id = its name; `arn` without the `:*` suffix, as Terraform reports it."""

    type = "aws_cloudwatch_log_group"
    arn_kind = ("logs", "log-group")
    batched_read = (LOG_GROUPS, "name")
    tagging = Tagging(
        "resourceArn", listed="tags", tags_param="tags", keys_param="tagKeys", as_map=True
    )
    tags_on = "arn"
    # Defaults as the provider's (internal/service/logs/group.go).
    table = Table(
        Attr("name", "logGroupName", force_new=True),
        Attr("arn", "logGroupArn", computed=True, from_api=_log_group_arn),
        # Put after the group is made (PutRetentionPolicy), removed for 0 (see `update`).
        Attr(
            "retention_in_days",
            "retentionInDays",
            create=False,
            update=True,
            default=0,
            from_api=_retention,
        ),
        # AssociateKmsKey / DisassociateKmsKey (see `update`).
        Attr("kms_key_id", "kmsKeyId", update=True),
        Attr("log_group_class", "logGroupClass", force_new=True),
        Attr(
            "deletion_protection_enabled",
            "deletionProtectionEnabled",
            update=Setter(
                "PutLogGroupDeletionProtection",
                "deletionProtectionEnabled",
                id_parameter="logGroupIdentifier",
            ),
        ),
        # Terraform-side switch (keep the group on destroy); AWS knows nothing of it.
        Attr("skip_destroy", create=False, write_only=True, default=False),
        service="logs",
        create_call="CreateLogGroup",
        described="LogGroup",
        id_parameter="logGroupName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        logs = ctx.client("logs")
        name: str = desired["name"]
        request = self.table.create_parameters(desired)
        if desired.get("tags") and self.tagging is not None:
            request["tags"] = self.tagging.to_api(desired["tags"])
        retry_while(
            lambda: logs.create_log_group(**request),
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

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        return ctx.describe_one(LOG_GROUPS, "name", id)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The group's description (batched in a refresh) and its tags; gone if either says so
        (a group deleted between the two calls)."""
        group = self.describe(ctx, id)
        if group is None:
            return None
        live = {"id": id, **self.table.read({**group, "logGroupArn": _arn_of(group)})}
        tags = or_none(lambda: self.tagging.read(ctx.client("logs"), live["arn"]))
        if tags is None:
            return None
        live["tags"] = tags
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        logs = ctx.client("logs")
        changed = self.changed(desired, live)
        if "retention_in_days" in changed:
            retention = _retention(desired.get("retention_in_days"))
            if retention:
                logs.put_retention_policy(logGroupName=id, retentionInDays=retention)
            else:
                logs.delete_retention_policy(logGroupName=id)
        key = desired.get("kms_key_id")
        if "kms_key_id" in changed or (key is None and live.get("kms_key_id")):
            if key:
                retry_while(
                    lambda: logs.associate_kms_key(logGroupName=id, kmsKeyId=key),
                    retryable=kms_key_not_usable_yet,
                    timeout=KMS_PROPAGATION_TIMEOUT,
                )
            else:
                logs.disassociate_kms_key(logGroupName=id)
        self.apply_changes(ctx, id, desired, live, changed - BY_VALUE)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        if self.with_defaults(ctx.node.attributes)["skip_destroy"]:
            return
        ignore_missing(lambda: ctx.client("logs").delete_log_group(logGroupName=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The name is deterministic: an interrupted create left a group of that name."""
        name = desired.get("name")
        if not name:
            return None
        return str(name) if find_log_group(ctx.client("logs"), name) is not None else None


def _arn_of(group: dict[str, Any]) -> str:
    """`logGroupArn`, or `arn` where an older API omits the former."""
    return str(group.get("logGroupArn") or group["arn"])


def find_log_group(logs: Any, name: str) -> dict[str, Any] | None:
    """The group of exactly this name (the API only filters by prefix)."""
    for group in paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name):
        if group["logGroupName"] == name:
            found: dict[str, Any] = group
            return found
    return None


def kms_key_not_usable_yet(exc: BaseException) -> bool:
    """CloudWatch Logs refuses a key whose policy does not (yet) let the service use it."""
    return error_code(exc) in {"InvalidParameterException", "AccessDeniedException"} and (
        "kms" in str(exc).lower()
    )
