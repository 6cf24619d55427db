"""API Gateway's data plane: a request to a deployed REST API stage, run through its Lambda.

moto 5.2 serves a stage's URL (``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/...``)
in-process only, matches resource paths literally (``/payments/{id}`` never matches a real id),
and raises NotImplementedError for an ``AWS_PROXY`` integration; its server does not serve the
data plane at all. ``invoke_stage`` answers a request as API Gateway does for the routes the
deployer builds: the stage, the resource (path templates with ``{param}`` and ``{proxy+}``), the
method (or ``ANY``), the method's authorization, then the Lambda proxy integration, run in this
process by ``emulator.lambda_runtime``. ``emulator.dataplane_routes`` puts it behind the URLs.

What AWS documents and this follows (API Gateway Developer Guide):

- "Input format of a Lambda function for proxy integration" and "Output format of a Lambda
  function for proxy integration" (``set-up-lambda-proxy-integrations.html``): the event's
  ``resource``, ``path``, ``httpMethod``, ``headers``/``multiValueHeaders``,
  ``queryStringParameters``/``multiValueQueryStringParameters``, ``pathParameters``,
  ``stageVariables``, ``requestContext`` (with ``stage``, ``resourcePath``, ``requestId``, ...),
  ``body``, ``isBase64Encoded``; the function's ``statusCode``, ``headers``,
  ``multiValueHeaders``, ``body``, ``isBase64Encoded`` become the HTTP response, and a function
  error or a malformed response is ``502 {"message": "Internal server error"}``;
- "Troubleshoot Missing Authentication Token" / gateway response ``MISSING_AUTHENTICATION_TOKEN``:
  403 for a resource or method the API does not have, and for an IAM-authorised method called
  without a SigV4 ``Authorization`` header (the signature itself is not verified here);
- ``RestApi.disableExecuteApiEndpoint`` (API Gateway REST API Reference): with the default
  endpoint disabled, a request to it is refused (403 Forbidden);
- gateway response ``INVALID_API_KEY`` (403 Forbidden) for a method that requires an API key
  when the ``x-api-key`` header names no enabled key;
- "Control access to a Lambda function with a resource-based policy": API Gateway may invoke the
  function only if the function's policy allows ``apigateway.amazonaws.com`` for the method's
  ARN (``arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}``); otherwise the
  integration fails with 500 ``Internal server error``.

A stage runs the API's current resources, not the snapshot of its deployment (moto keeps none).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator import lambda_runtime

LAMBDA_PROXY = "AWS_PROXY"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
SIGV4_PREFIX = "AWS4-HMAC-SHA256"


class NoSuchApi(LookupError):
    """No REST API of that id in that region: on AWS its host name does not resolve."""


@dataclass(frozen=True)
class StageRequest:
    """An HTTP request to a stage; ``path`` is what follows the stage name (``/health``)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class StageResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def gateway_error(status: int, message: str) -> StageResponse:
    """A gateway response, as API Gateway's default ones: JSON with a ``message``."""
    headers = {"Content-Type": "application/json"}
    if status in _ERROR_TYPES:
        headers["x-amzn-ErrorType"] = _ERROR_TYPES[status]
    return StageResponse(status, headers, json.dumps({"message": message}).encode())


_ERROR_TYPES = {403: "ForbiddenException", 500: "InternalServerErrorException"}


def _missing_token() -> StageResponse:
    return gateway_error(403, "Missing Authentication Token")


def find_api(account_id: str, region: str, api_id: str) -> Any:
    """moto's RestAPI, or NoSuchApi."""
    from moto.apigateway.models import apigateway_backends

    if region not in apigateway_backends[account_id].regions:
        raise NoSuchApi(api_id)
    api = apigateway_backends[account_id][region].apis.get(api_id)
    if api is None:
        raise NoSuchApi(api_id)
    return api


def find_api_region(account_id: str, api_id: str) -> str | None:
    """The region of the REST API ``api_id`` (API ids are unique across regions)."""
    from moto.apigateway.models import apigateway_backends

    backends = apigateway_backends[account_id]
    for region in list(backends.keys()):
        if api_id in backends[region].apis:
            return str(region)
    return None


def _template_match(template: str, path: str) -> dict[str, str] | None:
    """The path parameters if ``path`` matches the resource path ``template``, else None."""
    wanted = [part for part in template.split("/") if part]
    given = [part for part in path.split("/") if part]
    parameters: dict[str, str] = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(given):
                return None
            parameters[part[1:-2]] = "/".join(given[index:])
            return parameters
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = given[index]
        elif part != given[index]:
            return None
    return parameters if len(wanted) == len(given) else None


def match_resource(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    """The resource ``path`` addresses: literal segments win over parameters, as in AWS."""
    candidates = []
    for resource in api.resources.values():
        template = resource.get_path()
        parameters = _template_match(template, path)
        if parameters is not None:
            literal = sum(1 for p in template.split("/") if p and not p.startswith("{"))
            greedy = template.endswith("+}")
            candidates.append((not greedy, literal, resource, parameters))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    return candidates[0][2], candidates[0][3]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _api_key_valid(account_id: str, region: str, value: str | None) -> bool:
    from moto.apigateway.models import apigateway_backends

    if not value:
        return False
    keys = apigateway_backends[account_id][region].keys.values()
    return any(key.value == value and key.enabled for key in keys)


def _function_arn(uri: str) -> str | None:
    """The function of a Lambda integration URI:
    ``arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations``."""
    marker = ":lambda:path/2015-03-31/functions/"
    if marker not in uri:
        return None
    return uri.split(marker, 1)[1].removesuffix("/invocations")


def _may_invoke(function: Any, source_arn: str) -> bool:
    """The function's resource policy allows API Gateway to invoke it for ``source_arn``."""
    for statement in function.policy.statements if function.policy else []:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        if statement.get("Action") not in ("lambda:InvokeFunction", "lambda:*"):
            continue
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, Mapping) else principal
        if service not in (API_GATEWAY_PRINCIPAL, "*"):
            continue
        condition = statement.get("Condition") or {}
        pattern = (condition.get("ArnLike") or {}).get("AWS:SourceArn")
        if pattern is None or fnmatch.fnmatchcase(source_arn, str(pattern)):
            return True
    return False


def proxy_event(
    account_id: str,
    api: Any,
    stage: Any,
    resource: Any,
    parameters: dict[str, str],
    request: StageRequest,
    domain_name: str | None = None,
) -> dict[str, Any]:
    """The Lambda proxy integration's input event for ``request``."""
    headers: dict[str, str] = dict(request.headers)
    multi_headers = {k: [v] for k, v in headers.items()}
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query:
        query[name] = value  # the last value, as AWS does
        multi_query.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    text_body: str | None
    encoded = False
    if not request.body:
        text_body = None
    else:
        try:
            text_body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(request.body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": resource.get_path(),
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": parameters or None,
        "stageVariables": dict(stage.variables) if stage.variables else None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api.id,
            "domainName": domain_name or f"{api.id}.execute-api.{api.region_name}.amazonaws.com",
            "domainPrefix": (domain_name or api.id).split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": _header(headers, "user-agent"),
            },
            "path": f"/{stage.name}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(time.time() * 1000),
            "resourceId": resource.id,
            "resourcePath": resource.get_path(),
            "stage": stage.name,
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def proxy_response(result: Any) -> StageResponse:
    """The function's proxy output as the HTTP response; 502 when it is malformed."""
    if not isinstance(result, Mapping):
        return gateway_error(502, "Internal server error")
    status = result.get("statusCode", 200)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        return gateway_error(502, "Internal server error")
    headers: dict[str, str] = {}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    for name, value in (result.get("headers") or {}).items():
        headers[str(name)] = str(value)
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        return gateway_error(502, "Internal server error")
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    else:
        payload = body.encode("utf-8")
    headers.setdefault("Content-Type", "application/json")
    return StageResponse(status, headers, payload)


def invoke_stage(
    account_id: str,
    region: str,
    api_id: str,
    stage_name: str,
    request: StageRequest,
    domain_name: str | None = None,
) -> StageResponse:
    """Answer ``request`` to the stage ``stage_name`` of the REST API ``api_id`` as API
    Gateway does; raises NoSuchApi for an API that does not exist. ``domain_name``: the
    request came through that custom domain (``emulator.custom_domains``), not the API's
    default endpoint."""
    api = find_api(account_id, region, api_id)
    if domain_name is None and api.disableExecuteApiEndpoint:
        # RestApi.disableExecuteApiEndpoint: clients must use a custom domain; the default
        # endpoint answers 403 Forbidden.
        return gateway_error(403, "Forbidden")
    stage = api.stages.get(stage_name)
    if stage is None:
        return gateway_error(403, "Forbidden")
    matched = match_resource(api, request.path)
    if matched is None:
        return _missing_token()
    resource, parameters = matched
    method = resource.resource_methods.get(request.method) or resource.resource_methods.get("ANY")
    if method is None:
        return _missing_token()
    authorization = _header(request.headers, "authorization") or ""
    if method.authorization_type == "AWS_IAM" and not authorization.startswith(SIGV4_PREFIX):
        return _missing_token()
    if method.api_key_required and not _api_key_valid(
        account_id, region, _header(request.headers, "x-api-key")
    ):
        return gateway_error(403, "Forbidden")
    integration = method.method_integration
    if integration is None or integration.integration_type != LAMBDA_PROXY:
        return gateway_error(500, "Internal server error")
    return _invoke_lambda(
        account_id, api, stage, resource, parameters, request, integration.uri, domain_name
    )


def _invoke_lambda(
    account_id: str,
    api: Any,
    stage: Any,
    resource: Any,
    parameters: dict[str, str],
    request: StageRequest,
    uri: str,
    domain_name: str | None,
) -> StageResponse:
    from moto.awslambda.models import lambda_backends

    arn = _function_arn(str(uri or ""))
    if arn is None:
        return gateway_error(500, "Internal server error")
    function_region = arn.split(":")[3] if arn.startswith("arn:") else api.region_name
    try:
        function = lambda_backends[account_id][function_region].get_function(arn)
    except Exception:  # moto's UnknownFunctionException and its kin
        return gateway_error(500, "Internal server error")
    source_arn = (
        f"arn:aws:execute-api:{api.region_name}:{account_id}:{api.id}/{stage.name}/"
        f"{request.method}{request.path}"
    )
    if not _may_invoke(function, source_arn):
        return gateway_error(500, "Internal server error")
    event = proxy_event(account_id, api, stage, resource, parameters, request, domain_name)
    try:
        result = lambda_runtime.invoke(function, event)
    except lambda_runtime.FunctionError:
        return gateway_error(502, "Internal server error")
    return proxy_response(result)
