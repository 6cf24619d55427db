from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from resources.logs import kms_key_not_usable_yet

GROUP = "primary:aws_cloudwatch_log_group.flow_logs"
NAME = "/aws/vpc/flow-logs/payments-vpc-dev"


def describe(logs: Any, name: str = NAME) -> dict[str, Any]:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    (group,) = [g for g in groups if g["logGroupName"] == name]
    return dict(group)


def intercept(
    client: Any, operation: str, fail_first_with: str | None = None
) -> list[dict[str, Any]]:
    """Answer `operation` ourselves (moto lacks it, or to fail it once); returns the params seen."""
    seen: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        seen.append(json.loads(params["body"]))
        if fail_first_with is None:
            return AWSResponse("https://logs.amazonaws.com", 200, {}, None), {}
        if len(seen) > 1:
            return None  # on to moto
        error = {"Code": "InvalidParameterException", "Message": fail_first_with}
        return AWSResponse("https://logs.amazonaws.com", 400, {}, None), {"Error": error}

    client.meta.events.register(f"before-call.logs.{operation}", hook)
    return seen


def test_round_trip(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(GROUP)
    assert deployment.diff(GROUP) == {}
    assert deployment.entry(GROUP)["id"] == NAME
    logs = client_for("logs")
    group = describe(logs)
    assert group["retentionInDays"] == 365
    key_arn = deployment.entry("primary:aws_kms_key.logs")["attributes"]["arn"]
    assert group["kmsKeyId"] == key_arn
    live = deployment.read(GROUP)
    assert live is not None
    assert live["arn"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{NAME}"
    tags = logs.list_tags_for_resource(resourceArn=live["arn"])["tags"]
    assert tags["deployer:address"] == "aws_cloudwatch_log_group.flow_logs"
    assert tags["Workspace"] == "primary"


@pytest.mark.parametrize("days", [30, 0])
def test_retention_updates_in_place(
    deployment: Any, client_for: Callable[..., Any], days: int
) -> None:
    deployment.apply(GROUP)
    deployment.graph.node(GROUP).attributes["retention_in_days"] = days
    assert deployment.plan(GROUP).changes[GROUP].action.value == "update"
    deployment.apply(GROUP)
    group = describe(client_for("logs"))
    # 0 is Terraform's "never expire": AWS then reports no retention at all.
    assert group.get("retentionInDays") == (days or None)
    assert deployment.diff(GROUP) == {}


def test_tags_update(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(GROUP)
    tags = deployment.graph.node(GROUP).attributes["tags"]
    tags["Owner"] = "security"
    del tags["CostCenter"]
    deployment.apply(GROUP)
    live = deployment.read(GROUP)
    assert live is not None
    on_aws = client_for("logs").list_tags_for_resource(resourceArn=live["arn"])["tags"]
    assert on_aws["Owner"] == "security"
    assert "CostCenter" not in on_aws


def test_kms_key_change_associates_the_new_key(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    """moto 5.2 lacks AssociateKmsKey/DisassociateKmsKey: check the calls the driver makes."""
    deployment.apply(GROUP)
    driver, ctx = deployment.driver_and_context(GROUP)
    live = deployment.read(GROUP)
    assert live is not None
    logs = client_for("logs")
    associated = intercept(logs, "AssociateKmsKey")
    disassociated = intercept(logs, "DisassociateKmsKey")
    other_key = "arn:aws:kms:us-east-1:123456789012:key/other"
    driver.update(ctx, NAME, {**deployment.desired(GROUP), "kms_key_id": other_key}, live)
    assert associated == [{"logGroupName": NAME, "kmsKeyId": other_key}]
    driver.update(ctx, NAME, {**deployment.desired(GROUP), "kms_key_id": None}, live)
    assert disassociated == [{"logGroupName": NAME}]


def test_create_waits_until_the_kms_key_is_usable(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    calls = intercept(
        client_for("logs"),
        "CreateLogGroup",
        fail_first_with="The specified KMS key does not exist or is not allowed to be used",
    )
    deployment.apply(GROUP)
    assert len(calls) == 2
    assert deployment.diff(GROUP) == {}


def test_kms_errors_are_told_apart() -> None:
    from botocore.exceptions import ClientError

    def error(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "CreateLogGroup")

    assert kms_key_not_usable_yet(error("InvalidParameterException", "KMS key is not allowed"))
    assert not kms_key_not_usable_yet(error("InvalidParameterException", "Invalid log group name"))
    assert not kms_key_not_usable_yet(error("ResourceAlreadyExistsException", "KMS"))


@pytest.mark.parametrize(
    ("attribute", "value"), [("name", "/aws/vpc/other"), ("log_group_class", "INFREQUENT_ACCESS")]
)
def test_name_and_class_force_replacement(deployment: Any, attribute: str, value: str) -> None:
    deployment.apply(GROUP)
    deployment.graph.node(GROUP).attributes[attribute] = value
    change = deployment.plan(GROUP).changes[GROUP]
    assert (change.action.value, change.forces) == ("replace", [attribute])


def test_delete_then_read_is_none(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(GROUP)
    driver, ctx = deployment.driver_and_context(GROUP)
    driver.delete(ctx, NAME, None)
    assert driver.read(ctx, NAME) is None
    assert client_for("logs").describe_log_groups(logGroupNamePrefix=NAME)["logGroups"] == []
    driver.delete(ctx, NAME, None)


def test_read_does_not_mistake_a_longer_name(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    client_for("logs").create_log_group(logGroupName=NAME + "-other")
    driver, ctx = deployment.driver_and_context(GROUP)
    assert driver.read(ctx, NAME) is None


def test_deleted_outside_is_planned_for_creation(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    deployment.apply(GROUP)
    client_for("logs").delete_log_group(logGroupName=NAME)
    assert deployment.plan(GROUP).changes[GROUP].action.value == "create"
    deployment.apply(GROUP)
    assert describe(client_for("logs"))["retentionInDays"] == 365


def test_interrupted_create_is_adopted(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(GROUP)
    entry = deployment.entry(GROUP)
    deployment.states()["primary"].record(
        "aws_cloudwatch_log_group.flow_logs",
        {"type": entry["type"], "status": "creating", "applied": entry["applied"]},
    )
    client_for("logs").delete_retention_policy(logGroupName=NAME)  # crashed before retention
    deployment.apply(GROUP)
    assert deployment.entry(GROUP)["id"] == NAME
    assert describe(client_for("logs"))["retentionInDays"] == 365


def test_a_retention_set_out_of_band_is_planned_back_to_the_default(
    deployment: Any, client_for: Any
) -> None:
    """A group whose node leaves `retention_in_days` unset keeps logs forever (the provider's
    default 0): a retention put behind the deployer's back is a change back."""
    from deployer.model import Node

    deployment.add(Node("aws_cloudwatch_log_group", "audit", "primary", {"name": "/audit"}))
    key = "primary:aws_cloudwatch_log_group.audit"
    deployment.apply(key)
    logs = client_for("logs")
    logs.put_retention_policy(logGroupName="/audit", retentionInDays=7)
    change = deployment.plan(key).changes[key]
    assert change.action.value == "update"
    assert change.diffs["retention_in_days"] == (7, 0)
    deployment.apply(key)
    assert "retentionInDays" not in describe(logs, "/audit")
