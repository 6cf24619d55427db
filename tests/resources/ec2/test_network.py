"""The whole network of a region, and for every EC2 type: delete, and deleted outside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deployer.graph import build_graph
from deployer.model import Node, Ref
from stack.network import network

VPC = "primary:aws_vpc.main"
IGW = "primary:aws_internet_gateway.main"
PUBLIC_TABLE = "primary:aws_route_table.public"
FLOW_LOG = "primary:aws_flow_log.main"
DB_GROUP = "primary:aws_security_group.db"
LAMBDA_GROUP = "primary:aws_security_group.lambda"
DB_INGRESS = "primary:aws_vpc_security_group_ingress_rule.db_postgres_from_lambda"
LAMBDA_HTTPS = "primary:aws_vpc_security_group_egress_rule.lambda_https"
LAMBDA_TO_DB = "primary:aws_vpc_security_group_egress_rule.lambda_postgres_to_db"
AZS = ("a", "b", "c")


def network_keys(deployment: Any, workspace: str = "primary") -> list[str]:
    """Every node the network blueprint yields for a workspace."""
    return [item.key for item in network(deployment.spec, workspace) if isinstance(item, Node)]


# --- the whole network -----------------------------------------------------------------------


def test_network_round_trip(
    deployment: Any,
    client_for: Callable[..., Any],
    route_to_anywhere: Callable[[str], dict[str, Any]],
    group_rules: Callable[[str], list[dict[str, Any]]],
    ids: Callable[..., list[str]],
) -> None:
    keys = network_keys(deployment)
    deployment.apply(*keys)
    for key in keys:
        assert deployment.diff(key) == {}, key
    ec2 = client_for("ec2")
    vpc_id = deployment.entry(VPC)["id"]

    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in subnets) == sorted(
        [
            ("us-east-1a", "10.10.0.0/24"),
            ("us-east-1b", "10.10.1.0/24"),
            ("us-east-1c", "10.10.2.0/24"),
            ("us-east-1a", "10.10.10.0/24"),
            ("us-east-1b", "10.10.11.0/24"),
            ("us-east-1c", "10.10.12.0/24"),
        ]
    )
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)

    igw_id = deployment.entry(IGW)["id"]
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
    assert [a["VpcId"] for a in igw["Attachments"]] == [vpc_id]
    public_table = deployment.entry(PUBLIC_TABLE)["id"]
    assert route_to_anywhere(public_table)["GatewayId"] == igw_id

    for az in AZS:
        nat_id = deployment.entry(f"primary:aws_nat_gateway.{az}")["id"]
        nat = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
        assert nat["State"] == "available"
        assert nat["SubnetId"] == deployment.entry(f"primary:aws_subnet.public_{az}")["id"]
        eip_id = deployment.entry(f"primary:aws_eip.nat_{az}")["id"]
        assert nat["NatGatewayAddresses"][0]["AllocationId"] == eip_id
        table = deployment.entry(f"primary:aws_route_table.private_{az}")["id"]
        assert route_to_anywhere(table)["NatGatewayId"] == nat_id

    associations = {
        a["SubnetId"]: a["RouteTableId"]
        for t in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "RouteTables"
        ]
        for a in t["Associations"]
        if not a.get("Main")
    }
    for az in AZS:
        public, private = ids(f"primary:aws_subnet.public_{az}", f"primary:aws_subnet.private_{az}")
        assert associations[public] == public_table
        assert (
            associations[private] == deployment.entry(f"primary:aws_route_table.private_{az}")["id"]
        )

    private_tables = sorted(ids(*[f"primary:aws_route_table.private_{az}" for az in AZS]))
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "VpcEndpoints"
    ]
    assert sorted(e["ServiceName"] for e in endpoints) == [
        "com.amazonaws.us-east-1.dynamodb",
        "com.amazonaws.us-east-1.s3",
    ]
    for endpoint in endpoints:
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert sorted(endpoint["RouteTableIds"]) == private_tables
        assert '"aws:PrincipalAccount": "123456789012"' in endpoint["PolicyDocument"]

    db_group, lambda_group = ids(DB_GROUP, LAMBDA_GROUP)
    db_rules = group_rules(db_group)
    assert [
        (
            r["IsEgress"],
            r["IpProtocol"],
            r["FromPort"],
            r["ToPort"],
            r["ReferencedGroupInfo"]["GroupId"],
        )
        for r in db_rules
    ] == [(False, "tcp", 5432, 5432, lambda_group)]
    lambda_rules = sorted(
        (
            r["IsEgress"],
            r["FromPort"],
            r["ToPort"],
            r.get("CidrIpv4"),
            (r.get("ReferencedGroupInfo") or {}).get("GroupId"),
        )
        for r in group_rules(lambda_group)
    )
    assert lambda_rules == [(True, 443, 443, "0.0.0.0/0", None), (True, 5432, 5432, None, db_group)]

    flow_log = ec2.describe_flow_logs(FlowLogIds=[deployment.entry(FLOW_LOG)["id"]])["FlowLogs"][0]
    assert flow_log["ResourceId"] == vpc_id
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestination"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc/flow-logs/payments-vpc-dev"
    )
    role = deployment.read("primary:aws_iam_role.flow_logs")
    assert flow_log["DeliverLogsPermissionArn"] == role["arn"]

    outputs = {o.name: o.value for o in deployment.graph.outputs if o.workspace == "primary"}
    assert outputs["vpc_id"] == Ref("aws_vpc.main", "id")
    assert outputs["private_subnet_ids"] == [Ref(f"aws_subnet.private_{az}", "id") for az in AZS]


def test_single_nat_gateway_network(
    deployment: Any,
    client_for: Callable[..., Any],
    route_to_anywhere: Callable[[str], dict[str, Any]],
) -> None:
    deployment.spec.network.nat_gateways = "single"
    deployment.graph = build_graph(deployment.spec)
    deployment.apply(*[f"primary:aws_route.private_{az}_nat" for az in AZS])
    ec2 = client_for("ec2")
    nats = ec2.describe_nat_gateways()["NatGateways"]
    assert len(nats) == 1
    for az in AZS:
        table = deployment.entry(f"primary:aws_route_table.private_{az}")["id"]
        assert route_to_anywhere(table)["NatGatewayId"] == nats[0]["NatGatewayId"]


def test_secondary_network_lives_in_its_own_region(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    deployment.apply("primary:aws_iam_role.flow_logs")
    deployment.apply("secondary:aws_flow_log.main", "secondary:aws_subnet.private_c")
    ec2 = client_for("ec2", "eu-west-1")
    vpc_id = deployment.entry("secondary:aws_vpc.main")["id"]
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"] == "10.20.0.0/16"
    subnet = deployment.read("secondary:aws_subnet.private_c")
    assert subnet is not None and subnet["availability_zone"] == "eu-west-1c"
    assert (
        client_for("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Workspace", "Values": ["secondary"]}]
        )["Vpcs"]
        == []
    )
    flow_log = deployment.read("secondary:aws_flow_log.main")
    assert flow_log is not None
    assert flow_log["iam_role_arn"].endswith(":role/payments-flow-logs-dev")


# --- delete and disappear, for every type ----------------------------------------------------


DELETABLE = [
    VPC,
    "primary:aws_subnet.public_a",
    IGW,
    "primary:aws_eip.nat_c",
    "primary:aws_nat_gateway.c",
    PUBLIC_TABLE,
    "primary:aws_route.public_internet",
    "primary:aws_route_table_association.public_a",
    "primary:aws_vpc_endpoint.s3",
    DB_GROUP,
    DB_INGRESS,
    LAMBDA_HTTPS,
    FLOW_LOG,
]


@pytest.mark.parametrize("key", DELETABLE)
def test_delete_then_read_is_none_and_delete_again_succeeds(deployment: Any, key: str) -> None:
    deployment.apply(key)
    driver, ctx = deployment.driver_and_context(key)
    resource_id = deployment.entry(key)["id"]
    driver.delete(ctx, resource_id, deployment.entry(key)["attributes"])
    assert driver.read(ctx, resource_id) is None
    driver.delete(ctx, resource_id, None)


# How to delete each type behind the deployer's back.
OUTSIDE_DELETE: dict[str, Callable[[Any, str], Any]] = {
    "primary:aws_subnet.private_c": lambda ec2, i: ec2.delete_subnet(SubnetId=i),
    "primary:aws_route.private_c_nat": lambda ec2, i: ec2.delete_route(
        RouteTableId=i.split("_")[0], DestinationCidrBlock="0.0.0.0/0"
    ),
    "primary:aws_route_table_association.private_c": lambda ec2, i: ec2.disassociate_route_table(
        AssociationId=i
    ),
    "primary:aws_nat_gateway.c": lambda ec2, i: ec2.delete_nat_gateway(NatGatewayId=i),
    "primary:aws_vpc_endpoint.dynamodb": lambda ec2, i: ec2.delete_vpc_endpoints(
        VpcEndpointIds=[i]
    ),
    LAMBDA_TO_DB: lambda ec2, i: ec2.revoke_security_group_egress(
        GroupId=i
        and ec2.describe_security_group_rules(SecurityGroupRuleIds=[i])["SecurityGroupRules"][0][
            "GroupId"
        ],
        SecurityGroupRuleIds=[i],
    ),
    FLOW_LOG: lambda ec2, i: ec2.delete_flow_logs(FlowLogIds=[i]),
}


@pytest.mark.parametrize("key", sorted(OUTSIDE_DELETE))
def test_deleted_outside_is_planned_for_creation(
    deployment: Any, client_for: Callable[..., Any], key: str
) -> None:
    deployment.apply(key)
    OUTSIDE_DELETE[key](client_for("ec2"), deployment.entry(key)["id"])
    change = deployment.plan(key).changes[key]
    assert change.action.value == "create"
    assert change.reason == "the resource was deleted outside the deployer"
    if key in MOTO_KEEPS_THE_EIP_ASSOCIATED:
        return
    deployment.apply(key)
    assert deployment.diff(key) == {}


# moto 5.2 leaves a deleted NAT gateway's EIP associated (AWS releases it), so recreating the
# gateway with the same EIP fails there with Resource.AlreadyAssociated.
MOTO_KEEPS_THE_EIP_ASSOCIATED = frozenset({"primary:aws_nat_gateway.c"})


def test_find_without_desired_attributes_finds_nothing(deployment: Any) -> None:
    """The delete path calls find with whatever state recorded, possibly nothing."""
    for key in network_keys(deployment):
        driver, ctx = deployment.driver_and_context(key)
        assert driver.find(ctx, {}) is None, key
