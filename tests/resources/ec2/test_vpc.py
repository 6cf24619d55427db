"""The VPC and its subnets (resources/ec2/vpc.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

VPC = "primary:aws_vpc.main"
AZS = ("a", "b", "c")
SUBNETS = [f"primary:aws_subnet.{tier}_{az}" for tier in ("public", "private") for az in AZS]


# --- VPC -------------------------------------------------------------------------------------


def test_vpc_round_trip(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(VPC)
    assert deployment.diff(VPC) == {}
    ec2 = client_for("ec2")
    vpc_id = deployment.entry(VPC)["id"]
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        result = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        assert result[attribute[0].upper() + attribute[1:]]["Value"] is True
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["Name"] == "payments-vpc-dev"
    assert tags["deployer:address"] == "aws_vpc.main"
    live = deployment.read(VPC)
    assert live is not None
    assert live["arn"] == f"arn:aws:ec2:us-east-1:123456789012:vpc/{vpc_id}"
    assert live["main_route_table_id"].startswith("rtb-")
    assert live["default_security_group_id"].startswith("sg-")


@pytest.mark.parametrize("attribute", ["enable_dns_hostnames", "enable_dns_support"])
def test_vpc_dns_updates_in_place(
    deployment: Any, client_for: Callable[..., Any], attribute: str
) -> None:
    deployment.apply(VPC)
    vpc_id = deployment.entry(VPC)["id"]
    attributes = deployment.graph.node(VPC).attributes
    # AWS refuses hostnames without DNS support: turning support off turns hostnames off too.
    attributes["enable_dns_hostnames"] = False
    attributes[attribute] = False
    assert deployment.plan(VPC).changes[VPC].action.value == "update"
    deployment.apply(VPC)
    assert deployment.entry(VPC)["id"] == vpc_id
    api_name = "enableDnsHostnames" if attribute == "enable_dns_hostnames" else "enableDnsSupport"
    result = client_for("ec2").describe_vpc_attribute(VpcId=vpc_id, Attribute=api_name)
    assert result[api_name[0].upper() + api_name[1:]]["Value"] is False
    assert deployment.diff(VPC) == {}


def test_vpc_dns_support_turned_off_outside_is_turned_back_on(deployment: Any, ec2: Any) -> None:
    """Left to the provider's default (on), DNS support is still watched: turned off behind
    our back (hostnames first, as AWS requires), both are planned back in place."""
    del deployment.graph.node(VPC).attributes["enable_dns_support"]
    deployment.apply(VPC)
    vpc_id = deployment.entry(VPC)["id"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": False})

    change = deployment.plan(VPC).changes[VPC]
    assert change.action.value == "update"
    assert change.diffs == {
        "enable_dns_support": (False, True),
        "enable_dns_hostnames": (False, True),
    }
    deployment.apply(VPC)

    assert deployment.entry(VPC)["id"] == vpc_id
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        answer = ec2.describe_vpc_attribute(
            VpcId=vpc_id, Attribute=attribute[0].lower() + attribute[1:]
        )
        assert answer[attribute]["Value"] is True, attribute
    assert deployment.diff(VPC) == {}


def test_vpc_tag_update(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(VPC)
    tags = deployment.graph.node(VPC).attributes["tags"]
    tags["Name"] = "renamed"
    del tags["CostCenter"]
    deployment.apply(VPC)
    vpc = client_for("ec2").describe_vpcs(VpcIds=[deployment.entry(VPC)["id"]])["Vpcs"][0]
    live_tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert live_tags["Name"] == "renamed"
    assert "CostCenter" not in live_tags


def test_vpc_cidr_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(VPC)
    deployment.graph.node(VPC).attributes["cidr_block"] = "10.99.0.0/16"
    change = deployment.plan(VPC).changes[VPC]
    assert change.action.value == "replace"
    assert change.forces == ["cidr_block"]


def test_vpc_interrupted_create_is_adopted(
    deployment: Any, client_for: Callable[..., Any], interrupted: Callable[[str], str]
) -> None:
    deployment.apply(VPC)
    made = interrupted(VPC)
    deployment.apply(VPC)
    assert deployment.entry(VPC)["id"] == made
    mine = client_for("ec2").describe_vpcs(
        Filters=[{"Name": "tag:deployer:address", "Values": ["aws_vpc.main"]}]
    )["Vpcs"]
    assert [v["VpcId"] for v in mine] == [made]


def test_vpc_of_another_environment_is_not_adopted(deployment: Any) -> None:
    deployment.apply(VPC)
    driver, ctx = deployment.driver_and_context(VPC)
    desired = deployment.desired(VPC)
    assert driver.find(ctx, desired) == deployment.entry(VPC)["id"]
    desired["tags"] = {**desired["tags"], "Environment": "staging"}
    assert driver.find(ctx, desired) is None


# --- subnets ---------------------------------------------------------------------------------


def test_subnets_round_trip(deployment: Any, client_for: Callable[..., Any]) -> None:
    deployment.apply(*SUBNETS)
    vpc_id = deployment.entry(VPC)["id"]
    subnets = client_for("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "Subnets"
    ]
    assert len(subnets) == 6
    for key in SUBNETS:
        assert deployment.diff(key) == {}
    live = deployment.read("primary:aws_subnet.private_b")
    assert live is not None
    assert (live["availability_zone"], live["cidr_block"]) == ("us-east-1b", "10.10.11.0/24")


def test_subnet_map_public_ip_updates_in_place(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    key = "primary:aws_subnet.public_a"
    deployment.apply(key)
    subnet_id = deployment.entry(key)["id"]
    deployment.graph.node(key).attributes["map_public_ip_on_launch"] = True
    assert deployment.plan(key).changes[key].action.value == "update"
    deployment.apply(key)
    assert deployment.entry(key)["id"] == subnet_id
    subnet = client_for("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    assert subnet["MapPublicIpOnLaunch"] is True


def test_subnet_ipv6_assignment_turned_on_outside_is_turned_back_off(
    deployment: Any, ec2: Any
) -> None:
    """`assign_ipv6_address_on_creation`, which the stack leaves to its default (off)."""
    key = "primary:aws_subnet.private_a"
    assert "assign_ipv6_address_on_creation" not in deployment.graph.node(key).attributes
    deployment.apply(key)
    subnet_id = deployment.entry(key)["id"]
    ec2.modify_subnet_attribute(SubnetId=subnet_id, AssignIpv6AddressOnCreation={"Value": True})

    change = deployment.plan(key).changes[key]
    assert (change.action.value, change.diffs) == (
        "update",
        {"assign_ipv6_address_on_creation": (True, False)},
    )
    deployment.apply(key)

    assert deployment.entry(key)["id"] == subnet_id
    subnet = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    assert subnet["AssignIpv6AddressOnCreation"] is False
    assert deployment.diff(key) == {}


def test_subnet_cidr_change_replaces_it(deployment: Any, client_for: Callable[..., Any]) -> None:
    key = "primary:aws_subnet.private_a"
    deployment.apply(key)
    old = deployment.entry(key)["id"]
    deployment.graph.node(key).attributes["cidr_block"] = "10.10.20.0/24"
    change = deployment.plan(key).changes[key]
    assert (change.action.value, change.forces) == ("replace", ["cidr_block"])
    deployment.apply(key)
    new = deployment.entry(key)["id"]
    assert new != old
    ec2 = client_for("ec2")
    assert ec2.describe_subnets(SubnetIds=[new])["Subnets"][0]["CidrBlock"] == "10.10.20.0/24"
    assert ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [old]}])["Subnets"] == []


def test_subnet_interrupted_create_is_adopted(
    deployment: Any, client_for: Callable[..., Any], interrupted: Callable[[str], str]
) -> None:
    key = "primary:aws_subnet.public_c"
    deployment.apply(key)
    made = interrupted(key)
    deployment.apply(key)
    assert deployment.entry(key)["id"] == made
    vpc_id = deployment.entry(VPC)["id"]
    subnets = client_for("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "Subnets"
    ]
    assert [s["SubnetId"] for s in subnets] == [made]
