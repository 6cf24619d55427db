"""VPC flow logs: what crosses a VPC's (or a subnet's, an interface's) network, logged."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from deployer.attributes import Attr, Table
from deployer.aws import iam_propagation_error, retry_while
from deployer.errors import DeployerError, error_code, ignore_missing
from deployer.resource import Context, resource
from resources.ec2.shared import (
    FLOW_LOGS,
    TAGS,
    Ec2Resource,
    raise_unsuccessful,
)

# A new IAM role not yet assumable by VPC Flow Logs: Terraform allows 2 minutes.
IAM_PROPAGATION_TIMEOUT = 120.0

# What a flow log watches, one of these: the attribute, the prefix of the id it holds and the
# `ResourceType` CreateFlowLogs takes with it.
FLOW_LOG_TARGETS: dict[str, tuple[str, str]] = {
    "vpc_id": ("vpc-", "VPC"),
    "subnet_id": ("subnet-", "Subnet"),
    "eni_id": ("eni-", "NetworkInterface"),
    "transit_gateway_attachment_id": ("tgw-attach-", "TransitGatewayAttachment"),
    "transit_gateway_id": ("tgw-", "TransitGateway"),
    "regional_nat_gateway_id": ("nat-", "RegionalNatGateway"),
}


def watched(prefix: str) -> Callable[[str | None], str | None]:
    """The watched resource's id if it is of this kind (`tgw-attach-1` is not a `tgw-`)."""
    return lambda id: id if id and id.rsplit("-", 1)[0] + "-" == prefix else None


def target_row(name: str) -> Attr:
    prefix, _ = FLOW_LOG_TARGETS[name]
    return Attr(
        name,
        "ResourceId",
        create="ResourceIds",
        force_new=True,
        from_api=watched(prefix),
        to_api=lambda id: [id],
    )


@resource
class FlowLog(Ec2Resource):
    """Flow logs cannot be changed, only tagged: everything else forces a new one."""

    type = "aws_flow_log"
    arn_kind = ("ec2", "vpc-flow-log")
    table = Table(
        *(target_row(name) for name in FLOW_LOG_TARGETS),
        Attr("traffic_type", "TrafficType", force_new=True),
        Attr(
            "log_destination_type",
            "LogDestinationType",
            force_new=True,
            default="cloud-watch-logs",
        ),
        Attr("log_destination", "LogDestination", force_new=True),
        Attr("iam_role_arn", "DeliverLogsPermissionArn", force_new=True),
        Attr("deliver_cross_account_role", "DeliverCrossAccountRole", force_new=True),
        Attr("log_format", "LogFormat", force_new=True),
        Attr(
            "max_aggregation_interval",
            "MaxAggregationInterval",
            force_new=True,
            default=600,
            to_api=int,
        ),
        # Not supported (S3 delivery options): never sent, nor read.
        Attr("destination_options", create=False, force_new=True),
        TAGS,
        service="ec2",
        create_call="CreateFlowLogs",
        described="FlowLog",
        id_parameter="FlowLogId",
    )
    batched_read = (FLOW_LOGS, "flow-log-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        _, resource_type = flow_log_target(desired)
        params: dict[str, Any] = {
            # AWS requires a traffic type for all but transit gateways: all of it, unless said.
            "TrafficType": "ALL",
            **self.table.create_parameters(desired),
            "ResourceType": resource_type,
            # Makes botocore's own retries of this call idempotent (it does not fill it here).
            "ClientToken": str(uuid.uuid4()),
            **self.tag_specifications(desired),
        }

        def create_flow_log() -> str:
            result = ec2.create_flow_logs(**params)
            # AWS reports per-resource failures in the body, not as an error.
            raise_unsuccessful(ec2, result.get("Unsuccessful"), "CreateFlowLogs")
            return str(result["FlowLogIds"][0])

        return retry_while(
            create_flow_log, retryable=flow_log_role_not_ready, timeout=IAM_PROPAGATION_TIMEOUT
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")

        def delete() -> None:
            result = ec2.delete_flow_logs(FlowLogIds=[id])
            raise_unsuccessful(ec2, result.get("Unsuccessful"), "DeleteFlowLogs")

        ignore_missing(delete)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        if not any(desired.get(attribute) for attribute in FLOW_LOG_TARGETS):
            return None
        resource_id, _ = flow_log_target(desired)
        return self.find_tagged(ctx, desired, [{"Name": "resource-id", "Values": [resource_id]}])


def flow_log_target(desired: dict[str, Any]) -> tuple[str, str]:
    """(resource id, ResourceType) of what the flow log watches."""
    for attribute, (_, resource_type) in FLOW_LOG_TARGETS.items():
        if desired.get(attribute):
            return str(desired[attribute]), resource_type
    raise DeployerError("a flow log needs one of " + ", ".join(FLOW_LOG_TARGETS))


def flow_log_role_not_ready(exc: BaseException) -> bool:
    """A role a few seconds old that VPC Flow Logs cannot assume yet.

    AWS says so with `InvalidParameter: Unable to assume given IAM role`, a code that
    `iam_propagation_error` does not cover; Terraform retries the same message.
    """
    if iam_propagation_error(exc):
        return True
    return error_code(exc) == "InvalidParameter" and "unable to assume" in str(exc).lower()
