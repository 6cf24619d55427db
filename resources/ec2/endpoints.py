"""VPC endpoints: private routes to AWS services (the stack's are gateway endpoints)."""

from __future__ import annotations

import uuid
from typing import Any

from deployer.attributes import Attr, Table
from deployer.aws import poll
from deployer.batch import Item
from deployer.errors import DeployerError
from deployer.resource import Context, resource
from deployer.waiting import delete_and_wait_gone
from resources.ec2.shared import (
    TAGS,
    VPC_ENDPOINTS,
    Ec2Resource,
    as_list,
    raise_unsuccessful,
    value_filters,
)

# AWS: gateway endpoints are available in seconds, interface ones in minutes; Terraform's
# create and delete timeouts are 10 min.
VPC_ENDPOINT_AVAILABLE_TIMEOUT = 600.0
VPC_ENDPOINT_DELETE_TIMEOUT = 600.0

GONE_ENDPOINT_STATES = frozenset({"deleted", "deleting"})

# An endpoint changes in place with ModifyVpcEndpoint: a policy or a setting as it is created,
# the sets of route tables, subnets and groups as what to add and what to remove
# (`AddRouteTableIds` and `RemoveRouteTableIds`).
MODIFY = "ModifyVpcEndpoint"


def added(parameter: str) -> dict[str, str]:
    return {MODIFY: f"Add{parameter}"}


@resource
class VpcEndpoint(Ec2Resource):
    """An endpoint whose route tables, subnets, groups and policy change in place."""

    type = "aws_vpc_endpoint"
    arn_kind = ("ec2", "vpc-endpoint")
    policy_attributes = frozenset({"policy"})
    expected_seconds = 60.0
    table = Table(
        Attr("arn", computed=True),
        Attr("vpc_id", "VpcId", force_new=True),
        Attr("service_name", "ServiceName", force_new=True),
        Attr("vpc_endpoint_type", "VpcEndpointType", force_new=True, default="Gateway"),
        Attr(
            "route_table_ids",
            "RouteTableIds",
            update=True,
            also=added("RouteTableIds"),
            from_api=as_list,
        ),
        Attr("subnet_ids", "SubnetIds", update=True, also=added("SubnetIds"), from_api=as_list),
        Attr(
            "security_group_ids",
            "Groups",
            create="SecurityGroupIds",
            update=True,
            also=added("SecurityGroupIds"),
            from_api=lambda groups: [g["GroupId"] for g in groups or []],
        ),
        Attr("network_interface_ids", "NetworkInterfaceIds", computed=True, from_api=as_list),
        Attr("policy", "PolicyDocument", update=True, also={MODIFY: True}),
        Attr("private_dns_enabled", "PrivateDnsEnabled", update=True, also={MODIFY: True}),
        Attr("requester_managed", "RequesterManaged", computed=True, from_api=bool),
        Attr("state", "State", computed=True),
        Attr("owner_id", "OwnerId", computed=True),
        TAGS,
        service="ec2",
        create_call="CreateVpcEndpoint",
        described="VpcEndpoint",
        other_calls=(MODIFY,),
        id_parameter="VpcEndpointId",
    )
    batched_read = (VPC_ENDPOINTS, "vpc-endpoint-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        # The token makes botocore's own retries of this call idempotent (it fills none here).
        return self.create_call(ctx, desired, ClientToken=str(uuid.uuid4()))

    def describe(self, ctx: Context, id: str) -> Item | None:
        return unless_gone_endpoint(super().describe(ctx, id))

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "arn": self.arn(ctx, live["owner_id"], id)}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """One ModifyVpcEndpoint: the changed settings, and what each changed set gains and
        loses; then the tags."""
        changed = self.changed(desired, live)
        sets = self.table.names(lambda row: str(row.also.get(MODIFY, "")).startswith("Add"))
        request = self.table.parameters(MODIFY, desired, changed - sets)
        for name in sorted(changed & sets):
            add = str(self.table.rows[name].also[MODIFY])
            wanted, present = set(desired[name]), set(live.get(name) or [])
            if wanted - present:
                request[add] = sorted(wanted - present)
            if present - wanted:
                request["Remove" + add.removeprefix("Add")] = sorted(present - wanted)
        if request:
            ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=id, **request)
        self.apply_changes(ctx, id, desired, live, changed & {"tags"})

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")

        def delete() -> None:
            result = ec2.delete_vpc_endpoints(VpcEndpointIds=[id])
            # AWS reports a failure per endpoint in the body, not as an error.
            raise_unsuccessful(ec2, result.get("Unsuccessful"), "DeleteVpcEndpoints")

        delete_and_wait_gone(
            delete,
            lambda: live_vpc_endpoint(ec2, id),
            what=f"VPC endpoint {id}",
            timeout=VPC_ENDPOINT_DELETE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return self.find_tagged(
            ctx,
            desired,
            value_filters(
                {"vpc-id": desired.get("vpc_id"), "service-name": desired.get("service_name")}
            ),
            keep=lambda endpoint: endpoint.get("State", "").lower() not in GONE_ENDPOINT_STATES,
        )

    def wait_ready(self, ctx: Context, id: str) -> None:
        ec2 = ctx.client("ec2")

        def available() -> bool | None:
            endpoint = live_vpc_endpoint(ec2, id)
            state = (endpoint or {}).get("State", "").lower()
            if endpoint is None or state in ("failed", "rejected", "expired"):
                raise DeployerError(f"VPC endpoint {id} is {state or 'gone'}")
            return True if state == "available" else None

        poll(
            available,
            what=f"VPC endpoint {id} to become available",
            timeout=VPC_ENDPOINT_AVAILABLE_TIMEOUT,
            delay=5.0,
        )


def live_vpc_endpoint(ec2: Any, endpoint_id: str) -> Item | None:
    return unless_gone_endpoint(VPC_ENDPOINTS.fetch_one(ec2, "vpc-endpoint-id", endpoint_id))


def unless_gone_endpoint(endpoint: Item | None) -> Item | None:
    """The endpoint unless it is deleted or on its way out."""
    gone = endpoint is None or endpoint.get("State", "").lower() in GONE_ENDPOINT_STATES
    return None if gone else endpoint
