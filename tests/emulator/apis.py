"""A small REST API for the data-plane tests: `GET /items/{id}` proxied to a Python function."""

from __future__ import annotations

from typing import Any

import boto3

ECHO_HANDLER = """
import json
import os

import boto3


def handler(event, context):
    # boto3 with no endpoint: the emulator's AWS_ENDPOINT_URL brings it back to the server.
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE"],
        Item={"id": {"S": event["pathParameters"]["id"]},
              "region": {"S": os.environ["AWS_REGION"]}},
    )
    return {
        "statusCode": int(os.environ.get("STATUS", "202")),
        "headers": {"X-Resource": event["resource"]},
        "body": json.dumps({"stage": event["requestContext"]["stage"],
                            "query": event["queryStringParameters"], "path": event["path"]}),
    }
"""


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("echo.py", source)
    return buffer.getvalue()


def echo_api(endpoint: str | None, region: str) -> str:
    """A REST API `GET /items/{id}` (stage `prod`) proxied to the function `echo`, which writes
    the id to the table `echo` and answers the status in its variable STATUS (202); its id.
    ``endpoint`` None: moto in-process."""

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint)

    role = client("iam").create_role(
        RoleName=f"echo-{region}",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    client("dynamodb").create_table(
        TableName="echo",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    function_arn = client("lambda").create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=role,
        Handler="echo.handler",
        Code={"ZipFile": _zip(ECHO_HANDLER)},
        Environment={"Variables": {"TABLE": "echo"}},
    )["FunctionArn"]
    gateway = client("apigateway")
    api_id = gateway.create_rest_api(name="echo")["id"]
    root = gateway.get_resources(restApiId=api_id)["items"][0]["id"]
    items = gateway.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    item = gateway.create_resource(restApiId=api_id, parentId=items, pathPart="{id}")["id"]
    gateway.put_method(
        restApiId=api_id, resourceId=item, httpMethod="GET", authorizationType="NONE"
    )
    gateway.put_integration(
        restApiId=api_id,
        resourceId=item,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )
    client("lambda").add_permission(
        FunctionName="echo",
        StatementId="apigateway",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:123456789012:{api_id}/*/GET/items/*",
    )
    gateway.create_deployment(restApiId=api_id, stageName="prod")
    return api_id
