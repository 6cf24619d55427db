"""SQS: queues. Their settings live in the API's `Attributes` map, as strings on the wire.

The id is the queue's URL, as Terraform's (`terraform import aws_sqs_queue.q <url>`).
"""

from __future__ import annotations

from typing import Any

from deployer.attributes import NO_DEFAULT, Attr, Table
from deployer.errors import error_code, or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging, is_ours
from deployer.waiting import delete_and_wait_gone, retry_while

# AWS refuses to create a queue of a name deleted less than 60 s ago.
RECREATE_TIMEOUT_S = 75.0
# "Deleting a queue can take up to 60 seconds" (DeleteQueue).
DELETE_TIMEOUT_S = 120.0


def _text(value: Any) -> str:
    """SQS attributes are strings: booleans in lower case, numbers as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _true_or_unsent(value: Any) -> str | None:
    """FIFO-only settings: AWS refuses them, even `false`, on a standard queue."""
    return "true" if value else None


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


def _number_row(name: str, field: str, default: Any = NO_DEFAULT) -> Attr:
    return Attr(
        name, f"Attributes.{field}", update=True, default=default, from_api=_number, to_api=_text
    )


@resource
class Queue(Resource):
    type = "aws_sqs_queue"
    arn_kind = ("sqs", "")
    policy_attributes = frozenset({"policy"})
    lookup_by = {"name": "name"}
    tagging = Tagging(
        "QueueUrl",
        list_call="list_queue_tags",
        tag_call="tag_queue",
        untag_call="untag_queue",
        as_map=True,
    )
    # Defaults as the provider's (internal/service/sqs/consts.go).
    table = Table(
        Attr("name", create="QueueName", force_new=True),
        Attr("arn", "Attributes.QueueArn", computed=True),
        Attr("url", computed=True),  # the id
        Attr(
            "fifo_queue",
            "Attributes.FifoQueue",
            force_new=True,
            default=False,
            from_api=_flag,
            to_api=_true_or_unsent,
        ),
        Attr(
            "content_based_deduplication",
            "Attributes.ContentBasedDeduplication",
            update=True,
            default=False,
            from_api=_flag,
            to_api=_true_or_unsent,
        ),
        Attr("deduplication_scope", "Attributes.DeduplicationScope", update=True),
        Attr("fifo_throughput_limit", "Attributes.FifoThroughputLimit", update=True),
        _number_row("delay_seconds", "DelaySeconds", 0),
        _number_row("max_message_size", "MaximumMessageSize", 262_144),
        _number_row("message_retention_seconds", "MessageRetentionPeriod", 345_600),
        _number_row("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds", 0),
        _number_row("visibility_timeout_seconds", "VisibilityTimeout", 30),
        _number_row("kms_data_key_reuse_period_seconds", "KmsDataKeyReusePeriodSeconds"),
        Attr("kms_master_key_id", "Attributes.KmsMasterKeyId", update=True),
        Attr(
            "sqs_managed_sse_enabled",
            "Attributes.SqsManagedSseEnabled",
            update=True,
            from_api=_flag,
            to_api=_text,
        ),
        Attr("policy", "Attributes.Policy", update=True),
        Attr("redrive_policy", "Attributes.RedrivePolicy", update=True),
        Attr("redrive_allow_policy", "Attributes.RedriveAllowPolicy", update=True),
        service="sqs",
        create_call="CreateQueue",
        update_call="SetQueueAttributes",
        described="GetQueueAttributesResult",
        id_parameter="QueueUrl",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        sqs = ctx.client("sqs")
        tags = self.tagging.to_api(desired.get("tags") or {}) if self.tagging else {}
        request = {**self.table.create_parameters(desired), "tags": tags}
        made = retry_while(
            lambda: sqs.create_queue(**request),
            retryable=lambda exc: "QueueDeletedRecently" in str(error_code(exc)),
            timeout=RECREATE_TIMEOUT_S,
            first_delay=5.0,
        )
        return str(made["QueueUrl"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        sqs = ctx.client("sqs")
        answer: dict[str, Any] | None = or_none(
            lambda: sqs.get_queue_attributes(QueueUrl=id, AttributeNames=["All"])
        )
        return answer

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        if live is not None:
            live.update(url=id, name=id.rsplit("/", 1)[-1])
        return live

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        sqs = ctx.client("sqs")
        delete_and_wait_gone(
            lambda: sqs.delete_queue(QueueUrl=id),
            lambda: self.describe(ctx, id),
            what=f"queue {id}",
            timeout=DELETE_TIMEOUT_S,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Names are unique per region: a queue of the name with our address tag is ours."""
        sqs = ctx.client("sqs")
        found = or_none(lambda: sqs.get_queue_url(QueueName=desired["name"]))
        if found is None:
            return None
        url = str(found["QueueUrl"])
        tags = self.tagging.read(sqs, url) if self.tagging else {}
        return url if is_ours(tags, desired) else None
