"""The payment REST API and its routes: resources, methods and Lambda proxy integrations."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from deployer.model import Node
from deployer.resource import Context
from resources.apigateway.rest_api import ApiGatewayResource, Method
from resources.apigateway.stage import Deployment

API = "primary:aws_api_gateway_rest_api.payments"
DEPLOYMENT = "primary:aws_api_gateway_deployment.payments"
STAGE = "primary:aws_api_gateway_stage.prod"
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


def test_api_round_trip(deployment: Any, client_for: Any, live_id: Any) -> None:
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
            Method(),
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
            ApiGatewayResource(),
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
            Deployment(),
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
    deployment: Any, clients: Any, key: str, delete_operation: str, answer_not_found: Any
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


def test_an_integration_timeout_changed_outside_is_set_back_to_the_default(
    deployment: Any, client_for: Any
) -> None:
    """The stack leaves `timeout_milliseconds` to the provider's default (29000): a change
    behind the deployer's back is planned as an in-place update back to it."""
    key = "primary:aws_api_gateway_integration.health"
    assert "timeout_milliseconds" not in deployment.graph.node(key).attributes
    deployment.apply(key)
    api, resource_id, method = deployment.entry(key)["id"].split("/")
    apigw = client_for("apigateway")
    current = apigw.get_integration(restApiId=api, resourceId=resource_id, httpMethod=method)
    apigw.put_integration(
        restApiId=api,
        resourceId=resource_id,
        httpMethod=method,
        type=current["type"],
        integrationHttpMethod=current["httpMethod"],
        uri=current["uri"],
        timeoutInMillis=5000,
    )
    change = deployment.plan(key).changes[key]
    assert change.action.value == "update"
    assert change.diffs["timeout_milliseconds"] == (5000, 29000)
    deployment.apply(key)
    healed = apigw.get_integration(restApiId=api, resourceId=resource_id, httpMethod=method)
    assert healed["timeoutInMillis"] == 29000
    assert deployment.entry(key)["id"] == f"{api}/{resource_id}/{method}"


def test_a_key_requirement_added_outside_is_planned_back_to_the_default(
    deployment: Any, client_for: Any
) -> None:
    """`api_key_required` left to its default (false) is still watched. The update itself is
    UpdateMethod, which moto lacks (its request is checked above)."""
    key = "primary:aws_api_gateway_method.health"
    del deployment.graph.node(key).attributes["api_key_required"]
    deployment.apply(key)
    api, resource_id, method = deployment.entry(key)["id"].split("/")
    client_for("apigateway").put_method(
        restApiId=api,
        resourceId=resource_id,
        httpMethod=method,
        authorizationType="NONE",
        apiKeyRequired=True,
    )
    change = deployment.plan(key).changes[key]
    assert change.action.value == "update"
    assert change.diffs == {"api_key_required": (True, False)}
