"""What the RDS drivers share: RDS's tag calls, the instance look-up, ARN regions."""

from __future__ import annotations

from typing import Any

from deployer.aws import Tagging, or_none

# RDS tags by ARN, with calls of its own names.
RDS_TAGS = Tagging(
    "ResourceName",
    list_call="list_tags_for_resource",
    listed="TagList",
    tag_call="add_tags_to_resource",
    untag_call="remove_tags_from_resource",
)


def describe_instance(rds: Any, identifier: str) -> dict[str, Any] | None:
    """DescribeDBInstances' record of one instance (by identifier or ARN), in whatever state;
    None when there is none."""
    answer = or_none(lambda: rds.describe_db_instances(DBInstanceIdentifier=identifier))
    instances = (answer or {}).get("DBInstances") or []
    return dict(instances[0]) if instances else None


def arn_region(value: str) -> str | None:
    """The region of an ARN, None for a plain identifier."""
    parts = value.split(":")
    return parts[3] if value.startswith("arn:") and len(parts) > 3 else None
