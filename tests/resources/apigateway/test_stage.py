"""Serving the API: the deployment, the stage, its method settings and the account settings."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.graph import build_graph
from stack.api import API_DESCRIPTION, api_ref, redeployment_hash

API = "primary:aws_api_gateway_rest_api.payments"
DEPLOYMENT = "primary:aws_api_gateway_deployment.payments"
STAGE = "primary:aws_api_gateway_stage.prod"
SETTINGS = "primary:aws_api_gateway_method_settings.all"
ACCOUNT = "primary:aws_api_gateway_account.main"
ROUTE_TYPES = ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration")
FUNCTION_NAME = "payments-payment-processor-dev"


def test_unchanged_routes_keep_the_deployment(deployment: Any, client_for: Any) -> None:
    deployment.apply(STAGE)
    api_id = deployment.entry(API)["id"]
    before = [d["id"] for d in client_for("apigateway").get_deployments(restApiId=api_id)["items"]]
    deployment.graph = build_graph(deployment.spec)  # a new run
    plan = deployment.plan(STAGE)
    assert {k: c.action.value for k, c in plan.changes.items() if c.action.value != "no-op"} == {
        "primary:data.aws_caller_identity.current": "read"
    }
    deployment.apply(STAGE)
    after = [d["id"] for d in client_for("apigateway").get_deployments(restApiId=api_id)["items"]]
    assert after == before


def test_a_route_change_redeploys_and_the_stage_moves(
    deployment: Any, client_for: Any, live_id: Any
) -> None:
    deployment.apply(STAGE)
    apigw = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    old = live_id(deployment, DEPLOYMENT)
    # The health integration gets a shorter timeout: the hash over the routes changes, as the
    # blueprint would compute it for this change.
    health = "primary:aws_api_gateway_integration.health"
    deployment.graph.node(health).attributes["timeout_milliseconds"] = 5000
    routes = [n for n in deployment.graph.nodes("primary") if n.type in ROUTE_TYPES]
    digest = redeployment_hash(routes, {"function_name": FUNCTION_NAME, "region": "us-east-1"})
    deployment.graph.node(API).attributes["description"] = f"{API_DESCRIPTION} (routes {digest})"
    deployment.graph.node(DEPLOYMENT).attributes["description"] = (
        f"payments-api-dev routes {digest}"
    )
    plan = deployment.plan(STAGE)
    actions = {k: c.action.value for k, c in plan.changes.items()}
    assert actions[health] == "update"
    assert actions[API] == "update"
    assert actions[DEPLOYMENT] == "replace"
    assert plan.changes[DEPLOYMENT].forces == ["triggers"]
    assert actions[STAGE] == "update"
    deployment.apply(STAGE)
    new = live_id(deployment, DEPLOYMENT)
    assert new != old
    assert apigw.get_stage(restApiId=api_id, stageName="prod")["deploymentId"] == new
    # The replaced deployment is gone once the stage left it (create_before_destroy).
    assert [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]] == [new]
    resource_id = deployment.read(health)["resource_id"]
    integration = apigw.get_integration(restApiId=api_id, resourceId=resource_id, httpMethod="GET")
    assert int(integration["timeoutInMillis"]) == 5000
    assert deployment.diff(STAGE) == {}


def test_the_deployment_is_triggered_by_what_aws_reports(deployment: Any, client_for: Any) -> None:
    """The trigger watches the REST API's description, which GetRestApi returns, so an import
    (Terraform's or ours) sees the same digest the deployment was made for."""
    node = deployment.graph.node(DEPLOYMENT)
    assert node.attributes["triggers"] == {"redeployment": api_ref("description")}
    deployment.apply(DEPLOYMENT)
    api_id = deployment.entry(API)["id"]
    live_api = client_for("apigateway").get_rest_api(restApiId=api_id)
    (made,) = client_for("apigateway").get_deployments(restApiId=api_id)["items"]
    digest = made["description"].rsplit(" ", 1)[1]
    assert made["description"] == f"payments-api-dev routes {digest}"
    assert live_api["description"] == f"{API_DESCRIPTION} (routes {digest})"
    assert "triggers" not in deployment.read(DEPLOYMENT)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("xray_tracing_enabled", False),
        ("description", "the production stage"),
        (
            "access_log_settings",
            [{"destination_arn": None, "format": '{"requestId":"$context.requestId"}'}],
        ),
    ],
)
def test_stage_updates_in_place(
    deployment: Any, client_for: Any, attribute: str, value: Any
) -> None:
    deployment.apply(STAGE)
    node = deployment.graph.node(STAGE)
    if attribute == "access_log_settings":
        value = [{**value[0], "destination_arn": node.attributes[attribute][0]["destination_arn"]}]
    node.attributes[attribute] = value
    assert deployment.plan(STAGE).changes[STAGE].action.value == "update"
    deployment.apply(STAGE)
    stage = client_for("apigateway").get_stage(
        restApiId=deployment.entry(API)["id"], stageName="prod"
    )
    reported = {
        "xray_tracing_enabled": stage.get("tracingEnabled"),
        "description": stage.get("description"),
        "access_log_settings": stage.get("accessLogSettings", {}).get("format"),
    }[attribute]
    expected = value[0]["format"] if attribute == "access_log_settings" else value
    assert reported == expected
    assert deployment.entry(STAGE)["id"] == f"{deployment.entry(API)['id']}/prod"


def test_method_settings_update_in_place(deployment: Any, client_for: Any) -> None:
    """`settings` is one block: each of its fields is changed and read back."""
    deployment.apply(SETTINGS)
    changes = {
        "logging_level": ("ERROR", "loggingLevel"),
        "metrics_enabled": (False, "metricsEnabled"),
        "throttling_burst_limit": (40, "throttlingBurstLimit"),
        "throttling_rate_limit": (20.5, "throttlingRateLimit"),
    }
    block = deployment.graph.node(SETTINGS).attributes["settings"][0]
    block.update({setting: value for setting, (value, _) in changes.items()})
    change = deployment.plan(SETTINGS).changes[SETTINGS]
    assert change.action.value == "update"
    deployment.apply(SETTINGS)
    stage = client_for("apigateway").get_stage(
        restApiId=deployment.entry(API)["id"], stageName="prod"
    )
    for value, field in changes.values():
        assert stage["methodSettings"]["*/*"][field] == value, field
    assert deployment.diff(SETTINGS) == {}


def test_method_settings_delete_removes_the_entry(deployment: Any, clients: Any) -> None:
    """AWS removes a stage's method settings with a `remove` of their path; moto 5.2 accepts
    the call but ignores it, so the request is checked rather than the result."""
    deployment.apply(SETTINGS)
    sent: list[Any] = []
    clients("apigateway", "us-east-1").meta.events.register(
        "before-parameter-build.api-gateway.UpdateStage",
        lambda params, **_: sent.append(dict(params)),
    )
    driver, ctx = deployment.driver_and_context(SETTINGS)
    driver.delete(ctx, deployment.entry(SETTINGS)["id"], None)
    (request,) = sent
    assert request["patchOperations"] == [{"op": "remove", "path": "/*/*"}]


def test_account_sets_the_cloudwatch_role(deployment: Any, client_for: Any) -> None:
    deployment.apply(ACCOUNT)
    role = deployment.entry("primary:aws_iam_role.apigw_cloudwatch")["attributes"]["arn"]
    assert client_for("apigateway").get_account()["cloudwatchRoleArn"] == role
    assert deployment.entry(ACCOUNT)["id"] == "api-gateway-account"
    assert deployment.diff(ACCOUNT) == {}
    # AWS has no delete: it resets the role, and then there is nothing of ours to read.
    driver, ctx = deployment.driver_and_context(ACCOUNT)
    driver.delete(ctx, "api-gateway-account", None)
    assert not client_for("apigateway").get_account().get("cloudwatchRoleArn")
    assert driver.read(ctx, "api-gateway-account") is None
    driver.delete(ctx, "api-gateway-account", None)
    assert deployment.plan(ACCOUNT).changes[ACCOUNT].action.value == "create"
    deployment.apply(ACCOUNT)
    assert client_for("apigateway").get_account()["cloudwatchRoleArn"] == role


def test_account_waits_for_the_new_role_to_be_usable(deployment: Any, clients: Any) -> None:
    attempts = {"n": 0}

    def role_not_yet_assumable(**_: Any) -> None:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise ClientError(
                {
                    "Error": {
                        "Code": "BadRequestException",
                        "Message": "The role ARN does not have required permissions set to "
                        "API Gateway",
                    }
                },
                "UpdateAccount",
            )

    clients("apigateway", "us-east-1").meta.events.register(
        "before-call.api-gateway.UpdateAccount", role_not_yet_assumable
    )
    deployment.apply(ACCOUNT)
    assert attempts["n"] == 2


def test_deployment_is_kept_while_a_stage_serves_it(
    deployment: Any, client_for: Any, clients: Any, answer_not_found: Any
) -> None:
    deployment.apply(STAGE)
    apigw = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    deployment_driver, deployment_ctx = deployment.driver_and_context(DEPLOYMENT)
    deployment_id = deployment.entry(DEPLOYMENT)["id"]
    deployment_driver.delete(deployment_ctx, deployment_id, None)
    assert deployment_driver.read(deployment_ctx, deployment_id) is not None
    stage_driver, stage_ctx = deployment.driver_and_context(STAGE)
    stage_driver.delete(stage_ctx, deployment.entry(STAGE)["id"], None)
    assert stage_driver.read(stage_ctx, deployment.entry(STAGE)["id"]) is None
    deployment_driver.delete(deployment_ctx, deployment_id, None)
    assert apigw.get_deployments(restApiId=api_id)["items"] == []
    deployment_driver.delete(deployment_ctx, deployment_id, None)  # idempotent
    answer_not_found(clients("apigateway", "us-east-1"), "GetDeployment")
    assert deployment_driver.read(deployment_ctx, deployment_id) is None


def test_interrupted_deployment_create_adopts_it(deployment: Any, client_for: Any) -> None:
    deployment.apply(DEPLOYMENT)
    entry = deployment.entry(DEPLOYMENT)
    deployment.states()["primary"].record(
        "aws_api_gateway_deployment.payments",
        {"type": "aws_api_gateway_deployment", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(DEPLOYMENT)
    assert deployment.entry(DEPLOYMENT)["id"] == entry["id"]
    api_id = deployment.entry(API)["id"]
    assert len(client_for("apigateway").get_deployments(restApiId=api_id)["items"]) == 1


def test_outputs_name_the_stage_urls(deployment: Any) -> None:
    from deployer.cli import outputs_of

    deployment.apply(STAGE)
    outputs = outputs_of(deployment.graph, deployment.states())["primary"]
    api_id = deployment.entry(API)["id"]
    assert outputs["api_id"] == api_id
    assert outputs["api_invoke_url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod"
    assert outputs["api_health_url"] == outputs["api_invoke_url"] + "/health"
    assert outputs["lambda_function_name"] == FUNCTION_NAME


def test_stage_variables_change_key_by_key(deployment: Any, client_for: Any) -> None:
    deployment.apply(STAGE)
    node = deployment.graph.node(STAGE)
    node.attributes["variables"] = {"kept": "1", "changed": "old", "dropped": "x"}
    deployment.apply(STAGE)
    node.attributes["variables"] = {"kept": "1", "changed": "new", "added": "2"}
    assert deployment.plan(STAGE).changes[STAGE].action.value == "update"
    deployment.apply(STAGE)
    stage = client_for("apigateway").get_stage(
        restApiId=deployment.entry(API)["id"], stageName="prod"
    )
    assert stage["variables"] == {"kept": "1", "changed": "new", "added": "2"}
    assert deployment.diff(STAGE) == {}
