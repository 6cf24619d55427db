"""SNS: topics, their attributes (KMS key, policies, delivery settings) and tags.

SNS keeps a topic's settings in one `Attributes` map of strings: GetTopicAttributes reports them
all, SetTopicAttributes changes one per call, and CreateTopic takes only those a topic cannot
change afterwards (`FifoTopic`). botocore's model leaves the map's keys free, so a row names its
key through `topic_attribute` rather than a dotted path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import paginate
from deployer.errors import ignore_missing, or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging

# The one attribute CreateTopic must be given: a topic is FIFO from birth or never.
FIFO_TOPIC = "FifoTopic"


def sns_value(value: Any) -> str:
    """SNS attributes are strings: booleans in lower case, numbers as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _flag(value: str | None) -> bool:
    return value == "true"


def _number(value: str | None) -> int | None:
    return int(value) if value else None


def topic_attribute(
    name: str,
    key: str,
    *,
    convert: Callable[[Any], Any] | None = None,
    settable: bool = True,
    **row: Any,
) -> Attr:
    """The row of a topic attribute kept under `key` in the `Attributes` map: read from there,
    and (when `settable`) changed by SetTopicAttributes, one attribute per call. CreateTopic is
    not given it (unless `row` names its parameter): the driver sets each one on the new topic,
    as Terraform does."""

    def from_api(attributes: dict[str, str] | None) -> Any:
        value = (attributes or {}).get(key)
        return convert(value) if convert is not None else value

    setter = Setter("SetTopicAttributes", "AttributeValue", fixed={"AttributeName": key})
    return Attr(
        name,
        "Attributes",
        update=setter if settable else False,
        from_api=from_api,
        to_api=sns_value,
        **{"create": False, **row},
    )


@resource
class Topic(Resource):
    type = "aws_sns_topic"
    arn_kind = ("sns", "")
    policy_attributes = frozenset({"policy"})
    lookup_by = {"name": "name"}
    table = Table(
        topic_attribute(
            "name",
            "TopicArn",
            convert=lambda arn: arn.rsplit(":", 1)[-1],
            settable=False,
            create="Name",
            force_new=True,
        ),
        # The spec names every topic: a generated name is never asked for.
        Attr("name_prefix", create=False, force_new=True),
        # Where the topic lives: the engine calls that region's endpoint.
        Attr("region", create=False, force_new=True),
        topic_attribute(
            "fifo_topic", FIFO_TOPIC, convert=_flag, settable=False, force_new=True, default=False
        ),
        topic_attribute("display_name", "DisplayName"),
        topic_attribute("kms_master_key_id", "KmsMasterKeyId"),
        topic_attribute("policy", "Policy"),
        topic_attribute("delivery_policy", "DeliveryPolicy"),
        topic_attribute("signature_version", "SignatureVersion", convert=_number),
        topic_attribute("tracing_config", "TracingConfig"),
        # SNS reports it for FIFO topics only; a standard topic cannot have it.
        topic_attribute(
            "content_based_deduplication", "ContentBasedDeduplication", convert=_flag, default=False
        ),
        topic_attribute("arn", "TopicArn", settable=False, computed=True),
        topic_attribute("owner", "Owner", settable=False, computed=True),
        service="sns",
        create_call="CreateTopic",
        described="GetTopicAttributesResponse",
        id_parameter="TopicArn",
    )
    tagging = Tagging("ResourceArn")
    tags_on = "arn"

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """CreateTopic is idempotent by name, but refuses other attributes: adopt (the engine
        then brings the topic to the spec), else create and set each attribute."""
        assert self.table is not None and self.tagging is not None
        existing = self.find(ctx, desired)
        if existing is not None:
            return existing
        sns = ctx.client("sns")
        fifo = {FIFO_TOPIC: "true"} if desired.get("fifo_topic") else {}
        arn = str(
            sns.create_topic(
                **self.table.create_parameters(desired),
                Attributes=fifo,
                Tags=self.tagging.to_api(desired.get("tags") or {}),
            )["TopicArn"]
        )
        # What a new topic has already (the provider's defaults) is not set again: a standard
        # topic refuses even `ContentBasedDeduplication=false`.
        settings = {
            name
            for name, row in self.table.rows.items()
            if row.setter and desired.get(name) is not None and desired[name] != row.default
        }
        self.table.apply_update(sns, arn, desired, settings)
        return arn

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        sns = ctx.client("sns")
        found: dict[str, Any] | None = or_none(lambda: sns.get_topic_attributes(TopicArn=id))
        return found

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "region": ctx.region}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ignore_missing(lambda: ctx.client("sns").delete_topic(TopicArn=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """The topic's name is unique in its region: an ARN ending in it is ours."""
        suffix = f":{desired['name']}"
        for topic in paginate(ctx.client("sns"), "list_topics", "Topics"):
            if topic["TopicArn"].endswith(suffix):
                return str(topic["TopicArn"])
        return None
