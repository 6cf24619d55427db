"""The API: the payment REST API of each region, its routes to the function, deployment and stage.

Routes are `POST /payments` and `GET /payments/{id}` (IAM-signed callers, or an API key with a
usage plan, as the spec says) and the open `GET /health` that Route 53 checks. Each is a method
with a Lambda proxy integration and a Lambda permission scoped to that method and path. The
region's API Gateway account settings name the `apigw_cloudwatch` role, so that the stage can
write access logs (to a KMS-encrypted group) and execution logs.

A deployment is an immutable snapshot of the routes: changing a route means a new deployment
that the stage then points to. The routes' digest (computed from the route nodes when the graph
is built) is part of the REST API's description, and the deployment's `triggers` watch that
description: a route change updates the description in place and replaces the deployment,
create-before-destroy, since AWS refuses to delete a deployment a stage still uses. The trigger
lives on an attribute AWS reports rather than in a hash only state knows, so that Terraform can
import the running API and mean the same: the export writes `replace_triggered_by` on it.

The custom domain, its certificate and base-path mapping are `stack/api_domain.py` and
`stack/certificate.py`, which refer to `aws_api_gateway_rest_api.payments` and
`aws_api_gateway_stage.prod` through `api_ref` and `stage_ref`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from deployer.model import Interp, Json, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.function import function_name, function_ref
from stack.keys import key_ref
from stack.roles import attachment_name, role_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "apigateway.tf"

API = "aws_api_gateway_rest_api.payments"
DEPLOYMENT = "aws_api_gateway_deployment.payments"
STAGE = "aws_api_gateway_stage.prod"
ACCOUNT = "aws_api_gateway_account.main"
ACCESS_LOG_GROUP = "aws_cloudwatch_log_group.api_access"
CLOUDWATCH_ROLE_POLICY = (
    f"aws_iam_role_policy_attachment.{attachment_name('apigw_cloudwatch', 'push_logs')}"
)
API_KEY = "aws_api_gateway_api_key.payments"
USAGE_PLAN = "aws_api_gateway_usage_plan.payments"

# The method path that addresses every method of a stage.
ALL_METHODS = "*/*"
LAMBDA_PROXY = "AWS_PROXY"
API_DESCRIPTION = "Payments REST API: payments and health, proxied to the payment Lambda"
# Lambda's Invoke API, behind every proxy integration, is a POST whatever the route's method.
LAMBDA_INVOKE_METHOD = "POST"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


# Access log lines: one JSON object per request, the fields AWS's CLF/JSON examples carry plus
# the integration's latency and error, which say whether the Lambda or the gateway failed.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "user": "$context.identity.user",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integration.error",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class ApiResource:
    """A path segment of the API; `parent` None is the API's root `/`."""

    name: str
    path_part: str
    parent: str | None


@dataclass(frozen=True)
class Route:
    """A method on a resource, proxied to the payment Lambda."""

    name: str
    resource: str
    http_method: str
    # Open to anonymous callers (the health check); payment routes never are.
    public: bool


RESOURCES: tuple[ApiResource, ...] = (
    ApiResource("payments", "payments", None),
    ApiResource("payment", "{id}", "payments"),
    ApiResource("health", "health", None),
)
ROUTES: tuple[Route, ...] = (
    Route("create_payment", "payments", "POST", public=False),
    Route("get_payment", "payment", "GET", public=False),
    Route("health", "health", "GET", public=True),
)
HEALTH_PATH = "/health"


def api_name(spec: Spec) -> str:
    return spec.name("api")


def api_ref(attribute: str = "id") -> Ref:
    return Ref(API, attribute)


def stage_ref(attribute: str = "stage_name") -> Ref:
    return Ref(STAGE, attribute)


def access_log_group_name(spec: Spec) -> str:
    return f"/aws/apigateway/{api_name(spec)}/access"


def resource_path(name: str) -> str:
    """`/payments/{id}` for the resource named `payment`."""
    by_name = {r.name: r for r in RESOURCES}
    parts: list[str] = []
    current: ApiResource | None = by_name[name]
    while current is not None:
        parts.insert(0, current.path_part)
        current = by_name[current.parent] if current.parent else None
    return "/" + "/".join(parts)


def source_arn_path(route: Route) -> str:
    """`/*/GET/payments/*`: any stage, this method, this path with its parameters as wildcards
    (Lambda's ArnLike condition matches `*` across path segments)."""
    path = re.sub(r"\{[^}/]+\}", "*", resource_path(route.resource))
    return f"/*/{route.http_method}{path}"


def method_authorization(spec: Spec, route: Route) -> dict[str, Any]:
    if route.public:
        return {"authorization": "NONE", "api_key_required": False}
    if spec.api.auth == "iam":
        return {"authorization": "AWS_IAM", "api_key_required": False}
    return {"authorization": "NONE", "api_key_required": True}


def canonical(value: Any) -> Any:
    """A node's attributes as plain JSON, references spelt as in HCL: the redeployment hash is
    computed before anything is resolved, from what the spec decides."""
    if isinstance(value, Ref):
        prefix = f"{value.workspace}:" if value.workspace else ""
        return "${" + prefix + str(value) + "}"
    if isinstance(value, Interp):
        return "".join(str(canonical(p)) for p in value.parts)
    if isinstance(value, Json):
        return canonical(value.value)
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def redeployment_hash(route_nodes: list[Node], facts: dict[str, Any]) -> str:
    """SHA-1 over the routes' resources, methods and integrations and the facts their references
    stand for (the function and region behind the invoke ARN): any route change changes it."""
    document = {
        "facts": facts,
        "routes": [
            {"address": node.address, "attributes": canonical(node.attributes)}
            for node in sorted(route_nodes, key=lambda n: n.address)
        ],
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@blueprint
def api_gateway(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    settings = spec.api
    region = spec.region(workspace)
    yield Node(
        "aws_cloudwatch_log_group",
        "api_access",
        workspace,
        {
            "name": access_log_group_name(spec),
            "retention_in_days": settings.log_retention_days,
            "kms_key_id": key_ref("logs", "arn"),
            "tags": {"Name": access_log_group_name(spec)},
        },
    )
    yield Node(
        "aws_api_gateway_account",
        "main",
        workspace,
        {"cloudwatch_role_arn": role_ref(workspace, "apigw_cloudwatch")},
        # API Gateway checks the role can push logs when it is set: its policy goes first.
        depends_on=(
            Ref(
                CLOUDWATCH_ROLE_POLICY,
                "id",
                workspace=None if workspace == "primary" else "primary",
            ),
        ),
    )
    rest_api = Node(
        "aws_api_gateway_rest_api",
        "payments",
        workspace,
        {
            "name": api_name(spec),
            # Completed below with the routes' digest, which the deployment's triggers watch.
            "description": API_DESCRIPTION,
            "endpoint_configuration": [{"types": ["REGIONAL"]}],
            "api_key_source": "HEADER",
            # Route 53's health check probes the region's execute-api host directly.
            "disable_execute_api_endpoint": False,
            "tags": {"Name": api_name(spec)},
        },
    )
    route_nodes: list[Node] = []
    for api_resource in RESOURCES:
        parent = (
            Ref(f"aws_api_gateway_resource.{api_resource.parent}", "id")
            if api_resource.parent
            else api_ref("root_resource_id")
        )
        route_nodes.append(
            Node(
                "aws_api_gateway_resource",
                api_resource.name,
                workspace,
                {
                    "rest_api_id": api_ref(),
                    "parent_id": parent,
                    "path_part": api_resource.path_part,
                },
            )
        )
    for route in ROUTES:
        resource_id = Ref(f"aws_api_gateway_resource.{route.resource}", "id")
        route_nodes.append(
            Node(
                "aws_api_gateway_method",
                route.name,
                workspace,
                {
                    "rest_api_id": api_ref(),
                    "resource_id": resource_id,
                    "http_method": route.http_method,
                    **method_authorization(spec, route),
                },
            )
        )
        route_nodes.append(
            Node(
                "aws_api_gateway_integration",
                route.name,
                workspace,
                {
                    "rest_api_id": api_ref(),
                    "resource_id": resource_id,
                    "http_method": Ref(f"aws_api_gateway_method.{route.name}", "http_method"),
                    "type": LAMBDA_PROXY,
                    "integration_http_method": LAMBDA_INVOKE_METHOD,
                    "uri": function_ref("invoke_arn"),
                },
            )
        )
    redeployment = redeployment_hash(
        route_nodes, {"function_name": function_name(spec), "region": region}
    )
    rest_api.attributes["description"] = f"{API_DESCRIPTION} (routes {redeployment})"
    yield rest_api
    yield from route_nodes
    for route in ROUTES:
        yield Node(
            "aws_lambda_permission",
            route.name,
            workspace,
            {
                "function_name": function_ref("function_name"),
                "statement_id": f"apigateway-{route.name.replace('_', '-')}",
                "action": "lambda:InvokeFunction",
                "principal": API_GATEWAY_PRINCIPAL,
                "source_arn": Interp((api_ref("execution_arn"), source_arn_path(route))),
            },
        )
    yield Node(
        "aws_api_gateway_deployment",
        "payments",
        workspace,
        {
            "rest_api_id": api_ref(),
            "description": f"{api_name(spec)} routes {redeployment}",
            # A new deployment whenever the routes change. The digest is read from the REST
            # API's description, which AWS reports (Terraform can import it), not from a value
            # only state would know: the export writes this as `replace_triggered_by`.
            "triggers": {"redeployment": api_ref("description")},
        },
        # AWS refuses a deployment of an API with a method that has no integration.
        depends_on=tuple(
            Ref(node.address, "id")
            for node in route_nodes
            if node.type in ("aws_api_gateway_method", "aws_api_gateway_integration")
        ),
    )
    yield Node(
        "aws_api_gateway_stage",
        "prod",
        workspace,
        {
            "rest_api_id": api_ref(),
            "stage_name": settings.stage,
            "deployment_id": Ref(DEPLOYMENT, "id"),
            "description": f"{settings.stage} stage of {api_name(spec)}",
            "xray_tracing_enabled": True,
            "access_log_settings": [
                {
                    "destination_arn": Ref(ACCESS_LOG_GROUP, "arn"),
                    "format": ACCESS_LOG_FORMAT,
                }
            ],
            "tags": {"Name": f"{api_name(spec)}-{settings.stage}"},
        },
        # Access logging needs the account's CloudWatch role set first.
        depends_on=(Ref(ACCOUNT, "id"),),
    )
    yield Node(
        "aws_api_gateway_method_settings",
        "all",
        workspace,
        {
            "rest_api_id": api_ref(),
            "stage_name": stage_ref(),
            "method_path": ALL_METHODS,
            "settings": [
                {
                    "metrics_enabled": True,
                    "logging_level": "INFO",
                    # Full request/response logging would write payment bodies to the logs.
                    "data_trace_enabled": False,
                    "throttling_burst_limit": settings.throttling_burst_limit,
                    "throttling_rate_limit": settings.throttling_rate_limit,
                }
            ],
        },
        # Execution logging needs the account's CloudWatch role set first.
        depends_on=(Ref(ACCOUNT, "id"),),
    )
    if settings.auth == "api_key":
        yield from _api_key_nodes(spec, workspace)
    invoke_url = stage_ref("invoke_url")
    yield Output("api_id", workspace, api_ref(), "ID of the payments REST API")
    yield Output("api_invoke_url", workspace, invoke_url, "Invoke URL of the API's stage")
    yield Output(
        "api_health_url",
        workspace,
        Interp((invoke_url, HEALTH_PATH)),
        "URL of the open health route",
    )


def _api_key_nodes(spec: Spec, workspace: str) -> Iterator[Node]:
    """API-key mode: one key, in a usage plan on the stage with the spec's throttling."""
    yield Node(
        "aws_api_gateway_api_key",
        "payments",
        workspace,
        {
            "name": spec.name("api-key"),
            "description": f"Client key for {api_name(spec)}",
            "enabled": True,
            "tags": {"Name": spec.name("api-key")},
        },
    )
    yield Node(
        "aws_api_gateway_usage_plan",
        "payments",
        workspace,
        {
            "name": spec.name("usage-plan"),
            "description": f"Throttling for the clients of {api_name(spec)}",
            "api_stages": [{"api_id": api_ref(), "stage": stage_ref()}],
            "throttle_settings": [
                {
                    "burst_limit": spec.api.throttling_burst_limit,
                    "rate_limit": spec.api.throttling_rate_limit,
                }
            ],
            "tags": {"Name": spec.name("usage-plan")},
        },
    )
    yield Node(
        "aws_api_gateway_usage_plan_key",
        "payments",
        workspace,
        {
            "key_id": Ref(API_KEY, "id"),
            "key_type": "API_KEY",
            "usage_plan_id": Ref(USAGE_PLAN, "id"),
        },
    )
