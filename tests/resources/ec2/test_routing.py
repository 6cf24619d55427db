"""Route tables, routes and associations (resources/ec2/routing.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.model import Ref


def test_route_target_change_replaces_the_route_in_place(
    deployment: Any,
    client_for: Callable[..., Any],
    route_to_anywhere: Callable[[str], dict[str, Any]],
) -> None:
    key = "primary:aws_route.private_a_nat"
    deployment.apply(key, "primary:aws_nat_gateway.b")
    route_id = deployment.entry(key)["id"]
    table_id = deployment.entry("primary:aws_route_table.private_a")["id"]
    assert route_id == f"{table_id}_0.0.0.0/0"
    nat_b = deployment.entry("primary:aws_nat_gateway.b")["id"]
    deployment.graph.node(key).attributes["nat_gateway_id"] = Ref("aws_nat_gateway.b", "id")
    assert deployment.plan(key, "primary:aws_nat_gateway.b").changes[key].action.value == "update"
    deployment.apply(key, "primary:aws_nat_gateway.b")
    assert deployment.entry(key)["id"] == route_id
    assert route_to_anywhere(table_id)["NatGatewayId"] == nat_b
    assert deployment.diff(key) == {}


def test_route_destination_change_forces_replacement(deployment: Any) -> None:
    key = "primary:aws_route.public_internet"
    deployment.apply(key)
    deployment.graph.node(key).attributes["destination_cidr_block"] = "10.0.0.0/8"
    change = deployment.plan(key).changes[key]
    assert (change.action.value, change.forces) == ("replace", ["destination_cidr_block"])


def test_route_table_association_round_trip(
    deployment: Any, client_for: Callable[..., Any], interrupted: Callable[[str], str]
) -> None:
    key = "primary:aws_route_table_association.private_b"
    deployment.apply(key)
    assert deployment.diff(key) == {}
    association_id = deployment.entry(key)["id"]
    assert association_id.startswith("rtbassoc-")
    table = client_for("ec2").describe_route_tables(
        RouteTableIds=[deployment.entry("primary:aws_route_table.private_b")["id"]]
    )["RouteTables"][0]
    assert [(a["RouteTableAssociationId"], a["SubnetId"]) for a in table["Associations"]] == [
        (association_id, deployment.entry("primary:aws_subnet.private_b")["id"])
    ]
    made = interrupted(key)
    deployment.apply(key)
    assert deployment.entry(key)["id"] == made
