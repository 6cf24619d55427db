"""The API component's blueprint: the routes' digest that redeploys the API."""

from __future__ import annotations

from typing import Any

from deployer.graph import build_graph

API = "primary:aws_api_gateway_rest_api.payments"


def test_the_routes_digest_follows_the_routes(spec: Any) -> None:
    def description(graph: Any) -> str:
        return str(graph.node(API).attributes["description"])

    first, again = description(build_graph(spec)), description(build_graph(spec))
    assert first == again  # deterministic
    spec.api.auth = "api_key"
    assert description(build_graph(spec)) != first
    spec.api.auth = "iam"
    spec.lambda_.memory_mb = 1024  # not a route: same deployment
    assert description(build_graph(spec)) == first
