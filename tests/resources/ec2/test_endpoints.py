"""Gateway endpoints (resources/ec2/endpoints.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployer.model import Ref

PUBLIC_TABLE = "primary:aws_route_table.public"


def test_vpc_endpoint_route_tables_update_in_place(
    deployment: Any, client_for: Callable[..., Any], ids: Callable[..., list[str]]
) -> None:
    key = "primary:aws_vpc_endpoint.dynamodb"
    deployment.apply(key, PUBLIC_TABLE)
    endpoint_id = deployment.entry(key)["id"]
    attributes = deployment.graph.node(key).attributes
    attributes["route_table_ids"] = [
        Ref("aws_route_table.private_a", "id"),
        Ref("aws_route_table.public", "id"),
    ]
    assert deployment.plan(key, PUBLIC_TABLE).changes[key].action.value == "update"
    deployment.apply(key, PUBLIC_TABLE)
    assert deployment.entry(key)["id"] == endpoint_id
    endpoint = client_for("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])[
        "VpcEndpoints"
    ][0]
    assert sorted(endpoint["RouteTableIds"]) == sorted(
        ids("primary:aws_route_table.private_a", PUBLIC_TABLE)
    )
    assert deployment.diff(key) == {}


def test_vpc_endpoint_policy_updates_in_place(
    deployment: Any, client_for: Callable[..., Any]
) -> None:
    key = "primary:aws_vpc_endpoint.s3"
    deployment.apply(key)
    open_policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
        '"Action": "s3:GetObject", "Resource": "*"}]}'
    )
    deployment.graph.node(key).attributes["policy"] = open_policy
    deployment.apply(key)
    endpoint = client_for("ec2").describe_vpc_endpoints(
        VpcEndpointIds=[deployment.entry(key)["id"]]
    )["VpcEndpoints"][0]
    assert '"s3:GetObject"' in endpoint["PolicyDocument"]
    assert deployment.diff(key) == {}


def test_vpc_endpoint_service_change_forces_replacement(deployment: Any) -> None:
    key = "primary:aws_vpc_endpoint.s3"
    deployment.apply(key)
    deployment.graph.node(key).attributes["service_name"] = "com.amazonaws.us-east-1.sqs"
    assert deployment.plan(key).changes[key].forces == ["service_name"]
