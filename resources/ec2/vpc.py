"""The VPC and its subnets, and what drift finds in a managed VPC that no state manages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.attributes import Attr, Setter, Table
from deployer.aws import paginate
from deployer.batch import BatchRead
from deployer.resource import Context, resource
from deployer.unmanaged import Managed, UnmanagedItem
from deployer.waiting import delete_when_released
from resources.ec2.exclusive_rules import SecurityGroupRulesExclusive as RulesExclusive
from resources.ec2.routing import Route, RouteTable
from resources.ec2.security_groups import (
    SecurityGroup,
    SecurityGroupEgressRule,
    SecurityGroupIngressRule,
)
from resources.ec2.shared import (
    ACLS,
    ROUTE_TABLES,
    SECURITY_GROUPS,
    SUBNETS,
    TAGS,
    VPCS,
    Ec2Resource,
    attribute_value,
    rule_details,
    value_filters,
)

# Terraform's defaults (10 min) cover AWS's "seconds" for both to become available. Deletes
# wait while dependents are released (Lambda ENIs hold a subnet up to ~20 min after their
# function is deleted): Terraform's default delete timeouts.
VPC_AVAILABLE_TIMEOUT = 600.0
SUBNET_AVAILABLE_TIMEOUT = 600.0
VPC_DELETE_TIMEOUT = 300.0
SUBNET_DELETE_TIMEOUT = 1200.0

DNS_SUPPORT, DNS_HOSTNAMES = "enable_dns_support", "enable_dns_hostnames"


@resource
class Vpc(Ec2Resource):
    """DNS support and hostnames change in place; a new CIDR (or tenancy) needs a new VPC."""

    type = "aws_vpc"
    arn_kind = ("ec2", "vpc")
    table = Table(
        Attr("arn", computed=True),
        Attr("cidr_block", "CidrBlock", force_new=True),
        Attr("instance_tenancy", "InstanceTenancy", force_new=True, default="default"),
        # DescribeVpcAttribute reports them, one call each; ModifyVpcAttribute takes one per call.
        Attr(
            DNS_SUPPORT,
            create=False,
            update=Setter("ModifyVpcAttribute", "EnableDnsSupport"),
            to_api=attribute_value,
            default=True,
        ),
        Attr(
            DNS_HOSTNAMES,
            create=False,
            update=Setter("ModifyVpcAttribute", "EnableDnsHostnames"),
            to_api=attribute_value,
        ),
        Attr("dhcp_options_id", "DhcpOptionsId", computed=True),
        # The VPC's own route table, security group and network ACL, found among its kind.
        Attr("main_route_table_id", computed=True),
        Attr("default_route_table_id", computed=True),
        Attr("default_security_group_id", computed=True),
        Attr("default_network_acl_id", computed=True),
        Attr("owner_id", "OwnerId", computed=True),
        TAGS,
        service="ec2",
        create_call="CreateVpc",
        described="Vpc",
        id_parameter="VpcId",
    )
    batched_read = (VPCS, "vpc-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        vpc_id = self.create_call(ctx, desired)
        self.settle(
            ctx,
            vpc_id,
            desired,
            created=NEW_VPC_DNS,
            timeout=VPC_AVAILABLE_TIMEOUT,
            undo=lambda: ec2.delete_vpc(VpcId=vpc_id),
        )
        return vpc_id

    def batch_reads(self, id: str, recorded: dict[str, Any]) -> list[BatchRead]:
        return [
            BatchRead(VPCS, "vpc-id", id),
            *(BatchRead(kind, "vpc-id", id) for kind in (ROUTE_TABLES, SECURITY_GROUPS, ACLS)),
        ]

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes, the DNS settings and the VPC's own table, group and ACL."""
        live = super().read(ctx, id)
        if live is None:
            return None
        ec2 = ctx.client("ec2")
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
            **live,
            "arn": self.arn(ctx, live["owner_id"], id),
            DNS_SUPPORT: vpc_attribute(ec2, id, "enableDnsSupport"),
            DNS_HOSTNAMES: vpc_attribute(ec2, id, "enableDnsHostnames"),
            "main_route_table_id": main_table,
            "default_route_table_id": main_table,
            "default_security_group_id": default_groups[0]["GroupId"] if default_groups else None,
            "default_network_acl_id": default_acls[0]["NetworkAclId"] if default_acls else None,
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """AWS refuses DNS hostnames without DNS support: hostnames go on last (and off first,
        as the setters run in name order)."""
        changed = self.changed(desired, live)
        last = {DNS_HOSTNAMES} if desired.get(DNS_HOSTNAMES) and DNS_HOSTNAMES in changed else set()
        self.apply_changes(ctx, id, desired, live, changed - last)
        self.apply_changes(ctx, id, desired, live, last)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_vpc(VpcId=id), what=f"VPC {id}", timeout=VPC_DELETE_TIMEOUT
        )

    def unmanaged(self, ctx: Context, id: str, managed: Managed) -> Iterator[UnmanagedItem]:
        """Subnets, security groups and their rules, route tables and routes in the VPC that
        no state entry manages (see `unmanaged_in_vpc`)."""
        return unmanaged_in_vpc(ctx.client("ec2"), id, managed)


# AWS's DNS settings for a new VPC, which create compares the desired ones with.
NEW_VPC_DNS: dict[str, Any] = {DNS_SUPPORT: True, DNS_HOSTNAMES: False}


@resource
class Subnet(Ec2Resource):
    """Public-IP and IPv6 assignment and tags change in place; its VPC, CIDR and AZ are for
    life."""

    type = "aws_subnet"
    arn_kind = ("ec2", "subnet")
    table = Table(
        Attr("arn", "SubnetArn", computed=True),
        Attr("vpc_id", "VpcId", force_new=True),
        Attr("cidr_block", "CidrBlock", force_new=True),
        Attr("availability_zone", "AvailabilityZone", force_new=True),
        Attr("availability_zone_id", "AvailabilityZoneId", force_new=True),
        # ModifySubnetAttribute changes one attribute per call.
        Attr(
            "map_public_ip_on_launch",
            "MapPublicIpOnLaunch",
            create=False,
            update=Setter("ModifySubnetAttribute", "MapPublicIpOnLaunch"),
            to_api=attribute_value,
            default=False,
        ),
        Attr(
            "assign_ipv6_address_on_creation",
            "AssignIpv6AddressOnCreation",
            create=False,
            update=Setter("ModifySubnetAttribute", "AssignIpv6AddressOnCreation"),
            to_api=attribute_value,
            default=False,
        ),
        Attr("owner_id", "OwnerId", computed=True),
        TAGS,
        service="ec2",
        create_call="CreateSubnet",
        described="Subnet",
        id_parameter="SubnetId",
    )
    batched_read = (SUBNETS, "subnet-id")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        subnet_id = self.create_call(ctx, desired)
        self.settle(
            ctx,
            subnet_id,
            desired,
            created=NEW_SUBNET,
            timeout=SUBNET_AVAILABLE_TIMEOUT,
            undo=lambda: ec2.delete_subnet(SubnetId=subnet_id),
        )
        return subnet_id

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ec2 = ctx.client("ec2")
        delete_when_released(
            lambda: ec2.delete_subnet(SubnetId=id),
            what=f"subnet {id}",
            timeout=SUBNET_DELETE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return self.find_tagged(ctx, desired, value_filters({"vpc-id": desired.get("vpc_id")}))


# What AWS gives a new subnet of the attributes CreateSubnet does not take.
NEW_SUBNET: dict[str, Any] = {
    "map_public_ip_on_launch": False,
    "assign_ipv6_address_on_creation": False,
}


# ---------------------------------------------------------------------------------------------
# Finders


def vpc_attribute(ec2: Any, vpc_id: str, attribute: str) -> bool:
    """`enableDnsSupport` → the response's `EnableDnsSupport.Value`."""
    result = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    return bool(result[attribute[0].upper() + attribute[1:]]["Value"])


# ---------------------------------------------------------------------------------------------
# What is in a managed VPC but in no state


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
            yield UnmanagedItem(Subnet.type, subnet["SubnetId"], where, subnet_details(subnet))

    managed_groups: list[str] = []
    for group in paginate(ec2, "describe_security_groups", "SecurityGroups", Filters=vpc_filter):
        if group.get("GroupName") == "default":
            continue
        if group["GroupId"] in managed:
            managed_groups.append(group["GroupId"])
        else:
            yield UnmanagedItem(SecurityGroup.type, group["GroupId"], where, group_details(group))
    # A group whose whole rule set an `aws_vpc_security_group_rules_exclusive` in state owns
    # reports a rule outside the set as that resource's drift, with what the rule opens: it is
    # not reported a second time here (nor read: the exclusive's read has the rules already).
    owned = {str(a.get("security_group_id")) for a in managed.of_type(RulesExclusive.type)}
    managed_groups = [group for group in managed_groups if group not in owned]
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
                    rule_details(rule),
                )

    routes = managed_routes(managed)
    for table in paginate(ec2, "describe_route_tables", "RouteTables", Filters=vpc_filter):
        table_id = table["RouteTableId"]
        if any(a.get("Main") for a in table.get("Associations", [])):
            continue
        if table_id not in managed:
            yield UnmanagedItem(RouteTable.type, table_id, where, table_details(table))
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
                    route_details(route, destination),
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


# What each unmanaged item is, from the describe call that found it (no further call): the
# words a drift finding shows, in the order a reader wants them.


def _name_tag(described: dict[str, Any]) -> dict[str, str]:
    name = next((t["Value"] for t in described.get("Tags", []) if t.get("Key") == "Name"), None)
    return {"name": str(name)} if name else {}


def subnet_details(subnet: dict[str, Any]) -> dict[str, str]:
    """A subnet's CIDR (IPv4, else IPv6) and availability zone."""
    ipv6 = [a.get("Ipv6CidrBlock") for a in subnet.get("Ipv6CidrBlockAssociationSet", [])]
    cidr = subnet.get("CidrBlock") or next((c for c in ipv6 if c), "")
    return {
        "cidr": str(cidr),
        "availability_zone": str(subnet.get("AvailabilityZone", "")),
        **_name_tag(subnet),
    }


def group_details(group: dict[str, Any]) -> dict[str, str]:
    """A security group's name and description."""
    return {
        "name": str(group.get("GroupName", "")),
        "description": str(group.get("Description", "")),
    }


# The keys of a described route that name its target, one of which is set.
ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "NetworkInterfaceId",
    "InstanceId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


def route_details(route: dict[str, Any], destination: str) -> dict[str, str]:
    """A route's destination and target (an internet or NAT gateway, a peering, an ENI...)."""
    target = next((str(route[k]) for k in ROUTE_TARGETS if route.get(k)), "")
    return {"destination": destination, "target": target}


def table_details(table: dict[str, Any]) -> dict[str, str]:
    """A route table's name tag and what it routes where (its non-local routes)."""
    routes = [
        f"{r.get('DestinationCidrBlock') or r.get('DestinationIpv6CidrBlock')} -> "
        + next((str(r[k]) for k in ROUTE_TARGETS if r.get(k)), "")
        for r in table.get("Routes", [])
        if r.get("GatewayId") != "local"
        and (r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock"))
    ]
    subnets = [str(a["SubnetId"]) for a in table.get("Associations", []) if a.get("SubnetId")]
    details = _name_tag(table)
    if routes:
        details["routes"] = "; ".join(routes)
    if subnets:
        details["subnets"] = ", ".join(subnets)
    return details
