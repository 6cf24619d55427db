"""The payment REST API: routes, Lambda proxy integrations, deployment, stage and settings."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from deployer.graph import build_graph
from deployer.model import Node
from deployer.resource import Context
from resources import apigateway
from stack.api import API_DESCRIPTION, api_ref, redeployment_hash

API = "primary:aws_api_gateway_rest_api.payments"
DEPLOYMENT = "primary:aws_api_gateway_deployment.payments"
STAGE = "primary:aws_api_gateway_stage.prod"
SETTINGS = "primary:aws_api_gateway_method_settings.all"
ACCOUNT = "primary:aws_api_gateway_account.main"
ACCESS_LOGS = "primary:aws_cloudwatch_log_group.api_access"
ROUTE_TYPES = ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration")
FUNCTION_NAME = "payments-payment-processor-dev"


def api_keys(deployment: Any, workspace: str = "primary") -> list[str]:
    """Every node of this module in a workspace (the custom domain is another module's)."""
    return [
        key
        for key in deployment.graph.dag.nodes
        if key.startswith(f"{workspace}:")
        and (":aws_api_gateway_" in key or ":aws_lambda_permission." in key)
        and "domain_name" not in key
        and "base_path_mapping" not in key
    ]


def live_id(deployment: Any, key: str) -> str:
    return str(deployment.entry(key)["attributes"]["id"])


def test_api_round_trip(deployment: Any, client_for: Any) -> None:
    keys = api_keys(deployment)
    deployment.apply(*keys)
    for key in keys:
        assert deployment.diff(key) == {}, key
    apigw = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["name"] == "payments-api-dev"
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert set(resources) == {"/", "/payments", "/payments/{id}", "/health"}

    function = client_for("lambda").get_function(FunctionName=FUNCTION_NAME)["Configuration"]
    invoke_arn = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"{function['FunctionArn']}/invocations"
    )
    for path, method, authorization in (
        ("/payments", "POST", "AWS_IAM"),
        ("/payments/{id}", "GET", "AWS_IAM"),
        ("/health", "GET", "NONE"),
    ):
        got = apigw.get_method(restApiId=api_id, resourceId=resources[path], httpMethod=method)
        assert got["authorizationType"] == authorization, path
        assert got["apiKeyRequired"] is False
        integration = apigw.get_integration(
            restApiId=api_id, resourceId=resources[path], httpMethod=method
        )
        assert integration["type"] == "AWS_PROXY"
        assert integration["httpMethod"] == "POST"
        assert integration["uri"] == invoke_arn

    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    (group,) = client_for("logs").describe_log_groups(
        logGroupNamePrefix="/aws/apigateway/payments-api-dev/access"
    )["logGroups"]
    assert stage["accessLogSettings"]["destinationArn"] == group["arn"].removesuffix(":*")
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    assert stage["tracingEnabled"] is True
    assert stage["deploymentId"] == live_id(deployment, DEPLOYMENT)
    settings = stage["methodSettings"]["*/*"]
    assert settings["metricsEnabled"] is True
    assert settings["loggingLevel"] == "INFO"
    assert settings["dataTraceEnabled"] is False
    assert (settings["throttlingBurstLimit"], settings["throttlingRateLimit"]) == (100, 50.0)
    deployments = apigw.get_deployments(restApiId=api_id)["items"]
    assert [d["id"] for d in deployments] == [stage["deploymentId"]]

    role = deployment.entry("primary:aws_iam_role.apigw_cloudwatch")["attributes"]["arn"]
    assert apigw.get_account()["cloudwatchRoleArn"] == role
    assert deployment.read(STAGE)["invoke_url"] == (
        f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod"
    )


def test_secondary_api_invokes_the_secondary_function(deployment: Any, client_for: Any) -> None:
    integration = "secondary:aws_api_gateway_integration.health"
    deployment.apply(integration)
    function = client_for("lambda", "eu-west-1").get_function(FunctionName=FUNCTION_NAME)
    api_id = deployment.entry("secondary:aws_api_gateway_rest_api.payments")["id"]
    assert client_for("apigateway", "eu-west-1").get_rest_api(restApiId=api_id)
    live = deployment.read(integration)
    assert live["uri"].startswith("arn:aws:apigateway:eu-west-1:lambda:")
    assert function["Configuration"]["FunctionArn"] in live["uri"]


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


def test_a_route_change_redeploys_and_the_stage_moves(deployment: Any, client_for: Any) -> None:
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


def test_api_key_mode(deployment: Any, client_for: Any) -> None:
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


@pytest.mark.parametrize(
    ("attribute", "value", "field"),
    [
        ("description", "Payments REST API, v2", "description"),
        ("api_key_source", "AUTHORIZER", "apiKeySource"),
    ],
)
def test_rest_api_updates_in_place(
    deployment: Any, client_for: Any, attribute: str, value: str, field: str
) -> None:
    deployment.apply(API)
    api_id = deployment.entry(API)["id"]
    deployment.graph.node(API).attributes[attribute] = value
    assert deployment.plan(API).changes[API].action.value == "update"
    deployment.apply(API)
    assert client_for("apigateway").get_rest_api(restApiId=api_id)[field] == value
    assert deployment.entry(API)["id"] == api_id
    assert deployment.diff(API) == {}


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


def stubbed_context(tf_type: str) -> tuple[Any, Context]:
    client = boto3.client("apigateway", region_name="us-east-1")
    node = Node(tf_type, "stubbed", "primary", {})

    def clients(service: str, region: str) -> Any:
        return client

    return client, Context(clients=clients, region="us-east-1", node=node)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("driver", "resource_id", "desired", "live", "operation", "expected"),
    [
        (
            apigateway.Method(),
            "a1/r1/GET",
            {"authorization": "NONE", "api_key_required": True},
            {"authorization": "AWS_IAM", "api_key_required": False},
            "update_method",
            {
                "restApiId": "a1",
                "resourceId": "r1",
                "httpMethod": "GET",
                "patchOperations": [
                    {"op": "replace", "path": "/authorizationType", "value": "NONE"},
                    {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
                ],
            },
        ),
        (
            apigateway.ApiGatewayResource(),
            "a1/r1",
            {"path_part": "payment", "parent_id": "p1"},
            {"path_part": "payments", "parent_id": "p1"},
            "update_resource",
            {
                "restApiId": "a1",
                "resourceId": "r1",
                "patchOperations": [{"op": "replace", "path": "/pathPart", "value": "payment"}],
            },
        ),
        (
            apigateway.Deployment(),
            "a1/d1",
            {"description": "new words"},
            {"description": "old words", "triggers": {"redeployment": "h1"}},
            "update_deployment",
            {
                "restApiId": "a1",
                "deploymentId": "d1",
                "patchOperations": [
                    {
                        "op": "replace",
                        "path": "/description",
                        "value": "new words",
                    }
                ],
            },
        ),
    ],
)
def test_updates_that_moto_lacks_send_the_documented_patch(
    driver: Any,
    resource_id: str,
    desired: dict[str, Any],
    live: dict[str, Any],
    operation: str,
    expected: dict[str, Any],
) -> None:
    """UpdateMethod (PutMethod on an existing method is a ConflictException on AWS),
    UpdateResource and UpdateDeployment: moto 5.2 implements none of them, so the requests are
    checked against botocore's model of the real API with a stubbed client."""
    client, ctx = stubbed_context(driver.type)
    with Stubber(client) as stub:
        stub.add_response(operation, {}, expected)
        driver.update(ctx, resource_id, desired, live)
        stub.assert_no_pending_responses()


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


def answer_not_found(client: Any, operation: str) -> None:
    """Answer an operation as AWS does for something already gone (moto 5.2 crashes with an
    internal KeyError/AttributeError on these not-found paths instead of a NotFoundException)."""

    def gone(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "NotFoundException", "Message": "Invalid identifier specified"}},
            operation,
        )

    client.meta.events.register(f"before-call.api-gateway.{operation}", gone)


def test_deployment_is_kept_while_a_stage_serves_it(
    deployment: Any, client_for: Any, clients: Any
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


@pytest.mark.parametrize(
    ("key", "delete_operation"),
    [
        ("primary:aws_api_gateway_integration.get_payment", "DeleteIntegration"),
        ("primary:aws_api_gateway_method.get_payment", "DeleteMethod"),
        ("primary:aws_api_gateway_resource.payment", "DeleteResource"),
        (API, "DeleteRestApi"),
    ],
)
def test_deleted_route_parts_read_as_gone(
    deployment: Any, clients: Any, key: str, delete_operation: str
) -> None:
    deployment.apply(key)
    driver, ctx = deployment.driver_and_context(key)
    resource_id = deployment.entry(key)["id"]
    driver.delete(ctx, resource_id, None)
    assert driver.read(ctx, resource_id) is None
    answer_not_found(clients("apigateway", "us-east-1"), delete_operation)
    driver.delete(ctx, resource_id, None)  # idempotent: NotFound is success


@pytest.mark.parametrize("key", [STAGE, "primary:aws_api_gateway_method.health", API])
def test_deleted_outside_is_planned_for_creation(
    deployment: Any, client_for: Any, key: str
) -> None:
    deployment.apply(key)
    apigw = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    if key == STAGE:
        apigw.delete_stage(restApiId=api_id, stageName="prod")
    elif key == API:
        apigw.delete_rest_api(restApiId=api_id)
    else:
        _, resource_id, method = deployment.entry(key)["id"].split("/")
        apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
    assert deployment.plan(key).changes[key].action.value == "create"


def test_interrupted_create_adopts_the_api(deployment: Any, client_for: Any) -> None:
    deployment.apply(API)
    entry = deployment.entry(API)
    deployment.states()["primary"].record(
        "aws_api_gateway_rest_api.payments",
        {"type": "aws_api_gateway_rest_api", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(API)
    assert deployment.entry(API)["id"] == entry["id"]
    assert len(client_for("apigateway").get_rest_apis()["items"]) == 1


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
