"""VPC flow logs (resources/ec2/flow_logs.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.resource import resource_driver
from resources.ec2.flow_logs import flow_log_role_not_ready

VPC = "primary:aws_vpc.main"
FLOW_LOG = "primary:aws_flow_log.main"


def test_flow_log_create_waits_for_the_new_role(
    deployment: Any, client_for: Callable[..., Any], fail_once: Callable[..., list[str]]
) -> None:
    calls = fail_once(
        client_for("ec2"),
        "CreateFlowLogs",
        "InvalidParameter",
        "Unable to assume given IAM role, or role does not exist",
    )
    deployment.apply(FLOW_LOG)
    assert calls == ["CreateFlowLogs", "CreateFlowLogs"]
    assert deployment.diff(FLOW_LOG) == {}
    assert len(client_for("ec2").describe_flow_logs()["FlowLogs"]) == 1


def test_role_propagation_errors_are_told_apart() -> None:
    from botocore.exceptions import ClientError

    def error(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "CreateFlowLogs")

    assert flow_log_role_not_ready(error("InvalidParameter", "Unable to assume given IAM role"))
    assert not flow_log_role_not_ready(error("InvalidParameter", "Invalid log destination"))
    assert not flow_log_role_not_ready(error("FlowLogAlreadyExists", "already exists"))


def test_a_flow_log_reads_what_it_watches_by_the_kind_of_its_id() -> None:
    """One `ResourceId` in the description; the attribute is the id's kind (a transit gateway
    attachment's `tgw-attach-` is not a transit gateway's `tgw-`)."""
    table = resource_driver("aws_flow_log").table
    assert table is not None
    targets = ("vpc_id", "subnet_id", "transit_gateway_id", "transit_gateway_attachment_id")

    def read(resource_id: str) -> dict[str, Any]:
        live = table.read({"ResourceId": resource_id})
        return {k: v for k, v in live.items() if k in targets and v is not None}

    assert read("vpc-0a1") == {"vpc_id": "vpc-0a1"}
    assert read("subnet-0a1") == {"subnet_id": "subnet-0a1"}
    assert read("tgw-0a1") == {"transit_gateway_id": "tgw-0a1"}
    assert read("tgw-attach-0a1") == {"transit_gateway_attachment_id": "tgw-attach-0a1"}


def test_flow_log_tags_update_and_other_changes_replace(deployment: Any) -> None:
    deployment.apply(FLOW_LOG)
    flow_log_id = deployment.entry(FLOW_LOG)["id"]
    attributes = deployment.graph.node(FLOW_LOG).attributes
    attributes["tags"]["Owner"] = "security"
    deployment.apply(FLOW_LOG)
    live = deployment.read(FLOW_LOG)
    assert live is not None and live["tags"]["Owner"] == "security"
    assert deployment.entry(FLOW_LOG)["id"] == flow_log_id
    attributes["traffic_type"] = "REJECT"
    change = deployment.plan(FLOW_LOG).changes[FLOW_LOG]
    assert (change.action.value, change.forces) == ("replace", ["traffic_type"])
    deployment.apply(FLOW_LOG)
    assert deployment.entry(FLOW_LOG)["id"] != flow_log_id
    assert deployment.diff(FLOW_LOG) == {}


def test_flow_log_driver_with_a_role_made_here(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    """The driver alone, with a role created in the test (independent of resources/iam.py)."""
    deployment.apply("primary:aws_cloudwatch_log_group.flow_logs", VPC)
    role_arn = client_for("iam").create_role(
        RoleName="flow-logs-test",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    driver, ctx = deployment.driver_and_context(FLOW_LOG)
    desired = {
        "vpc_id": deployment.entry(VPC)["id"],
        "traffic_type": "ACCEPT",
        "log_destination_type": "cloud-watch-logs",
        "log_destination": deployment.read("primary:aws_cloudwatch_log_group.flow_logs")["arn"],
        "iam_role_arn": role_arn,
        "max_aggregation_interval": 60,
        "tags": {"deployer:address": "aws_flow_log.main", "Workspace": "primary"},
    }
    flow_log_id = driver.create(ctx, desired)
    live = driver.read(ctx, flow_log_id)
    assert live is not None
    assert {k: live[k] for k in desired} == desired
    assert driver.find(ctx, desired) == flow_log_id


def test_a_role_updated_in_place_does_not_replace_the_other_region_flow_log(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    """The secondary's flow log uses the primary's role through a look-up; the role's trust
    policy put back in place changes nothing the flow log uses (its ARN), so the plan updates
    the role and leaves the flow log alone, where deferring the whole look-up would make the
    ARN unknown and force a new flow log."""
    secondary = "secondary:aws_flow_log.main"
    deployment.apply(secondary)
    role = deployment.entry("primary:aws_iam_role.flow_logs")["id"]
    client_for("iam").update_assume_role_policy(
        RoleName=role,
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}',
    )
    plan = deployment.plan(secondary)
    assert plan.changes["primary:aws_iam_role.flow_logs"].action.value == "update"
    assert plan.changes[secondary].action.value == "no-op"
