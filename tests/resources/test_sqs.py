"""SQS queues: a KMS-encrypted queue with a dead-letter queue, declared by the test (the stack
uses no queue), applied through the real planner and executor against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deployer.model import Json, Node, Ref

ORDERS = "primary:aws_sqs_queue.orders"
DEAD_LETTERS = "primary:aws_sqs_queue.dead_letters"


@pytest.fixture
def queues(deployment: Any) -> Any:
    deployment.add(
        Node(
            "aws_sqs_queue",
            "dead_letters",
            "primary",
            {
                "name": "payments-orders-dlq-dev",
                "message_retention_seconds": 1_209_600,
                "kms_master_key_id": Ref("aws_kms_key.s3", "arn"),
            },
        ),
        Node(
            "aws_sqs_queue",
            "orders",
            "primary",
            {
                "name": "payments-orders-dev",
                "kms_master_key_id": Ref("aws_kms_key.s3", "arn"),
                "kms_data_key_reuse_period_seconds": 300,
                "visibility_timeout_seconds": 45,
                "redrive_policy": Json(
                    {
                        "deadLetterTargetArn": Ref("aws_sqs_queue.dead_letters", "arn"),
                        "maxReceiveCount": 5,
                    }
                ),
            },
        ),
    )
    return deployment


def attributes(client_for: Any, url: str) -> dict[str, str]:
    sqs = client_for("sqs")
    answer: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return answer


def test_round_trip_with_key_and_dead_letter_queue(queues: Any, client_for: Any) -> None:
    queues.apply(ORDERS)
    assert queues.diff(ORDERS) == {} and queues.diff(DEAD_LETTERS) == {}
    url = queues.entry(ORDERS)["id"]
    live = attributes(client_for, url)
    key_arn = queues.entry("primary:aws_kms_key.s3")["attributes"]["arn"]
    assert live["KmsMasterKeyId"] == key_arn
    dlq_arn = attributes(client_for, queues.entry(DEAD_LETTERS)["id"])["QueueArn"]
    assert json.loads(live["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    assert live["VisibilityTimeout"] == "45"
    assert live["MaximumMessageSize"] == "262144"  # the provider's default, sent at create
    tags = client_for("sqs").list_queue_tags(QueueUrl=url)["Tags"]
    assert tags["deployer:address"] == "aws_sqs_queue.orders"


def test_updates_in_place(queues: Any, client_for: Any) -> None:
    queues.apply(ORDERS)
    url = queues.entry(ORDERS)["id"]
    queues.graph.node(ORDERS).attributes["visibility_timeout_seconds"] = 90
    plan = queues.plan(ORDERS)
    assert plan.changes[ORDERS].action.value == "update"
    queues.apply(ORDERS)
    assert attributes(client_for, url)["VisibilityTimeout"] == "90"
    assert queues.entry(ORDERS)["id"] == url


def test_a_default_changed_out_of_band_is_planned_back(queues: Any, client_for: Any) -> None:
    """The spec leaves delay_seconds unset: the provider's default (0) is what is managed."""
    queues.apply(ORDERS)
    url = queues.entry(ORDERS)["id"]
    client_for("sqs").set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "7"})
    change = queues.plan(ORDERS).changes[ORDERS]
    assert change.action.value == "update"
    assert change.diffs["delay_seconds"] == (7, 0)
    queues.apply(ORDERS)
    assert attributes(client_for, url)["DelaySeconds"] == "0"


def test_fifo_forces_a_replacement(queues: Any) -> None:
    queues.apply(DEAD_LETTERS)
    node = queues.graph.node(DEAD_LETTERS)
    node.attributes.update(fifo_queue=True, name="payments-orders-dlq-dev.fifo")
    change = queues.plan(DEAD_LETTERS).changes[DEAD_LETTERS]
    assert change.action.value == "replace"
    assert "fifo_queue" in change.forces


def test_delete_is_idempotent_and_find_adopts(queues: Any, client_for: Any) -> None:
    queues.apply(DEAD_LETTERS)
    driver, ctx = queues.driver_and_context(DEAD_LETTERS)
    url = queues.entry(DEAD_LETTERS)["id"]
    desired = queues.desired(DEAD_LETTERS)
    assert driver.find(ctx, desired) == url
    driver.delete(ctx, url, None)
    assert driver.read(ctx, url) is None
    driver.delete(ctx, url, None)
    assert driver.find(ctx, desired) is None
    assert client_for("sqs").list_queues().get("QueueUrls", []) == []


def test_drift_reports_a_defaulted_attribute_changed_out_of_band(
    queues: Any, client_for: Any
) -> None:
    from deployer.drift import detect_drift

    queues.apply(ORDERS)
    url = queues.entry(ORDERS)["id"]
    client_for("sqs").set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "7"})
    report = detect_drift(queues.graph, queues.states(), queues.clients, ["primary"])
    (queue,) = [r for r in report.resources if r.key == ORDERS]
    assert queue.status == "drifted"
    assert [(c.name, c.expected, c.actual) for c in queue.changes] == [("delay_seconds", 0, 7)]
