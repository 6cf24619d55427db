"""API-key mode: the client key, its usage plan on the stage, and the plan's key."""

from __future__ import annotations

from typing import Any

from deployer.graph import build_graph

API = "primary:aws_api_gateway_rest_api.payments"


def test_api_key_mode(deployment: Any, client_for: Any, live_id: Any) -> None:
    deployment.spec.api.auth = "api_key"
    deployment.graph = build_graph(deployment.spec)
    plan_key = "primary:aws_api_gateway_usage_plan_key.payments"
    deployment.apply(plan_key, "primary:aws_api_gateway_method.get_payment")
    for key in (
        plan_key,
        "primary:aws_api_gateway_usage_plan.payments",
        "primary:aws_api_gateway_api_key.payments",
    ):
        assert deployment.diff(key) == {}, key
    apigw = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api_id)["items"]}
    for path, method, key_required in (
        ("/payments", "POST", True),
        ("/payments/{id}", "GET", True),
        ("/health", "GET", False),
    ):
        got = apigw.get_method(restApiId=api_id, resourceId=resources[path], httpMethod=method)
        assert (got["authorizationType"], got["apiKeyRequired"]) == ("NONE", key_required)
    key_id = live_id(deployment, "primary:aws_api_gateway_api_key.payments")
    assert apigw.get_api_key(apiKey=key_id)["enabled"] is True
    plan_id = live_id(deployment, "primary:aws_api_gateway_usage_plan.payments")
    plan = apigw.get_usage_plan(usagePlanId=plan_id)
    assert plan["apiStages"] == [{"apiId": api_id, "stage": "prod"}]
    assert (plan["throttle"]["burstLimit"], plan["throttle"]["rateLimit"]) == (100, 50.0)
    members = apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"]
    assert [m["id"] for m in members] == [key_id]
    assert "value" not in deployment.entry("primary:aws_api_gateway_api_key.payments")["attributes"]
    # Delete, then read None; deleting again must succeed (not for the plan key: moto 5.2
    # answers a second DeleteUsagePlanKey with an internal KeyError, AWS with NotFound).
    for key in (
        plan_key,
        "primary:aws_api_gateway_usage_plan.payments",
        "primary:aws_api_gateway_api_key.payments",
    ):
        driver, ctx = deployment.driver_and_context(key)
        made = deployment.entry(key)["id"]
        driver.delete(ctx, made, None)
        assert driver.read(ctx, made) is None
        if key != plan_key:
            driver.delete(ctx, made, None)
    assert apigw.get_usage_plans()["items"] == []
    assert apigw.get_api_keys()["items"] == []


PLAN = "primary:aws_api_gateway_usage_plan.payments"
KEY = "primary:aws_api_gateway_api_key.payments"


def api_key_mode(deployment: Any) -> None:
    deployment.spec.api.auth = "api_key"
    deployment.graph = build_graph(deployment.spec)


def test_usage_plan_updates_in_place(deployment: Any, client_for: Any) -> None:
    api_key_mode(deployment)
    deployment.apply(PLAN)
    plan_id = deployment.entry(PLAN)["id"]
    node = deployment.graph.node(PLAN)
    node.attributes["description"] = "Throttling, tighter"
    node.attributes["throttle_settings"] = [{"burst_limit": 40, "rate_limit": 20}]
    node.attributes["quota_settings"] = [{"limit": 1000, "period": "DAY"}]
    assert deployment.plan(PLAN).changes[PLAN].action.value == "update"
    deployment.apply(PLAN)
    plan = client_for("apigateway").get_usage_plan(usagePlanId=plan_id)
    assert plan["description"] == "Throttling, tighter"
    assert (plan["throttle"]["burstLimit"], plan["throttle"]["rateLimit"]) == (40, 20.0)
    assert (int(plan["quota"]["limit"]), plan["quota"]["period"]) == (1000, "DAY")
    assert deployment.entry(PLAN)["id"] == plan_id
    assert deployment.diff(PLAN) == {}


def test_api_key_updates_in_place(deployment: Any, client_for: Any) -> None:
    api_key_mode(deployment)
    deployment.apply(KEY)
    key_id = deployment.entry(KEY)["id"]
    node = deployment.graph.node(KEY)
    node.attributes["description"] = "Rotated client key"
    node.attributes["customer_id"] = "acme"
    assert deployment.plan(KEY).changes[KEY].action.value == "update"
    deployment.apply(KEY)
    key = client_for("apigateway").get_api_key(apiKey=key_id)
    assert (key["description"], key["customerId"]) == ("Rotated client key", "acme")
    assert deployment.diff(KEY) == {}


def test_a_key_disabled_outside_is_enabled_again(deployment: Any, client_for: Any) -> None:
    """`enabled` left to the provider's default (true) is still watched."""
    api_key_mode(deployment)
    del deployment.graph.node(KEY).attributes["enabled"]
    deployment.apply(KEY)
    key_id = deployment.entry(KEY)["id"]
    apigw = client_for("apigateway")
    apigw.update_api_key(
        apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    change = deployment.plan(KEY).changes[KEY]
    assert change.action.value == "update"
    assert change.diffs == {"enabled": (False, True)}
    deployment.apply(KEY)
    assert apigw.get_api_key(apiKey=key_id)["enabled"] is True
