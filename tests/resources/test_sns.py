from __future__ import annotations

import json
from typing import Any

import pytest

from deployer.diff import canonical_json
from deployer.drift import DRIFTED, IN_SYNC, detect_drift
from deployer.model import Node

TOPIC = "primary:aws_sns_topic.alarms"
SECONDARY_TOPIC = "secondary:aws_sns_topic.alarms"


def topic_tags(sns: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}


def test_topic_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(TOPIC)
    assert deployment.diff(TOPIC) == {}
    arn = deployment.entry(TOPIC)["id"]
    assert arn.endswith(":payments-alarms-dev")
    sns = client_for("sns")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    logs_key_arn = deployment.read("primary:aws_kms_key.logs")["arn"]
    assert attributes["KmsMasterKeyId"] == logs_key_arn
    assert attributes["DisplayName"] == "payments dev alarms (primary)"
    tags = topic_tags(sns, arn)
    assert tags["deployer:address"] == "aws_sns_topic.alarms"
    assert tags["Name"] == "payments-alarms-dev"


def test_secondary_topic_uses_the_secondary_key(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECONDARY_TOPIC)
    arn = deployment.entry(SECONDARY_TOPIC)["id"]
    assert ":eu-west-1:" in arn
    attributes = client_for("sns", "eu-west-1").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["KmsMasterKeyId"] == deployment.read("secondary:aws_kms_key.logs")["arn"]


@pytest.mark.parametrize(
    ("attribute", "key", "value"),
    [
        ("display_name", "DisplayName", "payments alarms"),
        ("kms_master_key_id", "KmsMasterKeyId", "alias/aws/sns"),
    ],
)
def test_topic_attributes_update_in_place(
    deployment: Any, client_for: Any, attribute: str, key: str, value: str
) -> None:
    deployment.apply(TOPIC)
    arn = deployment.entry(TOPIC)["id"]
    deployment.graph.node(TOPIC).attributes[attribute] = value
    assert deployment.plan(TOPIC).changes[TOPIC].action.value == "update"
    deployment.apply(TOPIC)
    assert deployment.entry(TOPIC)["id"] == arn
    assert client_for("sns").get_topic_attributes(TopicArn=arn)["Attributes"][key] == value


def test_a_deduplication_left_to_its_default_is_planned_back(
    deployment: Any, client_for: Any
) -> None:
    """A FIFO topic that leaves `content_based_deduplication` unset means the provider's
    false: switched on behind our back, it is an in-place update back, and apply heals it."""
    deployment.add(
        Node(
            "aws_sns_topic",
            "orders",
            "primary",
            {"name": "payments-orders-dev.fifo", "fifo_topic": True, "tags": {}},
        )
    )
    key = "primary:aws_sns_topic.orders"
    deployment.apply(key)
    arn = deployment.entry(key)["id"]
    sns = client_for("sns")

    def attributes() -> dict[str, str]:
        return dict(sns.get_topic_attributes(TopicArn=arn)["Attributes"])

    assert attributes()["FifoTopic"] == "true"
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true"
    )
    change = deployment.plan(key).changes[key]
    assert change.action.value == "update"
    assert list(change.diffs) == ["content_based_deduplication"]
    deployment.apply(key)
    assert attributes()["ContentBasedDeduplication"] == "false"
    assert deployment.entry(key)["id"] == arn


def test_topic_tags_update_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(TOPIC)
    arn = deployment.entry(TOPIC)["id"]
    tags = deployment.graph.node(TOPIC).attributes["tags"]
    tags["Owner"] = "payments-oncall"
    del tags["CostCenter"]
    deployment.apply(TOPIC)
    live_tags = topic_tags(client_for("sns"), arn)
    assert live_tags["Owner"] == "payments-oncall"
    assert "CostCenter" not in live_tags


def test_topic_name_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(TOPIC)
    deployment.graph.node(TOPIC).attributes["name"] = "payments-alerts-dev"
    change = deployment.plan(TOPIC).changes[TOPIC]
    assert change.action.value == "replace"
    assert change.forces == ["name"]


def test_topic_made_outside_is_adopted_and_corrected(deployment: Any, client_for: Any) -> None:
    sns = client_for("sns")
    made = sns.create_topic(Name="payments-alarms-dev", Attributes={"DisplayName": "old"})
    deployment.apply(TOPIC)
    assert deployment.entry(TOPIC)["id"] == made["TopicArn"]
    assert len(sns.list_topics()["Topics"]) == 1
    assert deployment.diff(TOPIC) == {}
    attributes = sns.get_topic_attributes(TopicArn=made["TopicArn"])["Attributes"]
    assert attributes["DisplayName"] == "payments dev alarms (primary)"


def test_deleted_topic_reads_as_gone(deployment: Any) -> None:
    deployment.apply(TOPIC)
    driver, ctx = deployment.driver_and_context(TOPIC)
    arn = deployment.entry(TOPIC)["id"]
    driver.delete(ctx, arn, None)
    assert driver.read(ctx, arn) is None
    driver.delete(ctx, arn, None)  # idempotent


def test_topic_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(TOPIC)
    client_for("sns").delete_topic(TopicArn=deployment.entry(TOPIC)["id"])
    assert deployment.plan(TOPIC).changes[TOPIC].action.value == "create"


def test_a_widened_topic_policy_is_drift_and_apply_restores_it(
    deployment: Any, client_for: Any
) -> None:
    """The topic's policy is declared and compared as a document: a statement letting anyone
    publish, added behind our back, is drift of `policy`; apply puts the declared one back."""
    deployment.apply(TOPIC)
    arn = deployment.entry(TOPIC)["id"]
    sns = client_for("sns")

    def policy() -> dict[str, Any]:
        return dict(json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]))

    declared = policy()
    assert {s["Sid"] for s in declared["Statement"]} == {
        "AccountAdministers",
        "CloudWatchAlarmsPublish",
    }
    anyone = {"Effect": "Allow", "Principal": "*", "Action": "SNS:Publish", "Resource": arn}
    widened = {**declared, "Statement": [*declared["Statement"], anyone]}
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(widened)
    )

    result = _drift_of(deployment, TOPIC)
    assert result.status == DRIFTED
    assert [c.name for c in result.changes] == ["policy"]
    deployment.apply(TOPIC)
    assert canonical_json(policy()) == canonical_json(declared)
    assert _drift_of(deployment, TOPIC).status == IN_SYNC


def _drift_of(deployment: Any, key: str) -> Any:
    workspace = key.split(":", 1)[0]
    report = detect_drift(deployment.graph, deployment.states(), deployment.clients, [workspace])
    return next(r for r in report.resources if r.key == key)
