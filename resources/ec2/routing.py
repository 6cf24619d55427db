"""Routing: route tables, their routes (each a resource of its own) and their associations
with subnets or gateways."""

from __future__ import annotations

from typing import Any

from deployer.attributes import Attr, Table
from deployer.aws import poll, retry_while
from deployer.batch import BatchRead, Item
from deployer.errors import DeployerError, error_code, ignore_missing
from deployer.resource import Context, Resource, resource
from deployer.waiting import delete_when_released
from resources.ec2.shared import (
    ASSOCIATION_ID,
    EC2_PROPAGATION_TIMEOUT,
    ROUTE_TABLES,
    TAGS,
    Ec2Resource,
    value_filters,
)

# AWS associates a table in seconds; Terraform allows 5 minutes.
ROUTE_TABLE_ASSOCIATION_TIMEOUT = 300.0

# A route's target changes in place with ReplaceRoute, which names the route as CreateRoute
# does (its table and destination).
REPLACE_ROUTE = "ReplaceRoute"
REPLACED = {REPLACE_ROUTE: True}

ROUTE = Table(
    # The route's table is part of its id, not of its description.
    Attr("route_table_id", create="RouteTableId", force_new=True, also=REPLACED),
    Attr("destination_cidr_block", "DestinationCidrBlock", force_new=True, also=REPLACED),
    Attr("destination_ipv6_cidr_block", "DestinationIpv6CidrBlock", force_new=True, also=REPLACED),
    Attr("destination_prefix_list_id", "DestinationPrefixListId", force_new=True, also=REPLACED),
    # Targets: one of them.
    Attr("gateway_id", "GatewayId", update=True, also=REPLACED),
    Attr("nat_gateway_id", "NatGatewayId", update=True, also=REPLACED),
    Attr("transit_gateway_id", "TransitGatewayId", update=True, also=REPLACED),
    Attr("vpc_peering_connection_id", "VpcPeeringConnectionId", update=True, also=REPLACED),
    Attr("egress_only_gateway_id", "EgressOnlyInternetGatewayId", update=True, also=REPLACED),
    Attr("network_interface_id", "NetworkInterfaceId", update=True, also=REPLACED),
    Attr("local_gateway_id", "LocalGatewayId", update=True, also=REPLACED),
    Attr("carrier_gateway_id", "CarrierGatewayId", update=True, also=REPLACED),
    Attr("core_network_arn", "CoreNetworkArn", update=True, also=REPLACED),
    Attr("origin", "Origin", computed=True),
    Attr("state", "State", computed=True),
    service="ec2",
    create_call="CreateRoute",
    described="Route",
    other_calls=(REPLACE_ROUTE,),
)
# The attributes naming where a route goes (the route table's `route` blocks use them too).
ROUTE_TARGETS = ROUTE.names(lambda row: row.updatable)


def route_blocks(routes: list[Item] | None) -> list[dict[str, Any]]:
    """A table's routes as Terraform reports its `route` blocks: without the local route and
    gateway endpoints' prefix-list routes."""
    return [
        {
            "cidr_block": route.get("DestinationCidrBlock"),
            **{k: v for k, v in ROUTE.read(route).items() if k in ROUTE_TARGETS and v},
        }
        for route in routes or []
        if route.get("GatewayId") != "local" and not route.get("DestinationPrefixListId")
    ]


@resource
class RouteTable(Ec2Resource):
    """A table without inline routes: routes are `aws_route` resources of their own."""

    type = "aws_route_table"
    arn_kind = ("ec2", "route-table")
    table = Table(
        Attr("arn", computed=True),
        Attr("vpc_id", "VpcId", force_new=True),
        Attr("owner_id", "OwnerId", computed=True),
        # Reported as Terraform does, never managed here: routes are `aws_route` resources and
        # the VPC's unmanaged scan reports any other one, so neither is compared (a spec that
        # sets them is refused: no call of the table changes them).
        Attr("route", "Routes", computed=True, from_api=route_blocks),
        Attr(
            "propagating_vgws",
            "PropagatingVgws",
            computed=True,
            from_api=lambda vgws: [v["GatewayId"] for v in vgws or []],
        ),
        TAGS,
        service="ec2",
        create_call="CreateRouteTable",
        described="RouteTable",
        id_parameter="RouteTableId",
    )
    batched_read = (ROUTE_TABLES, "route-table-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        return self.create_call(ctx, desired)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "arn": self.arn(ctx, live["owner_id"], id)}

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_route_table(RouteTableId=id),
            what=f"route table {id}",
            timeout=EC2_PROPAGATION_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return self.find_tagged(ctx, desired, value_filters({"vpc-id": desired.get("vpc_id")}))


# A target created a moment ago may not be visible to CreateRoute yet.
TARGET_NOT_VISIBLE_YET = frozenset(
    {
        "InvalidGatewayID.NotFound",
        "InvalidNatGatewayID.NotFound",
        "InvalidTransitGatewayID.NotFound",
        "InvalidRouteTableID.NotFound",
    }
)


@resource
class Route(Resource):
    """id = `<route table id>_<destination>` (Terraform's import id); new targets replace_route."""

    type = "aws_route"
    taggable = False
    table = ROUTE

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        params = self.table.create_parameters(desired)
        result = retry_while(
            lambda: ec2.create_route(**params),
            retryable=lambda exc: error_code(exc) in TARGET_NOT_VISIBLE_YET,
            timeout=EC2_PROPAGATION_TIMEOUT,
        )
        if not result.get("Return", True):
            raise DeployerError(f"CreateRoute refused {route_id(desired)} without an error")
        return route_id(desired)

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [BatchRead(ROUTE_TABLES, "route-table-id", split_route_id(id)[0])]

    def describe(self, ctx: Context, id: str) -> Item | None:
        table_id, destination = split_route_id(id)
        table = ctx.describe_one(ROUTE_TABLES, "route-table-id", table_id)
        routes = (table or {}).get("Routes", [])
        return next((r for r in routes if r.get("DestinationCidrBlock") == destination), None)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "route_table_id": split_route_id(id)[0]}

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """A new target: ReplaceRoute, with the route's table and destination and its target."""
        ctx.client("ec2").replace_route(**self.table.parameters(REPLACE_ROUTE, desired))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        table_id, destination = split_route_id(id)
        ec2 = ctx.client("ec2")
        ignore_missing(
            lambda: ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock=destination)
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A route is identified by its table and destination: there is at most one."""
        if not (desired.get("route_table_id") and desired.get("destination_cidr_block")):
            return None
        candidate = route_id(desired)
        return candidate if self.read(ctx, candidate) is not None else None


@resource
class RouteTableAssociation(Resource):
    """id = association id. A new table for the subnet is a replacement (see force_new)."""

    type = "aws_route_table_association"
    batched_read = (ROUTE_TABLES, ASSOCIATION_ID)
    taggable = False
    # Terraform moves a subnet to another table in place (ReplaceRouteTableAssociation), but
    # that mints a new association id and our update cannot change the id.
    table = Table(
        Attr("route_table_id", "RouteTableId", force_new=True),
        Attr("subnet_id", "SubnetId", force_new=True),
        Attr("gateway_id", "GatewayId", force_new=True),
        service="ec2",
        create_call="AssociateRouteTable",
        described="RouteTableAssociation",
    )

    def import_id(self, id: str, recorded: dict[str, Any]) -> str:
        """`subnet-id/rtb-id` (or `igw-id/rtb-id` for a gateway), as the provider imports it."""
        return f"{recorded.get('subnet_id') or recorded['gateway_id']}/{recorded['route_table_id']}"

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        return str(
            ec2.associate_route_table(**self.table.create_parameters(desired))["AssociationId"]
        )

    def describe(self, ctx: Context, id: str) -> Item | None:
        return association_in(ctx.describe(ROUTE_TABLES, ASSOCIATION_ID, id), id)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        ignore_missing(lambda: ec2.disassociate_route_table(AssociationId=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A subnet (or gateway) has one association: the one with the desired table is ours."""
        if not desired.get("route_table_id"):
            return None
        if desired.get("subnet_id"):
            filter_name, key, value = "association.subnet-id", "SubnetId", desired["subnet_id"]
        elif desired.get("gateway_id"):
            filter_name, key, value = "association.gateway-id", "GatewayId", desired["gateway_id"]
        else:
            return None
        filters = [
            {"Name": filter_name, "Values": [value]},
            {"Name": "route-table-id", "Values": [desired["route_table_id"]]},
        ]
        for table in ctx.client("ec2").describe_route_tables(Filters=filters)["RouteTables"]:
            for association in table.get("Associations", []):
                if association.get(key) == value and association_is_live(association):
                    return str(association["RouteTableAssociationId"])
        return None

    def wait_ready(self, ctx: Context, id: str) -> None:
        ec2 = ctx.client("ec2")

        def associated() -> bool | None:
            association = describe_association(ec2, id)
            state = (association or {}).get("AssociationState", {}).get("State", "associated")
            if state == "failed":
                raise DeployerError(f"route table association {id} failed")
            return True if state == "associated" else None

        poll(
            associated,
            what=f"route table association {id}",
            timeout=ROUTE_TABLE_ASSOCIATION_TIMEOUT,
            delay=2.0,
        )


# ---------------------------------------------------------------------------------------------
# Finders and helpers


def route_id(desired: dict[str, Any]) -> str:
    return f"{desired['route_table_id']}_{desired['destination_cidr_block']}"


def split_route_id(id: str) -> tuple[str, str]:
    table_id, destination = id.split("_", 1)
    return table_id, destination


def association_is_live(association: dict[str, Any]) -> bool:
    state = association.get("AssociationState", {}).get("State", "associated")
    return state in ("associating", "associated")


def describe_association(ec2: Any, association_id: str) -> dict[str, Any] | None:
    tables = ROUTE_TABLES.fetch(ec2, ASSOCIATION_ID, [association_id])[association_id]
    return association_in(tables, association_id)


def association_in(tables: list[Item], association_id: str) -> dict[str, Any] | None:
    """The live association of that id among the route tables."""
    for table in tables:
        for association in table.get("Associations", []):
            if association.get("RouteTableAssociationId") == association_id:
                found: dict[str, Any] = association
                return found if association_is_live(found) else None
    return None
