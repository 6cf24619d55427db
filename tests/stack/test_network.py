"""The network component's blueprint: zones, NAT gateways, endpoints and groups, without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.model import Node, Ref
from deployer.schema import validate_attributes
from stack.network import network

AZS = ("a", "b", "c")


@pytest.mark.parametrize("workspace", ["primary", "secondary"])
def test_every_node_validates_against_the_provider_schema(spec: Any, workspace: str) -> None:
    nodes = [n for n in network(spec, workspace) if isinstance(n, Node)]
    assert nodes
    for node in nodes:
        assert validate_attributes(node.type, node.attributes, node.data) == [], node.key


def test_blueprint_spreads_over_three_azs_with_a_nat_gateway_each(spec: Any) -> None:
    nodes = {n.address: n for n in network(spec, "secondary") if isinstance(n, Node)}
    zones = sorted(
        n.attributes["availability_zone"] for a, n in nodes.items() if a.startswith("aws_subnet.")
    )
    assert zones == sorted(["eu-west-1a", "eu-west-1b", "eu-west-1c"] * 2)
    assert sorted(a for a in nodes if a.startswith("aws_nat_gateway.")) == [
        "aws_nat_gateway.a",
        "aws_nat_gateway.b",
        "aws_nat_gateway.c",
    ]
    for az in AZS:
        target = nodes[f"aws_route.private_{az}_nat"].attributes["nat_gateway_id"]
        assert target == Ref(f"aws_nat_gateway.{az}", "id", ready=True)
    assert nodes["aws_vpc_endpoint.s3"].attributes["service_name"] == "com.amazonaws.eu-west-1.s3"
    group = nodes["aws_security_group.db"].attributes
    assert "ingress" not in group and "egress" not in group


def test_single_nat_gateway_option(spec: Any) -> None:
    spec.network.nat_gateways = "single"
    nodes = {n.address: n for n in network(spec, "primary") if isinstance(n, Node)}
    assert [a for a in nodes if a.startswith(("aws_nat_gateway.", "aws_eip."))] == [
        "aws_eip.nat_a",
        "aws_nat_gateway.a",
    ]
    for az in AZS:
        target = nodes[f"aws_route.private_{az}_nat"].attributes["nat_gateway_id"]
        assert target == Ref("aws_nat_gateway.a", "id", ready=True)
