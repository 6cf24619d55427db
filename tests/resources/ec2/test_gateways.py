"""The internet gateway, Elastic IPs and NAT gateways (resources/ec2/gateways.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VPC = "primary:aws_vpc.main"
IGW = "primary:aws_internet_gateway.main"


def test_internet_gateway_is_detached_before_delete(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    deployment.apply(IGW)
    assert deployment.diff(IGW) == {}
    driver, ctx = deployment.driver_and_context(IGW)
    igw_id = deployment.entry(IGW)["id"]
    driver.delete(ctx, igw_id, None)
    assert driver.read(ctx, igw_id) is None
    driver.delete(ctx, igw_id, None)
    # With the gateway detached and gone, the VPC can be deleted.
    client_for("ec2").delete_vpc(VpcId=deployment.entry(VPC)["id"])


def test_nat_gateway_delete_waits_so_its_eip_can_be_released(
    deployment: Any, client_for: Callable[..., Any], ids: Callable[..., list[str]]
) -> None:
    nat_key, eip_key = "primary:aws_nat_gateway.b", "primary:aws_eip.nat_b"
    deployment.apply(nat_key)
    nat_driver, nat_ctx = deployment.driver_and_context(nat_key)
    eip_driver, eip_ctx = deployment.driver_and_context(eip_key)
    nat_id, eip_id = ids(nat_key, eip_key)
    nat_driver.delete(nat_ctx, nat_id, None)
    ec2 = client_for("ec2")
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "deleted"
    assert nat_driver.read(nat_ctx, nat_id) is None
    nat_driver.delete(nat_ctx, nat_id, None)
    eip_driver.delete(eip_ctx, eip_id, None)
    assert eip_driver.read(eip_ctx, eip_id) is None
    assert (
        ec2.describe_addresses(Filters=[{"Name": "allocation-id", "Values": [eip_id]}])["Addresses"]
        == []
    )
    eip_driver.delete(eip_ctx, eip_id, None)


def test_nat_gateway_interrupted_create_is_adopted(
    deployment: Any, client_for: Callable[..., Any], interrupted: Callable[[str], str]
) -> None:
    key = "primary:aws_nat_gateway.a"
    deployment.apply(key)
    made = interrupted(key)
    deployment.apply(key)
    assert deployment.entry(key)["id"] == made
    nats = client_for("ec2").describe_nat_gateways()["NatGateways"]
    assert [n["NatGatewayId"] for n in nats] == [made]


def test_internet_gateway_moves_to_another_vpc_in_place(deployment: Any, ec2: Any) -> None:
    deployment.apply(IGW)
    igw_id = deployment.entry(IGW)["id"]
    other = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    deployment.graph.node(IGW).attributes["vpc_id"] = other
    change = deployment.plan(IGW).changes[IGW]
    assert (change.action.value, set(change.diffs)) == ("update", {"vpc_id"})
    deployment.apply(IGW)
    assert deployment.entry(IGW)["id"] == igw_id
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"][0]
    assert [a["VpcId"] for a in igw["Attachments"]] == [other]
    assert deployment.diff(IGW) == {}


def test_an_address_in_use_is_released_once_let_go(
    deployment: Any, ec2: Any, fail_once: Callable[..., list[str]]
) -> None:
    """AWS refuses to release an address its NAT gateway still holds a moment after the
    gateway is deleted (`InvalidIPAddress.InUse`): the delete tries again."""
    key = "primary:aws_eip.nat_a"
    deployment.apply(key)
    calls = fail_once(ec2, "ReleaseAddress", "InvalidIPAddress.InUse", "Address is in use")
    driver, ctx = deployment.driver_and_context(key)
    allocation_id = deployment.entry(key)["id"]
    driver.delete(ctx, allocation_id, None)
    assert calls == ["ReleaseAddress", "ReleaseAddress"]
    assert (
        ec2.describe_addresses(Filters=[{"Name": "allocation-id", "Values": [allocation_id]}])[
            "Addresses"
        ]
        == []
    )
