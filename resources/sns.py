"""SNS: topics, their attributes (KMS key, policies, delivery settings) and tags."""

from __future__ import annotations

from typing import Any

from deployer.aws import is_not_found, paginate, tag_changes, tag_dict, tag_list, user_tags
from deployer.resource import Context, Resource, resource

# Topic attribute → SNS attribute name, for the ones the topic sets and reads as they are.
TOPIC_ATTRIBUTES = {
    "display_name": "DisplayName",
    "kms_master_key_id": "KmsMasterKeyId",
    "policy": "Policy",
    "delivery_policy": "DeliveryPolicy",
    "signature_version": "SignatureVersion",
    "tracing_config": "TracingConfig",
    "content_based_deduplication": "ContentBasedDeduplication",
}


@resource
class Topic(Resource):
    type = "aws_sns_topic"
    arn_kind = ("sns", "")
    policy_attributes = frozenset({"policy"})
    lookup_by = {"name": "name"}
    force_new = frozenset({"name", "name_prefix", "fifo_topic"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """CreateTopic is idempotent by name, but refuses other attributes: adopt, then update."""
        sns = ctx.client("sns")
        existing = self.find(ctx, desired)
        if existing is not None:
            return existing
        attributes = {
            key: sns_value(desired[attribute])
            for attribute, key in TOPIC_ATTRIBUTES.items()
            if desired.get(attribute) is not None
        }
        if desired.get("fifo_topic"):
            attributes["FifoTopic"] = "true"
        made = sns.create_topic(
            Name=desired["name"], Attributes=attributes, Tags=tag_list(desired["tags"])
        )
        return str(made["TopicArn"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        sns = ctx.client("sns")
        try:
            got = sns.get_topic_attributes(TopicArn=id)["Attributes"]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        tags = tag_dict(sns.list_tags_for_resource(ResourceArn=id).get("Tags"))
        return {
            "id": got["TopicArn"],
            "arn": got["TopicArn"],
            "name": got["TopicArn"].rsplit(":", 1)[-1],
            "owner": got.get("Owner"),
            "region": ctx.region,
            **{attribute: got.get(key) for attribute, key in TOPIC_ATTRIBUTES.items()},
            "fifo_topic": got.get("FifoTopic", "false") == "true",
            "tags": user_tags(tags),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        sns = ctx.client("sns")
        for attribute, key in TOPIC_ATTRIBUTES.items():
            want = desired.get(attribute)
            if want is not None and sns_value(want) != sns_value(live.get(attribute)):
                sns.set_topic_attributes(
                    TopicArn=id, AttributeName=key, AttributeValue=sns_value(want)
                )
        to_set, to_remove = tag_changes(desired["tags"], live.get("tags"))
        if to_set:
            sns.tag_resource(ResourceArn=id, Tags=tag_list(to_set))
        if to_remove:
            sns.untag_resource(ResourceArn=id, TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            ctx.client("sns").delete_topic(TopicArn=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The topic's name is unique in its region: an ARN ending in it is ours."""
        suffix = f":{desired['name']}"
        for topic in paginate(ctx.client("sns"), "list_topics", "Topics"):
            if topic["TopicArn"].endswith(suffix):
                return str(topic["TopicArn"])
        return None


def sns_value(value: Any) -> str:
    """SNS attributes are strings: booleans in lower case, numbers as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
