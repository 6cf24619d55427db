"""API Gateway's data plane (emulator/dataplane.py, emulator/dataplane_routes.py): a stage's URL
runs the payment Lambda's handler in-process, from its deployed zip, through the proxy
integration the stack builds."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from tests.conftest import Deployment
from tests.emulator.apis import echo_api

REGIONS = {"primary": "us-east-1", "secondary": "eu-west-1"}
STAGE_KEYS = [f"{ws}:aws_api_gateway_stage.prod" for ws in REGIONS]
PERMISSION_KEYS = [
    f"{ws}:aws_lambda_permission.{route}"
    for ws in REGIONS
    for route in ("health", "create_payment", "get_payment")
]


def stage_url(deployment: Deployment, workspace: str, path: str) -> str:
    api_id = deployment.entry(f"{workspace}:aws_api_gateway_rest_api.payments")["id"]
    stage = deployment.spec.api.stage
    return f"https://{api_id}.execute-api.{REGIONS[workspace]}.amazonaws.com/{stage}{path}"


def signed(method: str, url: str, region: str, body: str, headers: dict[str, str]) -> Any:
    """A SigV4-signed request for an IAM-authorised method, as a caller with credentials sends."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = boto3.session.Session().get_credentials()
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


@pytest.fixture
def api(deployment: Deployment) -> Deployment:
    deployment.apply(*STAGE_KEYS, *PERMISSION_KEYS)
    return deployment


def test_health_answers_from_each_regions_handler_and_the_gateway_refuses_the_rest(
    api: Deployment,
) -> None:
    for workspace, region in REGIONS.items():
        response = requests.get(stage_url(api, workspace, "/health"), timeout=10)
        assert response.status_code == 200, response.text
        # The handler's own answer, run with its function's environment in its region.
        assert response.json() == {"status": "ok", "region": region}
    missing = requests.get(stage_url(api, "primary", "/nowhere"), timeout=10)
    assert (missing.status_code, missing.json()) == (
        403,
        {"message": "Missing Authentication Token"},
    )
    wrong_method = requests.delete(stage_url(api, "primary", "/health"), timeout=10)
    assert wrong_method.status_code == 403
    no_stage = requests.get(
        stage_url(api, "primary", "/health").replace(f"/{api.spec.api.stage}/", "/nostage/"),
        timeout=10,
    )
    assert (no_stage.status_code, no_stage.json()) == (403, {"message": "Forbidden"})

    # The default endpoint disabled (what a drill may do to fail a region), then enabled again.
    gateway = boto3.client("apigateway", region_name=REGIONS["primary"])
    api_id = api.entry("primary:aws_api_gateway_rest_api.payments")["id"]
    for value, status in (("true", 403), ("false", 200)):
        gateway.update_rest_api(
            restApiId=api_id,
            patchOperations=[
                {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": value}
            ],
        )
        assert gateway.get_rest_api(restApiId=api_id)["disableExecuteApiEndpoint"] is (
            value == "true"
        )
        assert requests.get(stage_url(api, "primary", "/health"), timeout=10).status_code == status


def test_payment_through_the_stage_is_written_to_the_regions_table(api: Deployment) -> None:
    workspace, region = "secondary", REGIONS["secondary"]
    url = stage_url(api, workspace, "/payments")
    body = json.dumps({"amount": "12.50", "currency": "EUR", "merchant_id": "m-1"})
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-1"}

    unsigned = requests.post(url, data=body, headers=headers, timeout=10)
    assert unsigned.status_code == 403  # AWS_IAM method: no SigV4 header, no call
    assert unsigned.json() == {"message": "Missing Authentication Token"}

    created = requests.post(
        url, data=body, headers=signed("POST", url, region, body, headers), timeout=10
    )
    assert created.status_code == 201, created.text
    transaction_id = created.json()["transaction_id"]
    # The secondary's table is the primary's replica: its id is `table-name:main-region`.
    replica = api.entry(f"{workspace}:aws_dynamodb_table_replica.transactions")["id"]
    table = replica.rpartition(":")[0]
    item = boto3.client("dynamodb", region_name=region).get_item(
        TableName=table, Key={"transaction_id": {"S": transaction_id}}
    )["Item"]
    assert (item["amount"], item["currency"]) == ({"N": "12.50"}, {"S": "EUR"})
    assert item["region"] == {"S": region}

    read_url = stage_url(api, workspace, f"/payments/{transaction_id}")
    read = requests.get(read_url, headers=signed("GET", read_url, region, "", {}), timeout=10)
    assert read.status_code == 200, read.text
    assert read.json()["transaction_id"] == transaction_id


def test_a_failing_handler_is_a_502_and_a_missing_permission_a_500(api: Deployment) -> None:
    region = REGIONS["primary"]
    lam = boto3.client("lambda", region_name=region)
    name = api.entry("primary:aws_lambda_function.payment_processor")["id"]
    url = stage_url(api, "primary", "/health")

    lam.remove_permission(FunctionName=name, StatementId="apigateway-health")
    refused = requests.get(url, timeout=10)
    assert (refused.status_code, refused.json()) == (500, {"message": "Internal server error"})

    api.apply("primary:aws_lambda_permission.health")
    assert requests.get(url, timeout=10).status_code == 200
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"LOG_LEVEL": "INFO"}}
    )  # no table names: the handler's health route raises KeyError and answers 503 itself
    assert requests.get(url, timeout=10).status_code == 503
    lam.update_function_configuration(FunctionName=name, Handler="payment_processor.missing")
    broken = requests.get(url, timeout=10)
    assert (broken.status_code, broken.json()) == (502, {"message": "Internal server error"})


# --- the server: host-style and path-style stage URLs ------------------------------------------


def test_the_server_serves_stages_path_style_and_host_style(emulator: str) -> None:
    import http.client
    import urllib.request
    from urllib.parse import urlsplit

    from deployer.dns_probe import path_style_url

    region = "eu-west-1"
    api_id = echo_api(emulator, region)
    url = path_style_url(emulator, api_id, "prod", "/items/abc?x=1")
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 202
        assert response.headers["X-Resource"] == "/items/{id}"
        assert json.loads(response.read()) == {
            "stage": "prod",
            "query": {"x": "1"},
            "path": "/items/abc",
        }
    # Host-style, as a client that resolves the execute-api name to the emulator sends it.
    server = urlsplit(emulator)
    connection = http.client.HTTPConnection(server.hostname or "", server.port, timeout=30)
    connection.request(
        "GET", "/prod/items/def", headers={"Host": f"{api_id}.execute-api.{region}.amazonaws.com"}
    )
    assert connection.getresponse().status == 202
    connection.close()
    table = boto3.client("dynamodb", region_name=region, endpoint_url=emulator)
    written = {
        item["id"]["S"]: item["region"]["S"] for item in table.scan(TableName="echo")["Items"]
    }
    assert written == {"abc": region, "def": region}
    # Not the stage's: moto answers (its own routes are untouched).
    assert (
        boto3.client("apigateway", region_name=region, endpoint_url=emulator).get_rest_api(
            restApiId=api_id
        )["name"]
        == "echo"
    )
