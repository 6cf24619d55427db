"""EC2/VPC: VPCs, subnets, gateways, Elastic IPs, route tables, routes and associations,
endpoints, security groups and their rules, and flow logs.

EC2 creates have no idempotency that survives a crash (and moto honours none), so every driver
of a taggable type finds an interrupted create by its identity tags before creating again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import (
    DeployerError,
    error_code,
    iam_propagation_error,
    is_not_found,
    paginate,
    poll,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.batch import BatchRead, Describe, Item, item_key
from deployer.diff import equivalent
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource
from deployer.unmanaged import Managed, UnmanagedItem

# The whole IPv4 internet: the destination of the allow-all egress rule AWS gives a new group.
ANYWHERE_IPV4 = "0.0.0.0/0"

# Waits, in seconds. Creates: Terraform's defaults (10 min) cover AWS's "a few minutes" for
# NAT gateways and seconds for the rest. Deletes that AWS refuses while dependents are being
# released (Lambda ENIs hold subnets and security groups for up to ~20 min after the function
# is deleted): Terraform's default delete timeouts for the same resources.
VPC_AVAILABLE_TIMEOUT = 600.0
SUBNET_AVAILABLE_TIMEOUT = 600.0
NAT_GATEWAY_AVAILABLE_TIMEOUT = 600.0
NAT_GATEWAY_DELETE_TIMEOUT = 1800.0
VPC_ENDPOINT_AVAILABLE_TIMEOUT = 600.0
VPC_ENDPOINT_DELETE_TIMEOUT = 600.0
ROUTE_TABLE_ASSOCIATION_TIMEOUT = 300.0
VPC_DELETE_TIMEOUT = 300.0
SUBNET_DELETE_TIMEOUT = 1200.0
SECURITY_GROUP_DELETE_TIMEOUT = 900.0
INTERNET_GATEWAY_DETACH_TIMEOUT = 1200.0
# NAT gateway deletion releases its EIP a moment after the gateway reads `deleted`.
EIP_RELEASE_TIMEOUT = 300.0
# A new resource id not yet visible to another EC2 API (eventual consistency), and a new IAM
# role not yet assumable by VPC Flow Logs: Terraform allows both 2 minutes.
EC2_PROPAGATION_TIMEOUT = 120.0
IAM_PROPAGATION_TIMEOUT = 120.0

# Error codes meaning "something still uses this; try again once it is released".
DEPENDENCY_CODES = frozenset({"DependencyViolation", "InvalidGroup.InUse"})
# Identity tags that together name one resource of one environment (see deployer.graph).
IDENTITY_TAG_KEYS: tuple[str, ...] = (ADDRESS_TAG, "Workspace", "Project", "Environment")


# --- Batched describes: a refresh reads every resource of a kind with one call per region ----

VPCS = Describe("ec2", "describe_vpcs", "Vpcs", {"vpc-id": item_key("VpcId")})
SUBNETS = Describe("ec2", "describe_subnets", "Subnets", {"subnet-id": item_key("SubnetId")})
INTERNET_GATEWAYS = Describe(
    "ec2",
    "describe_internet_gateways",
    "InternetGateways",
    {"internet-gateway-id": item_key("InternetGatewayId")},
)
ADDRESSES = Describe(
    "ec2", "describe_addresses", "Addresses", {"allocation-id": item_key("AllocationId")}
)
NAT_GATEWAYS = Describe(
    "ec2",
    "describe_nat_gateways",
    "NatGateways",
    {"nat-gateway-id": item_key("NatGatewayId")},
    # The one EC2 describe whose parameter is `Filter`, not `Filters`.
    request=lambda by, values: {"Filter": [{"Name": by, "Values": values}]},
)
ASSOCIATION_ID = "association.route-table-association-id"
ROUTE_TABLES = Describe(
    "ec2",
    "describe_route_tables",
    "RouteTables",
    {
        "route-table-id": item_key("RouteTableId"),
        "vpc-id": item_key("VpcId"),
        ASSOCIATION_ID: lambda table: [
            str(a["RouteTableAssociationId"])
            for a in table.get("Associations", [])
            if a.get("RouteTableAssociationId")
        ],
    },
)
VPC_ENDPOINTS = Describe(
    "ec2", "describe_vpc_endpoints", "VpcEndpoints", {"vpc-endpoint-id": item_key("VpcEndpointId")}
)
SECURITY_GROUPS = Describe(
    "ec2",
    "describe_security_groups",
    "SecurityGroups",
    {"group-id": item_key("GroupId"), "vpc-id": item_key("VpcId")},
)
SECURITY_GROUP_RULES = Describe(
    "ec2",
    "describe_security_group_rules",
    "SecurityGroupRules",
    {"security-group-rule-id": item_key("SecurityGroupRuleId"), "group-id": item_key("GroupId")},
)
ACLS = Describe("ec2", "describe_network_acls", "NetworkAcls", {"vpc-id": item_key("VpcId")})
FLOW_LOGS = Describe(
    "ec2", "describe_flow_logs", "FlowLogs", {"flow-log-id": item_key("FlowLogId")}
)
# Every rule of a group, asked by group (the default group has no rule resources of its own).


@resource
class Vpc(Resource):
    """DNS support and hostnames change in place; a new CIDR (or tenancy) needs a new VPC."""

    type = "aws_vpc"
    arn_kind = ("ec2", "vpc")
    force_new = frozenset({"cidr_block", "instance_tenancy"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        params: dict[str, Any] = {"CidrBlock": desired["cidr_block"]}
        if desired.get("instance_tenancy"):
            params["InstanceTenancy"] = desired["instance_tenancy"]
        vpc_id: str = ec2.create_vpc(**params, **tag_specifications("vpc", desired))["Vpc"]["VpcId"]
        try:
            poll(
                lambda: vpc_state(ec2, vpc_id) == "available" or None,
                what=f"VPC {vpc_id} to become available",
                timeout=VPC_AVAILABLE_TIMEOUT,
                delay=2.0,
            )
            set_vpc_dns(ec2, vpc_id, desired, AWS_VPC_DNS_DEFAULTS)
        except Exception:
            ec2.delete_vpc(VpcId=vpc_id)  # a failed create leaves nothing behind
            raise
        return vpc_id

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [
            BatchRead(VPCS, "vpc-id", id),
            *(BatchRead(kind, "vpc-id", id) for kind in (ROUTE_TABLES, SECURITY_GROUPS, ACLS)),
        ]

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        ec2 = ctx.client("ec2")
        vpc = ctx.describe_one(VPCS, "vpc-id", id)
        if vpc is None:
            return None
        main_tables = [
            t["RouteTableId"]
            for t in ctx.describe(ROUTE_TABLES, "vpc-id", id)
            if any(a.get("Main") for a in t.get("Associations", []))
        ]
        default_groups = [
            g for g in ctx.describe(SECURITY_GROUPS, "vpc-id", id) if g["GroupName"] == "default"
        ]
        default_acls = [a for a in ctx.describe(ACLS, "vpc-id", id) if a.get("IsDefault")]
        main_table = main_tables[0] if main_tables else None
        return {
            "id": id,
            "arn": ec2_arn(ctx, vpc["OwnerId"], f"vpc/{id}"),
            "cidr_block": vpc["CidrBlock"],
            "instance_tenancy": vpc.get("InstanceTenancy"),
            "enable_dns_support": vpc_attribute(ec2, id, "enableDnsSupport"),
            "enable_dns_hostnames": vpc_attribute(ec2, id, "enableDnsHostnames"),
            "dhcp_options_id": vpc.get("DhcpOptionsId"),
            "main_route_table_id": main_table,
            "default_route_table_id": main_table,
            "default_security_group_id": default_groups[0]["GroupId"] if default_groups else None,
            "default_network_acl_id": default_acls[0]["NetworkAclId"] if default_acls else None,
            "owner_id": vpc["OwnerId"],
            "tags": resource_tags(vpc),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        set_vpc_dns(ec2, id, desired, live)
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_vpc(VpcId=id), what=f"VPC {id}", timeout=VPC_DELETE_TIMEOUT
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(ctx.client("ec2"), "describe_vpcs", "Vpcs", "VpcId", desired)

    def unmanaged(self, ctx: Context, id: str, managed: Managed) -> Iterator[UnmanagedItem]:
        """Subnets, security groups and their rules, route tables and routes in the VPC that
        no state entry manages (see `unmanaged_in_vpc`)."""
        return unmanaged_in_vpc(ctx.client("ec2"), id, managed)


# AWS's settings for a new VPC, which create compares the desired ones with.
AWS_VPC_DNS_DEFAULTS: dict[str, Any] = {"enable_dns_support": True, "enable_dns_hostnames": False}


@resource
class Subnet(Resource):
    """Only public-IP mapping and tags change in place; its VPC, CIDR and AZ are for life."""

    type = "aws_subnet"
    arn_kind = ("ec2", "subnet")
    batched_read = (SUBNETS, "subnet-id")
    force_new = frozenset({"vpc_id", "cidr_block", "availability_zone", "availability_zone_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        params: dict[str, Any] = {"VpcId": desired["vpc_id"], "CidrBlock": desired["cidr_block"]}
        if desired.get("availability_zone"):
            params["AvailabilityZone"] = desired["availability_zone"]
        if desired.get("availability_zone_id"):
            params["AvailabilityZoneId"] = desired["availability_zone_id"]
        subnet_id: str = ec2.create_subnet(**params, **tag_specifications("subnet", desired))[
            "Subnet"
        ]["SubnetId"]
        try:
            poll(
                lambda: subnet_state(ec2, subnet_id) == "available" or None,
                what=f"subnet {subnet_id} to become available",
                timeout=SUBNET_AVAILABLE_TIMEOUT,
                delay=2.0,
            )
            if desired.get("map_public_ip_on_launch"):
                set_map_public_ip(ec2, subnet_id, True)
        except Exception:
            ec2.delete_subnet(SubnetId=subnet_id)  # a failed create leaves nothing behind
            raise
        return subnet_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        subnet = ctx.describe_one(SUBNETS, "subnet-id", id)
        if subnet is None:
            return None
        return {
            "id": id,
            "arn": subnet.get("SubnetArn") or ec2_arn(ctx, subnet["OwnerId"], f"subnet/{id}"),
            "vpc_id": subnet["VpcId"],
            "cidr_block": subnet["CidrBlock"],
            "availability_zone": subnet["AvailabilityZone"],
            "availability_zone_id": subnet.get("AvailabilityZoneId"),
            "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
            "assign_ipv6_address_on_creation": subnet.get("AssignIpv6AddressOnCreation", False),
            "owner_id": subnet.get("OwnerId"),
            "tags": resource_tags(subnet),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        wanted = desired.get("map_public_ip_on_launch")
        if wanted is not None and bool(wanted) != bool(live.get("map_public_ip_on_launch")):
            set_map_public_ip(ec2, id, bool(wanted))
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_subnet(SubnetId=id),
            what=f"subnet {id}",
            timeout=SUBNET_DELETE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"),
            "describe_subnets",
            "Subnets",
            "SubnetId",
            desired,
            extra_filters=value_filters({"vpc-id": desired.get("vpc_id")}),
        )


@resource
class InternetGateway(Resource):
    """Attached on create, detached before delete; moving it to another VPC is an update."""

    type = "aws_internet_gateway"
    arn_kind = ("ec2", "internet-gateway")
    batched_read = (INTERNET_GATEWAYS, "internet-gateway-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        igw_id: str = ec2.create_internet_gateway(
            **tag_specifications("internet-gateway", desired)
        )["InternetGateway"]["InternetGatewayId"]
        if desired.get("vpc_id"):
            try:
                attach_internet_gateway(ec2, igw_id, desired["vpc_id"])
            except Exception:
                ec2.delete_internet_gateway(InternetGatewayId=igw_id)
                raise
        return igw_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        igw = ctx.describe_one(INTERNET_GATEWAYS, "internet-gateway-id", id)
        if igw is None:
            return None
        attached = [
            a["VpcId"]
            for a in igw.get("Attachments", [])
            if a.get("State") in ("available", "attached", "attaching")
        ]
        return {
            "id": id,
            "arn": ec2_arn(ctx, igw["OwnerId"], f"internet-gateway/{id}"),
            "vpc_id": attached[0] if attached else None,
            "owner_id": igw["OwnerId"],
            "tags": resource_tags(igw),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        if desired.get("vpc_id") != live.get("vpc_id"):
            if live.get("vpc_id"):
                detach_internet_gateway(ec2, id, live["vpc_id"])
            if desired.get("vpc_id"):
                attach_internet_gateway(ec2, id, desired["vpc_id"])
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        current = self.read(ctx, id)
        if current is None:
            return
        if current.get("vpc_id"):
            detach_internet_gateway(ec2, id, current["vpc_id"])
        delete_when_released(
            lambda: ec2.delete_internet_gateway(InternetGatewayId=id),
            what=f"internet gateway {id}",
            timeout=INTERNET_GATEWAY_DETACH_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"),
            "describe_internet_gateways",
            "InternetGateways",
            "InternetGatewayId",
            desired,
        )


@resource
class ElasticIp(Resource):
    """id = allocation id. Released on delete (after its NAT gateway is gone)."""

    type = "aws_eip"
    arn_kind = ("ec2", "elastic-ip")
    batched_read = (ADDRESSES, "allocation-id")
    force_new = frozenset({"domain", "address", "public_ipv4_pool", "network_border_group"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {"Domain": desired.get("domain") or "vpc"}
        if desired.get("public_ipv4_pool"):
            params["PublicIpv4Pool"] = desired["public_ipv4_pool"]
        if desired.get("network_border_group"):
            params["NetworkBorderGroup"] = desired["network_border_group"]
        allocation = ctx.client("ec2").allocate_address(
            **params, **tag_specifications("elastic-ip", desired)
        )
        return str(allocation["AllocationId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        address = ctx.describe_one(ADDRESSES, "allocation-id", id)
        if address is None:
            return None
        return {
            "id": id,
            "allocation_id": id,
            "domain": address.get("Domain"),
            "public_ip": address.get("PublicIp"),
            "public_ipv4_pool": address.get("PublicIpv4Pool"),
            "network_border_group": address.get("NetworkBorderGroup"),
            "association_id": address.get("AssociationId") or None,
            "network_interface": address.get("NetworkInterfaceId") or None,
            "private_ip": address.get("PrivateIpAddress") or None,
            "instance": address.get("InstanceId") or None,
            "tags": resource_tags(address),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        update_tags(ctx.client("ec2"), id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")

        def release() -> bool | None:
            try:
                ec2.release_address(AllocationId=id)
            except Exception as exc:
                if is_not_found(exc):
                    return True
                if error_code(exc) == "InvalidIPAddress.InUse":
                    return None  # its NAT gateway is still letting go of it
                raise
            return True

        poll(release, what=f"Elastic IP {id} to be released", timeout=EIP_RELEASE_TIMEOUT)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"), "describe_addresses", "Addresses", "AllocationId", desired
        )


@resource
class NatGateway(Resource):
    """Ready when `available` (minutes on AWS); deleted only once its EIP can be released."""

    type = "aws_nat_gateway"
    arn_kind = ("ec2", "natgateway")
    batched_read = (NAT_GATEWAYS, "nat-gateway-id")
    expected_seconds = 120.0
    force_new = frozenset({"allocation_id", "subnet_id", "connectivity_type", "private_ip"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "SubnetId": desired["subnet_id"],
            "ConnectivityType": desired.get("connectivity_type") or "public",
        }
        if desired.get("allocation_id"):
            params["AllocationId"] = desired["allocation_id"]
        if desired.get("private_ip"):
            params["PrivateIpAddress"] = desired["private_ip"]
        # botocore fills ClientToken itself, so its own retries of this call cannot duplicate.
        nat = ctx.client("ec2").create_nat_gateway(
            **params, **tag_specifications("natgateway", desired)
        )["NatGateway"]
        return str(nat["NatGatewayId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        nat = unless_deleted_nat(ctx.describe_one(NAT_GATEWAYS, "nat-gateway-id", id))
        if nat is None:
            return None
        addresses = nat.get("NatGatewayAddresses") or [{}]
        primary = next((a for a in addresses if a.get("IsPrimary")), addresses[0])
        return {
            "id": id,
            "allocation_id": primary.get("AllocationId"),
            "association_id": primary.get("AssociationId"),
            "network_interface_id": primary.get("NetworkInterfaceId"),
            "private_ip": primary.get("PrivateIp"),
            "public_ip": primary.get("PublicIp"),
            "subnet_id": nat.get("SubnetId"),
            "vpc_id": nat.get("VpcId"),
            "connectivity_type": nat.get("ConnectivityType", "public"),
            "tags": resource_tags(nat),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        update_tags(ctx.client("ec2"), id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        try:
            ec2.delete_nat_gateway(NatGatewayId=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        # Its EIP cannot be released, nor its subnet deleted, until it is really gone.
        poll(
            lambda: True if live_nat_gateway(ec2, id) is None else None,
            what=f"NAT gateway {id} to be deleted",
            timeout=NAT_GATEWAY_DELETE_TIMEOUT,
            delay=10.0,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"),
            "describe_nat_gateways",
            "NatGateways",
            "NatGatewayId",
            desired,
            extra_filters=[
                *value_filters({"subnet-id": desired.get("subnet_id")}),
                {"Name": "state", "Values": ["pending", "available"]},
            ],
        )

    def wait_ready(self, ctx: Context, id: str) -> None:
        ec2 = ctx.client("ec2")
        poll(
            lambda: nat_gateway_available(ec2, id),
            what=f"NAT gateway {id} to become available",
            timeout=NAT_GATEWAY_AVAILABLE_TIMEOUT,
            delay=10.0,
        )


@resource
class RouteTable(Resource):
    """A table without inline routes: routes are `aws_route` resources of their own."""

    type = "aws_route_table"
    arn_kind = ("ec2", "route-table")
    batched_read = (ROUTE_TABLES, "route-table-id")
    force_new = frozenset({"vpc_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        table = ctx.client("ec2").create_route_table(
            VpcId=desired["vpc_id"], **tag_specifications("route-table", desired)
        )["RouteTable"]
        return str(table["RouteTableId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        table = ctx.describe_one(ROUTE_TABLES, "route-table-id", id)
        if table is None:
            return None
        return {
            "id": id,
            "arn": ec2_arn(ctx, table["OwnerId"], f"route-table/{id}"),
            "vpc_id": table["VpcId"],
            "owner_id": table["OwnerId"],
            # As Terraform reports it: without the local route and gateway endpoints' routes.
            "route": [
                route_block(r)
                for r in table.get("Routes", [])
                if r.get("GatewayId") != "local" and not r.get("DestinationPrefixListId")
            ],
            "propagating_vgws": [v["GatewayId"] for v in table.get("PropagatingVgws", [])],
            "tags": resource_tags(table),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        update_tags(ctx.client("ec2"), id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_route_table(RouteTableId=id),
            what=f"route table {id}",
            timeout=EC2_PROPAGATION_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"),
            "describe_route_tables",
            "RouteTables",
            "RouteTableId",
            desired,
            extra_filters=value_filters({"vpc-id": desired.get("vpc_id")}),
        )


# A route's target attributes and the API's names for them (request and response alike).
ROUTE_TARGETS: dict[str, str] = {
    "gateway_id": "GatewayId",
    "nat_gateway_id": "NatGatewayId",
    "transit_gateway_id": "TransitGatewayId",
    "vpc_peering_connection_id": "VpcPeeringConnectionId",
    "egress_only_gateway_id": "EgressOnlyInternetGatewayId",
    "network_interface_id": "NetworkInterfaceId",
    "local_gateway_id": "LocalGatewayId",
    "carrier_gateway_id": "CarrierGatewayId",
    "core_network_arn": "CoreNetworkArn",
}
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
    force_new = frozenset(
        {
            "route_table_id",
            "destination_cidr_block",
            "destination_ipv6_cidr_block",
            "destination_prefix_list_id",
        }
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        params = {
            "RouteTableId": desired["route_table_id"],
            "DestinationCidrBlock": desired["destination_cidr_block"],
            **route_targets(desired),
        }
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

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        table_id, destination = split_route_id(id)
        table = ctx.describe_one(ROUTE_TABLES, "route-table-id", table_id)
        if table is None:
            return None
        for route in table.get("Routes", []):
            if route.get("DestinationCidrBlock") == destination:
                targets = {attr: route.get(key) for attr, key in ROUTE_TARGETS.items()}
                return {
                    "id": id,
                    "route_table_id": table_id,
                    "destination_cidr_block": destination,
                    **targets,
                    "origin": route.get("Origin"),
                    "state": route.get("State"),
                }
        return None

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        table_id, destination = split_route_id(id)
        ctx.client("ec2").replace_route(
            RouteTableId=table_id, DestinationCidrBlock=destination, **route_targets(desired)
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        table_id, destination = split_route_id(id)
        try:
            ctx.client("ec2").delete_route(RouteTableId=table_id, DestinationCidrBlock=destination)
        except Exception as exc:
            if not is_not_found(exc):
                raise

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
    force_new = frozenset({"subnet_id", "gateway_id", "route_table_id"})

    def import_id(self, id: str, recorded: dict[str, Any]) -> str:
        """`subnet-id/rtb-id` (or `igw-id/rtb-id` for a gateway), as the provider imports it."""
        return f"{recorded.get('subnet_id') or recorded['gateway_id']}/{recorded['route_table_id']}"

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {"RouteTableId": desired["route_table_id"]}
        if desired.get("subnet_id"):
            params["SubnetId"] = desired["subnet_id"]
        if desired.get("gateway_id"):
            params["GatewayId"] = desired["gateway_id"]
        return str(ctx.client("ec2").associate_route_table(**params)["AssociationId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        tables = ctx.describe(ROUTE_TABLES, ASSOCIATION_ID, id)
        association = association_in(tables, id)
        if association is None:
            return None
        return {
            "id": id,
            "route_table_id": association["RouteTableId"],
            "subnet_id": association.get("SubnetId"),
            "gateway_id": association.get("GatewayId"),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            ctx.client("ec2").disassociate_route_table(AssociationId=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise

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


@resource
class VpcEndpoint(Resource):
    """A gateway endpoint; its route tables and policy change in place."""

    type = "aws_vpc_endpoint"
    arn_kind = ("ec2", "vpc-endpoint")
    policy_attributes = frozenset({"policy"})
    batched_read = (VPC_ENDPOINTS, "vpc-endpoint-id")
    expected_seconds = 60.0
    force_new = frozenset({"vpc_id", "service_name", "vpc_endpoint_type"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "VpcId": desired["vpc_id"],
            "ServiceName": desired["service_name"],
            "VpcEndpointType": desired.get("vpc_endpoint_type") or "Gateway",
            # Makes botocore's own retries of this call idempotent (it does not fill it here).
            "ClientToken": str(uuid.uuid4()),
        }
        if desired.get("route_table_ids"):
            params["RouteTableIds"] = list(desired["route_table_ids"])
        if desired.get("policy"):
            params["PolicyDocument"] = desired["policy"]
        endpoint = ctx.client("ec2").create_vpc_endpoint(
            **params, **tag_specifications("vpc-endpoint", desired)
        )["VpcEndpoint"]
        return str(endpoint["VpcEndpointId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        endpoint = unless_gone_endpoint(ctx.describe_one(VPC_ENDPOINTS, "vpc-endpoint-id", id))
        if endpoint is None:
            return None
        return {
            "id": id,
            "arn": ec2_arn(ctx, endpoint["OwnerId"], f"vpc-endpoint/{id}"),
            "vpc_id": endpoint["VpcId"],
            "service_name": endpoint["ServiceName"],
            "vpc_endpoint_type": endpoint["VpcEndpointType"],
            "route_table_ids": list(endpoint.get("RouteTableIds", [])),
            "subnet_ids": list(endpoint.get("SubnetIds", [])),
            "security_group_ids": [g["GroupId"] for g in endpoint.get("Groups", [])],
            "network_interface_ids": list(endpoint.get("NetworkInterfaceIds", [])),
            "policy": endpoint.get("PolicyDocument"),
            "private_dns_enabled": endpoint.get("PrivateDnsEnabled", False),
            "requester_managed": endpoint.get("RequesterManaged", False),
            "state": endpoint.get("State"),
            "owner_id": endpoint["OwnerId"],
            "tags": resource_tags(endpoint),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        changes: dict[str, Any] = {}
        if desired.get("route_table_ids") is not None:
            wanted, present = set(desired["route_table_ids"]), set(live.get("route_table_ids", []))
            if wanted - present:
                changes["AddRouteTableIds"] = sorted(wanted - present)
            if present - wanted:
                changes["RemoveRouteTableIds"] = sorted(present - wanted)
        if desired.get("policy") and not equivalent(desired["policy"], live.get("policy")):
            changes["PolicyDocument"] = desired["policy"]
        if changes:
            ec2.modify_vpc_endpoint(VpcEndpointId=id, **changes)
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        try:
            result = ec2.delete_vpc_endpoints(VpcEndpointIds=[id])
            # AWS reports a failure per endpoint in the body, not as an error.
            raise_unsuccessful(result.get("Unsuccessful"), "DeleteVpcEndpoints")
        except Exception as exc:
            if is_not_found(exc):
                return
            raise
        poll(
            lambda: True if live_vpc_endpoint(ec2, id) is None else None,
            what=f"VPC endpoint {id} to be deleted",
            timeout=VPC_ENDPOINT_DELETE_TIMEOUT,
            delay=5.0,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return find_tagged(
            ctx.client("ec2"),
            "describe_vpc_endpoints",
            "VpcEndpoints",
            "VpcEndpointId",
            desired,
            extra_filters=value_filters(
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


GONE_ENDPOINT_STATES = frozenset({"deleted", "deleting"})


@resource
class SecurityGroup(Resource):
    """A group that holds only the rules managed as their own resources.

    AWS gives every new group an allow-all egress rule; create revokes it (as Terraform does),
    and read reports no rules: rules are `aws_vpc_security_group_*_rule` resources.
    """

    type = "aws_security_group"
    arn_kind = ("ec2", "security-group")
    batched_read = (SECURITY_GROUPS, "group-id")
    force_new = frozenset({"name", "name_prefix", "description", "vpc_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        params: dict[str, Any] = {
            "GroupName": desired["name"],
            # AWS requires one; Terraform's default, for a group that names none.
            "Description": desired.get("description") or "Managed by Terraform",
        }
        if desired.get("vpc_id"):
            params["VpcId"] = desired["vpc_id"]
        group_id: str = ec2.create_security_group(
            **params, **tag_specifications("security-group", desired)
        )["GroupId"]
        try:
            revoke_default_egress(ec2, group_id)
        except Exception:
            ec2.delete_security_group(GroupId=group_id)  # a failed create leaves nothing behind
            raise
        return group_id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        group = ctx.describe_one(SECURITY_GROUPS, "group-id", id)
        return None if group is None else group_attributes(ctx, group)

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        update_tags(ctx.client("ec2"), id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_security_group(GroupId=id),
            what=f"security group {id}",
            timeout=SECURITY_GROUP_DELETE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A name is unique within its VPC; the group found is finished as create would have.

        A crash between CreateSecurityGroup and the revocation would otherwise leave the
        default allow-all egress rule on an adopted group, and no read would show it.
        """
        ec2 = ctx.client("ec2")
        group_id = find_tagged(
            ec2,
            "describe_security_groups",
            "SecurityGroups",
            "GroupId",
            desired,
            extra_filters=value_filters(
                {"vpc-id": desired.get("vpc_id"), "group-name": desired.get("name")}
            ),
        )
        if group_id is not None:
            revoke_default_egress(ec2, group_id)
        return group_id


@resource
class DefaultSecurityGroup(Resource):
    """The VPC's own `default` group, adopted and kept without rules; id = `sg-...`.

    Every VPC comes with it, admitting all traffic from its members and letting everything
    out, and whatever is launched without a group lands in it. Nothing here uses it, so it is
    emptied (CIS AWS Foundations 5.4): nothing can fall back on an open group. As Terraform's
    `aws_default_security_group`, create adopts it and delete only lets go of it (AWS deletes
    it with its VPC). Only the empty rule set is supported: rules are their own resources.
    """

    type = "aws_default_security_group"
    no_arn_kind = "its ARN is any security group's: aws_security_group names it"
    force_new = frozenset({"vpc_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        refuse_inline_rules(desired)
        ec2 = ctx.client("ec2")
        group_id = self.find(ctx, desired)
        if group_id is None:
            raise DeployerError(f"VPC {desired['vpc_id']} has no default security group")
        revoke_all_rules(ec2, group_id)
        if desired.get("tags"):
            ec2.create_tags(Resources=[group_id], Tags=tag_list(desired["tags"]))
        return group_id

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [
            BatchRead(SECURITY_GROUPS, "group-id", id),
            BatchRead(SECURITY_GROUP_RULES, "group-id", id),
        ]

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        group = ctx.describe_one(SECURITY_GROUPS, "group-id", id)
        if group is None:
            return None
        rules = ctx.describe(SECURITY_GROUP_RULES, "group-id", id)
        return {
            **group_attributes(ctx, group),
            "ingress": [inline_rule(r, id) for r in rules if not r.get("IsEgress")],
            "egress": [inline_rule(r, id) for r in rules if r.get("IsEgress")],
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        refuse_inline_rules(desired)
        ec2 = ctx.client("ec2")
        if live.get("ingress") or live.get("egress"):
            revoke_all_rules(ec2, id)
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Nothing to do: AWS refuses to delete a default group, and deletes it with the VPC."""

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Every VPC has exactly one group named `default`."""
        if not desired.get("vpc_id"):
            return None
        ec2 = ctx.client("ec2")
        groups = ec2.describe_security_groups(
            Filters=value_filters({"vpc-id": desired["vpc_id"], "group-name": "default"})
        )["SecurityGroups"]
        return str(groups[0]["GroupId"]) if groups else None


class SecurityGroupRule(Resource):
    """One rule of a group, id = `sgr-...`; everything but the group changes in place."""

    # Whether this driver manages egress (True) or ingress (False) rules.
    is_egress: ClassVar[bool]
    no_arn_kind = "a rule's ARN (security-group-rule) does not say ingress or egress"
    batched_read = (SECURITY_GROUP_RULES, "security-group-rule-id")
    force_new = frozenset({"security_group_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        authorize = (
            ec2.authorize_security_group_egress
            if self.is_egress
            else ec2.authorize_security_group_ingress
        )
        result = authorize(
            GroupId=desired["security_group_id"],
            IpPermissions=[ip_permission(desired)],
            **tag_specifications("security-group-rule", desired),
        )
        return str(result["SecurityGroupRules"][0]["SecurityGroupRuleId"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        rule = ctx.describe_one(SECURITY_GROUP_RULES, "security-group-rule-id", id)
        if rule is None or bool(rule.get("IsEgress")) != self.is_egress:
            return None
        return {
            "id": id,
            "security_group_rule_id": id,
            "arn": ec2_arn(ctx, rule["GroupOwnerId"], f"security-group-rule/{id}")
            if rule.get("GroupOwnerId")
            else None,
            **rule_attributes(rule),
            "tags": resource_tags(rule),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        managed = {k: v for k, v in desired.items() if k in RULE_FIELDS}
        if any(not equivalent(v, live.get(k)) for k, v in managed.items() if v is not None):
            ec2.modify_security_group_rules(
                GroupId=live["security_group_id"],
                SecurityGroupRules=[
                    {"SecurityGroupRuleId": id, "SecurityGroupRule": rule_request(desired)}
                ],
            )
        update_tags(ec2, id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        current = live if live and live.get("security_group_id") else self.read(ctx, id)
        if current is None:
            return
        revoke = (
            ec2.revoke_security_group_egress
            if self.is_egress
            else ec2.revoke_security_group_ingress
        )
        try:
            revoke(GroupId=current["security_group_id"], SecurityGroupRuleIds=[id])
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """AWS refuses a duplicate rule, so the rule with the same permission is ours."""
        if not desired.get("security_group_id"):
            return None
        ec2 = ctx.client("ec2")
        wanted = {k: v for k, v in desired.items() if k in RULE_MATCH_FIELDS and v is not None}
        rules = paginate(
            ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [desired["security_group_id"]]}],
        )
        for rule in rules:
            if bool(rule.get("IsEgress")) != self.is_egress:
                continue
            have = rule_attributes(rule)
            if all(equivalent(v, have.get(k)) for k, v in wanted.items()):
                return str(rule["SecurityGroupRuleId"])
        return None


@resource
class SecurityGroupIngressRule(SecurityGroupRule):
    type = "aws_vpc_security_group_ingress_rule"
    is_egress = False


@resource
class SecurityGroupEgressRule(SecurityGroupRule):
    type = "aws_vpc_security_group_egress_rule"
    is_egress = True


# A rule's attributes that modify_security_group_rules changes, and those that identify it.
RULE_FIELDS = frozenset(
    {
        "ip_protocol",
        "from_port",
        "to_port",
        "cidr_ipv4",
        "cidr_ipv6",
        "prefix_list_id",
        "referenced_security_group_id",
        "description",
    }
)
RULE_MATCH_FIELDS = RULE_FIELDS - {"description"}


@resource
class FlowLog(Resource):
    """Flow logs cannot be changed, only tagged: everything else forces a new one."""

    type = "aws_flow_log"
    arn_kind = ("ec2", "vpc-flow-log")
    batched_read = (FLOW_LOGS, "flow-log-id")
    force_new = frozenset(
        {
            "vpc_id",
            "subnet_id",
            "eni_id",
            "transit_gateway_id",
            "transit_gateway_attachment_id",
            "regional_nat_gateway_id",
            "traffic_type",
            "log_destination_type",
            "log_destination",
            "iam_role_arn",
            "deliver_cross_account_role",
            "log_format",
            "max_aggregation_interval",
            "destination_options",
        }
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        resource_id, resource_type = flow_log_target(desired)
        params: dict[str, Any] = {
            "ResourceIds": [resource_id],
            "ResourceType": resource_type,
            "TrafficType": desired.get("traffic_type") or "ALL",
            "LogDestinationType": desired.get("log_destination_type") or "cloud-watch-logs",
            # Makes botocore's own retries of this call idempotent (it does not fill it here).
            "ClientToken": str(uuid.uuid4()),
        }
        optional = {
            "LogDestination": desired.get("log_destination"),
            "DeliverLogsPermissionArn": desired.get("iam_role_arn"),
            "DeliverCrossAccountRole": desired.get("deliver_cross_account_role"),
            "LogFormat": desired.get("log_format"),
        }
        params.update({k: v for k, v in optional.items() if v})
        if desired.get("max_aggregation_interval"):
            params["MaxAggregationInterval"] = int(desired["max_aggregation_interval"])
        params.update(tag_specifications("vpc-flow-log", desired))

        def create_flow_log() -> str:
            result = ec2.create_flow_logs(**params)
            # AWS reports per-resource failures in the body, not as an error.
            raise_unsuccessful(result.get("Unsuccessful"), "CreateFlowLogs")
            return str(result["FlowLogIds"][0])

        return retry_while(
            create_flow_log, retryable=flow_log_role_not_ready, timeout=IAM_PROPAGATION_TIMEOUT
        )

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        flow_log = ctx.describe_one(FLOW_LOGS, "flow-log-id", id)
        if flow_log is None:
            return None
        target = flow_log.get("ResourceId", "")
        target_attribute = next(
            (attr for prefix, attr in FLOW_LOG_TARGETS if target.startswith(prefix)), None
        )
        live: dict[str, Any] = {
            "id": id,
            "traffic_type": flow_log.get("TrafficType"),
            "log_destination_type": flow_log.get("LogDestinationType"),
            "log_destination": flow_log.get("LogDestination"),
            "iam_role_arn": flow_log.get("DeliverLogsPermissionArn"),
            "deliver_cross_account_role": flow_log.get("DeliverCrossAccountRole"),
            "log_format": flow_log.get("LogFormat"),
            "max_aggregation_interval": flow_log.get("MaxAggregationInterval"),
            "tags": resource_tags(flow_log),
        }
        if target_attribute:
            live[target_attribute] = target
        return live

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        update_tags(ctx.client("ec2"), id, desired, live)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            result = ctx.client("ec2").delete_flow_logs(FlowLogIds=[id])
            raise_unsuccessful(result.get("Unsuccessful"), "DeleteFlowLogs")
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        if not any(desired.get(attribute) for attribute in FLOW_LOG_RESOURCE_TYPES):
            return None
        resource_id, _ = flow_log_target(desired)
        return find_tagged(
            ctx.client("ec2"),
            "describe_flow_logs",
            "FlowLogs",
            "FlowLogId",
            desired,
            extra_filters=[{"Name": "resource-id", "Values": [resource_id]}],
        )


# (id prefix, attribute) of what a flow log watches; `tgw-attach-` before `tgw-`.
FLOW_LOG_TARGETS: tuple[tuple[str, str], ...] = (
    ("vpc-", "vpc_id"),
    ("subnet-", "subnet_id"),
    ("eni-", "eni_id"),
    ("tgw-attach-", "transit_gateway_attachment_id"),
    ("tgw-", "transit_gateway_id"),
    ("nat-", "regional_nat_gateway_id"),
)
FLOW_LOG_RESOURCE_TYPES: dict[str, str] = {
    "vpc_id": "VPC",
    "subnet_id": "Subnet",
    "eni_id": "NetworkInterface",
    "transit_gateway_attachment_id": "TransitGatewayAttachment",
    "transit_gateway_id": "TransitGateway",
    "regional_nat_gateway_id": "RegionalNatGateway",
}


# ---------------------------------------------------------------------------------------------
# Finders, status functions and helpers


def tag_specifications(resource_type: str, desired: dict[str, Any]) -> dict[str, Any]:
    """`TagSpecifications=` for a create call, so the resource is never seen untagged."""
    tags: dict[str, str] = desired.get("tags") or {}
    if not tags:
        return {}
    return {"TagSpecifications": [{"ResourceType": resource_type, "Tags": tag_list(tags)}]}


def resource_tags(item: dict[str, Any]) -> dict[str, str]:
    return user_tags(tag_dict(item.get("Tags")))


def update_tags(ec2: Any, resource_id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    to_set, to_remove = tag_changes(desired.get("tags") or {}, live.get("tags"))
    if to_set:
        ec2.create_tags(Resources=[resource_id], Tags=tag_list(to_set))
    if to_remove:
        ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": key} for key in to_remove])


def find_tagged(
    ec2: Any,
    operation: str,
    result_key: str,
    id_key: str,
    desired: dict[str, Any],
    *,
    extra_filters: list[dict[str, Any]] | None = None,
    keep: Callable[[dict[str, Any]], bool] = lambda item: True,
) -> str | None:
    """The resource an interrupted create made, by its identity tags (address, workspace,
    project, environment), so that two environments in one account never adopt each other's."""
    tags: dict[str, str] = desired.get("tags") or {}
    if ADDRESS_TAG not in tags:
        return None
    filters = [
        {"Name": f"tag:{key}", "Values": [tags[key]]} for key in IDENTITY_TAG_KEYS if key in tags
    ]
    for item in paginate(ec2, operation, result_key, Filters=filters + (extra_filters or [])):
        if keep(item):
            return str(item[id_key])
    return None


def value_filters(values: dict[str, Any]) -> list[dict[str, Any]]:
    """`Filters=` narrowing a search to the known values (absent ones do not narrow)."""
    return [{"Name": name, "Values": [value]} for name, value in values.items() if value]


def delete_when_released(call: Callable[[], Any], *, what: str, timeout: float) -> None:
    """Delete, retrying while AWS says something still uses the resource (DependencyViolation).

    Lambda ENIs, NAT gateways' public addresses and the like are released minutes after their
    owner is deleted; until then EC2 refuses to delete the subnet, group or VPC they are in.
    """
    last_error: list[BaseException] = []

    def attempt() -> bool | None:
        try:
            call()
        except Exception as exc:
            if is_not_found(exc):
                return True
            if error_code(exc) in DEPENDENCY_CODES:
                last_error[:] = [exc]
                return None
            raise
        return True

    try:
        poll(attempt, what=f"{what} to be released by what uses it", timeout=timeout, delay=10.0)
    except DeployerError as exc:
        if last_error:
            raise DeployerError(f"{exc}: {last_error[0]}") from last_error[0]
        raise


def raise_unsuccessful(items: list[dict[str, Any]] | None, operation: str) -> None:
    """EC2 batch calls report failures per item in the body: raise the first as an AWS error."""
    for item in items or []:
        error = item.get("Error", {})
        raise ClientError(
            {"Error": {"Code": error.get("Code", "Unknown"), "Message": error.get("Message", "")}},
            operation,
        )


def ec2_arn(ctx: Context, owner: str, resource_path: str) -> str:
    partition = ctx.clients.session.get_partition_for_region(ctx.region)
    return f"arn:{partition}:ec2:{ctx.region}:{owner}:{resource_path}"


def vpc_state(ec2: Any, vpc_id: str) -> str | None:
    vpc = VPCS.fetch_one(ec2, "vpc-id", vpc_id)
    return None if vpc is None else str(vpc.get("State"))


def vpc_attribute(ec2: Any, vpc_id: str, attribute: str) -> bool:
    """`enableDnsSupport` → the response's `EnableDnsSupport.Value`."""
    result = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    return bool(result[attribute[0].upper() + attribute[1:]]["Value"])


def set_vpc_dns(ec2: Any, vpc_id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
    """One attribute per call; AWS refuses DNS hostnames without DNS support, so hostnames go
    off first and on last."""
    changes = {
        attribute: bool(desired[attribute])
        for attribute in ("enable_dns_support", "enable_dns_hostnames")
        if desired.get(attribute) is not None
        and bool(desired[attribute]) != bool(live.get(attribute))
    }
    if changes.get("enable_dns_hostnames") is False:
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
    if "enable_dns_support" in changes:
        ec2.modify_vpc_attribute(
            VpcId=vpc_id, EnableDnsSupport={"Value": changes["enable_dns_support"]}
        )
    if changes.get("enable_dns_hostnames") is True:
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})


def subnet_state(ec2: Any, subnet_id: str) -> str | None:
    subnet = SUBNETS.fetch_one(ec2, "subnet-id", subnet_id)
    return None if subnet is None else str(subnet.get("State"))


def set_map_public_ip(ec2: Any, subnet_id: str, value: bool) -> None:
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": value})


def attach_internet_gateway(ec2: Any, igw_id: str, vpc_id: str) -> None:
    # The gateway just created may not be visible to AttachInternetGateway for a moment.
    retry_while(
        lambda: ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id),
        retryable=lambda exc: error_code(exc) == "InvalidInternetGatewayID.NotFound",
        timeout=EC2_PROPAGATION_TIMEOUT,
    )


def detach_internet_gateway(ec2: Any, igw_id: str, vpc_id: str) -> None:
    """Detach, waiting while the VPC still has public addresses mapped (NAT EIPs releasing)."""

    def detach() -> None:
        try:
            ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        except Exception as exc:
            if error_code(exc) != "Gateway.NotAttached":
                raise

    delete_when_released(
        detach,
        what=f"internet gateway {igw_id} to detach from {vpc_id}",
        timeout=INTERNET_GATEWAY_DETACH_TIMEOUT,
    )


def live_nat_gateway(ec2: Any, nat_id: str) -> Item | None:
    return unless_deleted_nat(NAT_GATEWAYS.fetch_one(ec2, "nat-gateway-id", nat_id))


def unless_deleted_nat(nat: Item | None) -> Item | None:
    """The NAT gateway unless it is deleted (AWS lists deleted ones for about an hour)."""
    return None if nat is None or nat.get("State") == "deleted" else nat


def nat_gateway_available(ec2: Any, nat_id: str) -> bool | None:
    nat = live_nat_gateway(ec2, nat_id)
    state = (nat or {}).get("State")
    if nat is None or state in ("failed", "deleting"):
        detail = f"{(nat or {}).get('FailureCode', '')} {(nat or {}).get('FailureMessage', '')}"
        raise DeployerError(f"NAT gateway {nat_id} is {state or 'gone'}: {detail.strip()}")
    return True if state == "available" else None


def route_block(route: dict[str, Any]) -> dict[str, Any]:
    """A live route in the shape of the route table's `route` block."""
    block = {"cidr_block": route.get("DestinationCidrBlock")}
    block.update({attr: route[key] for attr, key in ROUTE_TARGETS.items() if route.get(key)})
    return block


def route_id(desired: dict[str, Any]) -> str:
    return f"{desired['route_table_id']}_{desired['destination_cidr_block']}"


def split_route_id(id: str) -> tuple[str, str]:
    table_id, destination = id.split("_", 1)
    return table_id, destination


def route_targets(desired: dict[str, Any]) -> dict[str, Any]:
    return {key: desired[attr] for attr, key in ROUTE_TARGETS.items() if desired.get(attr)}


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


def live_vpc_endpoint(ec2: Any, endpoint_id: str) -> Item | None:
    return unless_gone_endpoint(VPC_ENDPOINTS.fetch_one(ec2, "vpc-endpoint-id", endpoint_id))


def unless_gone_endpoint(endpoint: Item | None) -> Item | None:
    """The endpoint unless it is deleted or on its way out."""
    gone = endpoint is None or endpoint.get("State", "").lower() in GONE_ENDPOINT_STATES
    return None if gone else endpoint


def group_attributes(ctx: Context, group: dict[str, Any]) -> dict[str, Any]:
    """A described security group in the attributes both group types share."""
    group_id = group["GroupId"]
    return {
        "id": group_id,
        "arn": group.get("SecurityGroupArn")
        or ec2_arn(ctx, group["OwnerId"], f"security-group/{group_id}"),
        "name": group["GroupName"],
        "description": group.get("Description"),
        "vpc_id": group.get("VpcId"),
        "owner_id": group["OwnerId"],
        "tags": resource_tags(group),
    }


def revoke_default_egress(ec2: Any, group_id: str) -> None:
    """Revoke the allow-all egress AWS adds to a new group, so only managed rules remain.

    By permission rather than by rule id, as Terraform does: it needs no read that might lag
    the create. A group just created may be invisible for a moment (eventual consistency).
    """

    def revoke() -> None:
        try:
            ec2.revoke_security_group_egress(
                GroupId=group_id,
                IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": ANYWHERE_IPV4}]}],
            )
        except Exception as exc:
            if error_code(exc) != "InvalidPermission.NotFound":
                raise

    retry_while(
        revoke,
        retryable=lambda exc: error_code(exc) == "InvalidGroup.NotFound",
        timeout=EC2_PROPAGATION_TIMEOUT,
    )


def ip_permission(desired: dict[str, Any]) -> dict[str, Any]:
    """A rule's attributes as the `IpPermissions` item of authorize_security_group_*."""
    permission: dict[str, Any] = {"IpProtocol": desired["ip_protocol"]}
    if desired.get("from_port") is not None:
        permission["FromPort"] = int(desired["from_port"])
    if desired.get("to_port") is not None:
        permission["ToPort"] = int(desired["to_port"])
    described = {"Description": desired["description"]} if desired.get("description") else {}
    if desired.get("cidr_ipv4"):
        permission["IpRanges"] = [{"CidrIp": desired["cidr_ipv4"], **described}]
    if desired.get("cidr_ipv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": desired["cidr_ipv6"], **described}]
    if desired.get("prefix_list_id"):
        permission["PrefixListIds"] = [{"PrefixListId": desired["prefix_list_id"], **described}]
    if desired.get("referenced_security_group_id"):
        permission["UserIdGroupPairs"] = [
            {"GroupId": desired["referenced_security_group_id"], **described}
        ]
    return permission


def rule_request(desired: dict[str, Any]) -> dict[str, Any]:
    """A rule's attributes as the `SecurityGroupRule` of modify_security_group_rules."""
    fields = {
        "IpProtocol": desired["ip_protocol"],
        "FromPort": desired.get("from_port"),
        "ToPort": desired.get("to_port"),
        "CidrIpv4": desired.get("cidr_ipv4"),
        "CidrIpv6": desired.get("cidr_ipv6"),
        "PrefixListId": desired.get("prefix_list_id"),
        "ReferencedGroupId": desired.get("referenced_security_group_id"),
        "Description": desired.get("description"),
    }
    request = {k: v for k, v in fields.items() if v is not None}
    for port in ("FromPort", "ToPort"):
        if port in request:
            request[port] = int(request[port])
    return request


def rule_attributes(rule: dict[str, Any]) -> dict[str, Any]:
    """A described rule in the rule resources' attribute names (ports unset for all traffic)."""
    all_traffic = rule.get("IpProtocol") == "-1"
    return {
        "security_group_id": rule.get("GroupId"),
        "ip_protocol": rule.get("IpProtocol"),
        "from_port": None if all_traffic else rule.get("FromPort"),
        "to_port": None if all_traffic else rule.get("ToPort"),
        "cidr_ipv4": rule.get("CidrIpv4"),
        "cidr_ipv6": rule.get("CidrIpv6"),
        "prefix_list_id": rule.get("PrefixListId"),
        "referenced_security_group_id": (rule.get("ReferencedGroupInfo") or {}).get("GroupId"),
        "description": rule.get("Description"),
    }


def inline_rule(rule: dict[str, Any], group_id: str) -> dict[str, Any]:
    """A described rule as one `ingress`/`egress` item of a (default) security group."""
    referenced = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    return {
        "protocol": rule.get("IpProtocol"),
        "from_port": rule.get("FromPort"),
        "to_port": rule.get("ToPort"),
        "cidr_blocks": [rule["CidrIpv4"]] if rule.get("CidrIpv4") else [],
        "ipv6_cidr_blocks": [rule["CidrIpv6"]] if rule.get("CidrIpv6") else [],
        "prefix_list_ids": [rule["PrefixListId"]] if rule.get("PrefixListId") else [],
        "security_groups": [referenced] if referenced and referenced != group_id else [],
        "self": referenced == group_id,
        "description": rule.get("Description") or "",
    }


def refuse_inline_rules(desired: dict[str, Any]) -> None:
    if desired.get("ingress") or desired.get("egress"):
        raise DeployerError(
            "aws_default_security_group: only an empty rule set is supported (rules are "
            "aws_vpc_security_group_*_rule resources)"
        )


def revoke_all_rules(ec2: Any, group_id: str) -> None:
    """Revoke every rule of a group, by rule id."""
    rules = list(
        paginate(
            ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
        )
    )
    for egress, revoke in (
        (False, ec2.revoke_security_group_ingress),
        (True, ec2.revoke_security_group_egress),
    ):
        ids = [r["SecurityGroupRuleId"] for r in rules if bool(r.get("IsEgress")) == egress]
        if ids:
            revoke(GroupId=group_id, SecurityGroupRuleIds=ids)


def flow_log_target(desired: dict[str, Any]) -> tuple[str, str]:
    """(resource id, ResourceType) of what the flow log watches."""
    for attribute, resource_type in FLOW_LOG_RESOURCE_TYPES.items():
        if desired.get(attribute):
            return str(desired[attribute]), resource_type
    raise DeployerError("a flow log needs one of " + ", ".join(FLOW_LOG_RESOURCE_TYPES))


def flow_log_role_not_ready(exc: BaseException) -> bool:
    """A role a few seconds old that VPC Flow Logs cannot assume yet.

    AWS says so with `InvalidParameter: Unable to assume given IAM role`, a code that
    `iam_propagation_error` does not cover; Terraform retries the same message.
    """
    if iam_propagation_error(exc):
        return True
    return error_code(exc) == "InvalidParameter" and "unable to assume" in str(exc).lower()


def unmanaged_in_vpc(ec2: Any, vpc_id: str, managed: Managed) -> Iterator[UnmanagedItem]:
    """What is in the VPC but in no state: subnets, security groups (not the VPC's `default`
    group, which every VPC has), the rules of the managed groups, route tables (not the main
    one) and the routes of the managed tables (not the `local` route, nor the prefix-list
    routes of gateway endpoints). One describe call per kind, filtered on the VPC (the rules:
    on all its managed groups at once), paginated; a route's id is Terraform's import id,
    `<route table id>_<destination>`."""
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    where = f"in managed VPC {vpc_id} but in no state"
    for subnet in paginate(ec2, "describe_subnets", "Subnets", Filters=vpc_filter):
        if subnet["SubnetId"] not in managed:
            yield UnmanagedItem(Subnet.type, subnet["SubnetId"], where)

    managed_groups: list[str] = []
    for group in paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=vpc_filter):
        if group.get("GroupName") == "default":
            continue
        if group["GroupId"] in managed:
            managed_groups.append(group["GroupId"])
        else:
            yield UnmanagedItem(SecurityGroup.type, group["GroupId"], where)
    if managed_groups:
        for rule in paginate(
            ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": sorted(managed_groups)}],
        ):
            rule_id = str(rule.get("SecurityGroupRuleId", ""))
            if rule_id and rule_id not in managed:
                kind = SecurityGroupEgressRule if rule.get("IsEgress") else SecurityGroupIngressRule
                yield UnmanagedItem(
                    kind.type,
                    rule_id,
                    f"a rule of managed security group {rule.get('GroupId')} in no state",
                )

    routes = managed_routes(managed)
    for table in paginate(ec2, "describe_route_tables", "RouteTables", Filters=vpc_filter):
        table_id = table["RouteTableId"]
        if any(a.get("Main") for a in table.get("Associations", [])):
            continue
        if table_id not in managed:
            yield UnmanagedItem(RouteTable.type, table_id, where)
            continue
        for route in table.get("Routes", []):
            if route.get("GatewayId") == "local" or route.get("DestinationPrefixListId"):
                continue
            destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            if destination and (table_id, destination) not in routes:
                yield UnmanagedItem(
                    Route.type,
                    f"{table_id}_{destination}",
                    f"a route of managed route table {table_id} in no state",
                )


def managed_routes(managed: Managed) -> set[tuple[str, str]]:
    """(route table id, destination) of every route state manages: each `aws_route`, and the
    inline `route` blocks of each `aws_route_table`."""
    routes: set[tuple[str, str]] = set()
    for applied in managed.of_type(Route.type):
        table = applied.get("route_table_id")
        for destination in (
            "destination_cidr_block",
            "destination_ipv6_cidr_block",
            "destination_prefix_list_id",
        ):
            if applied.get(destination):
                routes.add((str(table), str(applied[destination])))
    for applied in managed.of_type(RouteTable.type):
        if not applied.get("id"):
            continue
        for block in applied.get("route") or []:
            for destination in ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"):
                if isinstance(block, dict) and block.get(destination):
                    routes.add((str(applied["id"]), str(block[destination])))
    return routes
