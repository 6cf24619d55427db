"""What the EC2 driver tests share: the region's EC2 client and small views of moto's answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse


@pytest.fixture
def ec2(client_for: Callable[..., Any]) -> Any:
    """The primary region's EC2 client (what AWS, here moto, reports)."""
    return client_for("ec2")


@pytest.fixture
def interrupted(deployment: Any) -> Callable[[str], str]:
    """Make state look as if the process died right after a node's create call; its id."""

    def mark(key: str) -> str:
        entry = deployment.entry(key)
        workspace, address = key.split(":", 1)
        deployment.states()[workspace].record(
            address, {"type": entry["type"], "status": "creating", "applied": entry["applied"]}
        )
        return str(entry["id"])

    return mark


@pytest.fixture
def group_rules(ec2: Any) -> Callable[[str], list[dict[str, Any]]]:
    """Every rule of a security group, as EC2 describes them."""

    def rules(group_id: str) -> list[dict[str, Any]]:
        return list(
            ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])[
                "SecurityGroupRules"
            ]
        )

    return rules


@pytest.fixture
def route_to_anywhere(ec2: Any) -> Callable[[str], dict[str, Any]]:
    """A route table's one route to 0.0.0.0/0."""

    def route(table_id: str) -> dict[str, Any]:
        routes = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]["Routes"]
        (found,) = [r for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        return dict(found)

    return route


@pytest.fixture
def fail_once() -> Callable[[Any, str, str, str], list[str]]:
    """Make the next call of an operation fail with an AWS error; returns the calls seen."""

    def install(client: Any, operation: str, code: str, message: str) -> list[str]:
        seen: list[str] = []

        def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            seen.append(operation)
            if len(seen) > 1:
                return None
            response = AWSResponse("https://ec2.amazonaws.com", 400, {}, None)
            return response, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}

        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}.{operation}", hook)
        return seen

    return install


@pytest.fixture
def ids(deployment: Any) -> Callable[..., list[str]]:
    """The ids state records for nodes."""

    def of(*keys: str) -> list[str]:
        return [deployment.entry(key)["id"] for key in keys]

    return of
