"""API Gateway: REST APIs, their resources, methods, integrations, deployments, stages and
method settings, the region's account settings, API keys and usage plans.

A deployment is an immutable snapshot of an API's routes: AWS refuses to delete one a stage
still serves, so a replacement is made create-before-destroy and the old deployment is deleted
once no stage serves it. API Gateway's API returns neither ARNs nor invoke URLs for most of
these: the drivers build them from the region's partition (`deployer.arns`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from deployer.arns import Arn, Claim, dns_suffix, partition
from deployer.aws import (
    error_code,
    is_not_found,
    paginate,
    retry_while,
    tag_changes,
    user_tags,
)
from deployer.blocks import first_block
from deployer.diff import diff_attributes, equivalent
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource

# Terraform's id for the account settings, of which each region has exactly one.
ACCOUNT_ID = "api-gateway-account"
# The method path that addresses every method of a stage.
ALL_METHODS = "*/*"

# UpdateAccount checks that API Gateway can assume the CloudWatch role; a role seconds old may not
# be assumable yet. AWS documents no bound; Terraform waits out IAM propagation for 2 minutes.
IAM_PROPAGATION_TIMEOUT = 120.0


# ---------------------------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------------------------


@resource
class RestApi(Resource):
    type = "aws_api_gateway_rest_api"
    arn_kind = ("apigateway", "restapis")
    policy_attributes = frozenset({"policy"})
    write_only = frozenset({"body", "fail_on_warnings", "parameters", "put_rest_api_mode"})
    # Terraform extends the deployment's create_before_destroy to what the deployment depends
    # on, the API included; the export says so rather than leaving it implicit.
    create_before_destroy = True

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {"name": desired["name"]}
        for tf, api in (
            ("description", "description"),
            ("api_key_source", "apiKeySource"),
            ("disable_execute_api_endpoint", "disableExecuteApiEndpoint"),
            ("binary_media_types", "binaryMediaTypes"),
            ("policy", "policy"),
        ):
            if desired.get(tf) not in (None, ""):
                params[api] = desired[tf]
        if desired.get("minimum_compression_size") not in (None, ""):
            params["minimumCompressionSize"] = int(desired["minimum_compression_size"])
        endpoint = first_block(desired.get("endpoint_configuration"))
        if endpoint:
            params["endpointConfiguration"] = endpoint_configuration(endpoint)
        if desired.get("tags"):
            params["tags"] = dict(desired["tags"])
        api = ctx.client("apigateway").create_rest_api(**params)
        return str(api["id"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        apigw = ctx.client("apigateway")
        try:
            api = apigw.get_rest_api(restApiId=id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        root = api.get("rootResourceId") or root_resource_id(apigw, id)
        endpoint = api.get("endpointConfiguration") or {}
        compression = api.get("minimumCompressionSize")
        return {
            "id": api["id"],
            "name": api["name"],
            "description": api.get("description") or "",
            "arn": rest_api_arn(ctx.region, id),
            "execution_arn": execution_arn(ctx, id),
            "root_resource_id": root,
            "endpoint_configuration": [
                {
                    "types": list(endpoint.get("types") or []),
                    "vpc_endpoint_ids": sorted(endpoint.get("vpcEndpointIds") or []),
                    "ip_address_type": endpoint.get("ipAddressType", ""),
                }
            ],
            "api_key_source": api.get("apiKeySource", "HEADER"),
            "disable_execute_api_endpoint": bool(api.get("disableExecuteApiEndpoint")),
            "binary_media_types": list(api.get("binaryMediaTypes") or []),
            "minimum_compression_size": "" if compression is None else str(compression),
            "policy": api.get("policy") or "",
            "created_date": timestamp(api.get("createdDate")),
            "tags": user_tags(api.get("tags") or {}),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api}", desired[tf])
            for tf, api in (
                ("name", "name"),
                ("description", "description"),
                ("api_key_source", "apiKeySource"),
                ("disable_execute_api_endpoint", "disableExecuteApiEndpoint"),
                ("minimum_compression_size", "minimumCompressionSize"),
                ("policy", "policy"),
            )
            if tf in changed
        ]
        if "binary_media_types" in changed:
            want = set(desired["binary_media_types"] or [])
            have = set(live.get("binary_media_types") or [])
            operations += [
                {"op": "add", "path": f"/binaryMediaTypes/{escape(t)}"} for t in want - have
            ]
            operations += [
                {"op": "remove", "path": f"/binaryMediaTypes/{escape(t)}"} for t in have - want
            ]
        if "endpoint_configuration" in changed:
            want_type = first_block(desired["endpoint_configuration"]).get("types", [""])[0]
            have_type = first_block(live.get("endpoint_configuration")).get("types", [""])[0]
            # AWS names the current type in the path and the new one as the value.
            operations.append(replace(f"/endpointConfiguration/types/{have_type}", want_type))
        if operations:
            apigw.update_rest_api(restApiId=id, patchOperations=operations)
        update_tags(apigw, live["arn"], desired.get("tags"), live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        # AWS allows one DeleteRestApi per 30 s per account (TooManyRequestsException), which
        # botocore's standard retry mode backs off from.
        try:
            ctx.client("apigateway").delete_rest_api(restApiId=id)
        except ClientError as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateRestApi has no idempotency token: an API made before a crash is found by its
        name and address tag."""
        address = (desired.get("tags") or {}).get(ADDRESS_TAG)
        for api in paginate(ctx.client("apigateway"), "get_rest_apis", "items"):
            if (
                api["name"] == desired["name"]
                and (api.get("tags") or {}).get(ADDRESS_TAG) == address
            ):
                return str(api["id"])
        return None


@resource
class ApiGatewayResource(Resource):
    """A path segment; id = `api/resource` (Terraform's import id)."""

    type = "aws_api_gateway_resource"
    taggable = False
    force_new = frozenset({"rest_api_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        api = desired["rest_api_id"]
        made = ctx.client("apigateway").create_resource(
            restApiId=api, parentId=desired["parent_id"], pathPart=desired["path_part"]
        )
        return f"{api}/{made['id']}"

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, resource_id = id.split("/", 1)
        try:
            found = ctx.client("apigateway").get_resource(restApiId=api, resourceId=resource_id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": found["id"],
            "rest_api_id": api,
            "parent_id": found.get("parentId", ""),
            "path_part": found.get("pathPart", ""),
            "path": found.get("path", ""),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        api, resource_id = id.split("/", 1)
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api_field}", desired[tf])
            for tf, api_field in (("path_part", "pathPart"), ("parent_id", "parentId"))
            if tf in changed
        ]
        if operations:
            ctx.client("apigateway").update_resource(
                restApiId=api, resourceId=resource_id, patchOperations=operations
            )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        api, resource_id = id.split("/", 1)
        ignore_not_found(
            lambda: ctx.client("apigateway").delete_resource(restApiId=api, resourceId=resource_id)
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A path segment is unique under its parent: one an interrupted create made is ours."""
        api = desired["rest_api_id"]
        for found in paginate(ctx.client("apigateway"), "get_resources", "items", restApiId=api):
            if (
                found.get("parentId") == desired["parent_id"]
                and found.get("pathPart") == desired["path_part"]
            ):
                return f"{api}/{found['id']}"
        return None


@resource
class Method(Resource):
    """A method of a resource; id = `api/resource/METHOD`."""

    type = "aws_api_gateway_method"
    taggable = False
    force_new = frozenset({"rest_api_id", "resource_id", "http_method"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "restApiId": desired["rest_api_id"],
            "resourceId": desired["resource_id"],
            "httpMethod": desired["http_method"],
            "authorizationType": desired["authorization"],
            "apiKeyRequired": bool(desired.get("api_key_required")),
        }
        for tf, api in (
            ("authorizer_id", "authorizerId"),
            ("authorization_scopes", "authorizationScopes"),
            ("operation_name", "operationName"),
            ("request_parameters", "requestParameters"),
            ("request_models", "requestModels"),
            ("request_validator_id", "requestValidatorId"),
        ):
            if desired.get(tf):
                params[api] = desired[tf]
        ctx.client("apigateway").put_method(**params)
        return method_id(desired)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, resource_id, http_method = id.split("/")
        try:
            method = ctx.client("apigateway").get_method(
                restApiId=api, resourceId=resource_id, httpMethod=http_method
            )
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": f"agm-{api}-{resource_id}-{http_method}",
            "rest_api_id": api,
            "resource_id": resource_id,
            "http_method": method["httpMethod"],
            "authorization": method.get("authorizationType", "NONE"),
            "api_key_required": bool(method.get("apiKeyRequired")),
            "authorizer_id": method.get("authorizerId") or "",
            "authorization_scopes": sorted(method.get("authorizationScopes") or []),
            "operation_name": method.get("operationName") or "",
            "request_parameters": dict(method.get("requestParameters") or {}),
            "request_models": dict(method.get("requestModels") or {}),
            "request_validator_id": method.get("requestValidatorId") or "",
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """UpdateMethod (PATCH): PutMethod on an existing method is a ConflictException."""
        api, resource_id, http_method = id.split("/")
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api_field}", desired[tf])
            for tf, api_field in (
                ("authorization", "authorizationType"),
                ("api_key_required", "apiKeyRequired"),
                ("authorizer_id", "authorizerId"),
                ("operation_name", "operationName"),
                ("request_validator_id", "requestValidatorId"),
            )
            if tf in changed
        ]
        if "authorization_scopes" in changed:
            want = set(desired["authorization_scopes"] or [])
            have = set(live.get("authorization_scopes") or [])
            operations += [
                {"op": "add", "path": "/authorizationScopes", "value": s} for s in want - have
            ]
            operations += [
                {"op": "remove", "path": "/authorizationScopes", "value": s} for s in have - want
            ]
        for tf, api_field in (
            ("request_parameters", "requestParameters"),
            ("request_models", "requestModels"),
        ):
            if tf in changed:
                operations += map_operations(f"/{api_field}", desired[tf] or {}, live.get(tf) or {})
        if operations:
            ctx.client("apigateway").update_method(
                restApiId=api,
                resourceId=resource_id,
                httpMethod=http_method,
                patchOperations=operations,
            )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        api, resource_id, http_method = id.split("/")
        ignore_not_found(
            lambda: ctx.client("apigateway").delete_method(
                restApiId=api, resourceId=resource_id, httpMethod=http_method
            )
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Method ids are deterministic: a method an interrupted create made is ours."""
        id = method_id(desired)
        return id if self.read(ctx, id) is not None else None


@resource
class Integration(Resource):
    """A method's integration; id = `api/resource/METHOD` (one integration per method)."""

    type = "aws_api_gateway_integration"
    taggable = False
    force_new = frozenset({"rest_api_id", "resource_id", "http_method"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        put_integration(ctx.client("apigateway"), desired)
        return method_id(desired)

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, resource_id, http_method = id.split("/")
        try:
            integration = ctx.client("apigateway").get_integration(
                restApiId=api, resourceId=resource_id, httpMethod=http_method
            )
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        if not integration.get("type"):
            return None
        tls = integration.get("tlsConfig") or {}
        return {
            "id": f"agi-{api}-{resource_id}-{http_method}",
            "rest_api_id": api,
            "resource_id": resource_id,
            "http_method": http_method,
            "type": integration["type"],
            "uri": integration.get("uri") or "",
            "integration_http_method": integration.get("httpMethod") or "",
            "connection_type": integration.get("connectionType") or "INTERNET",
            "connection_id": integration.get("connectionId") or "",
            "credentials": integration.get("credentials") or "",
            "passthrough_behavior": integration.get("passthroughBehavior") or "",
            "content_handling": integration.get("contentHandling") or "",
            "timeout_milliseconds": int(integration.get("timeoutInMillis") or 29000),
            "cache_namespace": integration.get("cacheNamespace") or "",
            "cache_key_parameters": sorted(integration.get("cacheKeyParameters") or []),
            "request_parameters": dict(integration.get("requestParameters") or {}),
            "request_templates": dict(integration.get("requestTemplates") or {}),
            "tls_config": [{"insecure_skip_verification": bool(tls["insecureSkipVerification"])}]
            if "insecureSkipVerification" in tls
            else [],
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """PutIntegration replaces the method's integration as a whole: the desired one is the
        whole truth (a proxy integration has no integration responses to lose)."""
        put_integration(ctx.client("apigateway"), desired)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        api, resource_id, http_method = id.split("/")
        ignore_not_found(
            lambda: ctx.client("apigateway").delete_integration(
                restApiId=api, resourceId=resource_id, httpMethod=http_method
            )
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = method_id(desired)
        return id if self.read(ctx, id) is not None else None


@resource
class Deployment(Resource):
    """A snapshot of the routes; id = `api/deployment`.

    `triggers` exist in state only, as in Terraform: compared with the values last applied, a
    change replaces the deployment. Terraform cannot import them, so the export writes the
    references they hold as `lifecycle { replace_triggered_by }` instead (`state_only_triggers`).
    """

    type = "aws_api_gateway_deployment"
    taggable = False
    force_new = frozenset({"rest_api_id", "triggers"})
    # The stage serves the old deployment until it moves to the new one.
    create_before_destroy = True
    # Stage variables given at deployment time (no stage is made here, so they are not
    # readable) and the triggers, which only state keeps.
    write_only = frozenset({"variables", "triggers"})
    state_only_triggers = "triggers"

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        api = desired["rest_api_id"]
        made = ctx.client("apigateway").create_deployment(
            restApiId=api, description=desired.get("description") or ""
        )
        return f"{api}/{made['id']}"

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, deployment_id = id.split("/", 1)
        try:
            found = ctx.client("apigateway").get_deployment(
                restApiId=api, deploymentId=deployment_id
            )
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": found["id"],
            "rest_api_id": api,
            "description": found.get("description") or "",
            "created_date": timestamp(found.get("createdDate")),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        api, deployment_id = id.split("/", 1)
        ctx.client("apigateway").update_deployment(
            restApiId=api,
            deploymentId=deployment_id,
            patchOperations=[replace("/description", desired.get("description") or "")],
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Deleted unless a stage still serves it (AWS would refuse): a replacement is made
        create-before-destroy, so the engine deletes the old one after the stage moved on."""
        api, deployment_id = id.split("/", 1)
        apigw = ctx.client("apigateway")
        try:
            if deployment_id in stage_deployments(apigw, api):
                return
            apigw.delete_deployment(restApiId=api, deploymentId=deployment_id)
        except ClientError as exc:
            if is_not_found(exc) or deployment_in_use(exc):
                return
            raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Deployments have no name: one with the same description (which names the routes'
        digest) is ours."""
        api = desired["rest_api_id"]
        wanted = desired.get("description") or ""
        try:
            matches = [
                d
                for d in paginate(
                    ctx.client("apigateway"), "get_deployments", "items", restApiId=api
                )
                if d.get("description") == wanted
            ]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        if not matches:
            return None
        newest = max(matches, key=lambda d: timestamp(d.get("createdDate")))
        return f"{api}/{newest['id']}"


@resource
class Stage(Resource):
    """A named stage serving one deployment; id = `api/stage`."""

    type = "aws_api_gateway_stage"
    arn_kind = ("apigateway", "stages")
    force_new = frozenset({"rest_api_id", "stage_name"})

    def arn_claim(self, arn: Arn) -> Claim | None:
        """A stage's ARN is a path under its API's, `/restapis/<api>/stages/<name>`."""
        parts = arn.resource_id.split("/")
        if arn.kind == ("apigateway", "restapis") and len(parts) == 3 and parts[1] == "stages":
            return Claim.OWN
        return None

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        apigw = ctx.client("apigateway")
        api, name = desired["rest_api_id"], desired["stage_name"]
        params: dict[str, Any] = {
            "restApiId": api,
            "stageName": name,
            "deploymentId": desired["deployment_id"],
        }
        for tf, api_field in (
            ("description", "description"),
            ("xray_tracing_enabled", "tracingEnabled"),
            ("cache_cluster_enabled", "cacheClusterEnabled"),
            ("cache_cluster_size", "cacheClusterSize"),
            ("documentation_version", "documentationVersion"),
            ("variables", "variables"),
        ):
            if desired.get(tf) not in (None, "", {}):
                params[api_field] = desired[tf]
        if desired.get("tags"):
            params["tags"] = dict(desired["tags"])
        apigw.create_stage(**params)
        # CreateStage takes neither access logging nor a client certificate: they are patched.
        operations = access_log_operations(desired.get("access_log_settings"), None)
        if desired.get("client_certificate_id"):
            operations.append(replace("/clientCertificateId", desired["client_certificate_id"]))
        if operations:
            try:
                apigw.update_stage(restApiId=api, stageName=name, patchOperations=operations)
            except Exception:
                apigw.delete_stage(restApiId=api, stageName=name)  # leave nothing behind
                raise
        return f"{api}/{name}"

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, name = id.split("/", 1)
        try:
            stage = ctx.client("apigateway").get_stage(restApiId=api, stageName=name)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        access = stage.get("accessLogSettings") or {}
        return {
            "id": f"ags-{api}-{name}",
            "rest_api_id": api,
            "stage_name": stage["stageName"],
            "deployment_id": stage.get("deploymentId", ""),
            "description": stage.get("description") or "",
            "xray_tracing_enabled": bool(stage.get("tracingEnabled")),
            "access_log_settings": [
                {"destination_arn": access["destinationArn"], "format": access.get("format", "")}
            ]
            if access.get("destinationArn")
            else [],
            "cache_cluster_enabled": bool(stage.get("cacheClusterEnabled")),
            "cache_cluster_size": stage.get("cacheClusterSize") or "",
            "client_certificate_id": stage.get("clientCertificateId") or "",
            "documentation_version": stage.get("documentationVersion") or "",
            "variables": dict(stage.get("variables") or {}),
            "web_acl_arn": stage.get("webAclArn") or "",
            "arn": stage_arn(ctx.region, api, name),
            "invoke_url": invoke_url(ctx.region, api, name),
            "execution_arn": f"{execution_arn(ctx, api)}/{name}",
            "tags": user_tags(stage.get("tags") or {}),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        api, name = id.split("/", 1)
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api_field}", desired[tf])
            for tf, api_field in (
                ("deployment_id", "deploymentId"),
                ("description", "description"),
                ("xray_tracing_enabled", "tracingEnabled"),
                ("cache_cluster_enabled", "cacheClusterEnabled"),
                ("cache_cluster_size", "cacheClusterSize"),
                ("client_certificate_id", "clientCertificateId"),
                ("documentation_version", "documentationVersion"),
            )
            if tf in changed
        ]
        if "variables" in changed:
            operations += map_operations(
                "/variables", desired["variables"] or {}, live.get("variables") or {}, add="replace"
            )
        if "access_log_settings" in changed:
            operations += access_log_operations(
                desired["access_log_settings"], live.get("access_log_settings")
            )
        if operations:
            apigw.update_stage(restApiId=api, stageName=name, patchOperations=operations)
        update_tags(apigw, live["arn"], desired.get("tags"), live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        api, name = id.split("/", 1)
        ignore_not_found(
            lambda: ctx.client("apigateway").delete_stage(restApiId=api, stageName=name)
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = f"{desired['rest_api_id']}/{desired['stage_name']}"
        return id if self.read(ctx, id) is not None else None


# Method settings block attribute → (GetStage field, UpdateStage path suffix).
METHOD_SETTINGS: dict[str, tuple[str, str]] = {
    "metrics_enabled": ("metricsEnabled", "metrics/enabled"),
    "logging_level": ("loggingLevel", "logging/loglevel"),
    "data_trace_enabled": ("dataTraceEnabled", "logging/dataTrace"),
    "throttling_burst_limit": ("throttlingBurstLimit", "throttling/burstLimit"),
    "throttling_rate_limit": ("throttlingRateLimit", "throttling/rateLimit"),
    "caching_enabled": ("cachingEnabled", "caching/enabled"),
    "cache_ttl_in_seconds": ("cacheTtlInSeconds", "caching/ttlInSeconds"),
    "cache_data_encrypted": ("cacheDataEncrypted", "caching/dataEncrypted"),
    "require_authorization_for_cache_control": (
        "requireAuthorizationForCacheControl",
        "caching/requireAuthorizationForCacheControl",
    ),
    "unauthorized_cache_control_header_strategy": (
        "unauthorizedCacheControlHeaderStrategy",
        "caching/unauthorizedCacheControlHeaderStrategy",
    ),
}


@resource
class MethodSettings(Resource):
    """Per-method (or `*/*`) settings of a stage; id = `api/stage/method_path`.

    They live inside the stage: create and update patch it, delete removes the entry.
    """

    type = "aws_api_gateway_method_settings"
    taggable = False
    force_new = frozenset({"rest_api_id", "stage_name", "method_path"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        id = f"{desired['rest_api_id']}/{desired['stage_name']}/{desired['method_path']}"
        self.update(ctx, id, desired, {})
        return id

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        api, stage_name, method_path = id.split("/", 2)
        try:
            stage = ctx.client("apigateway").get_stage(restApiId=api, stageName=stage_name)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        settings = (stage.get("methodSettings") or {}).get(method_settings_key(method_path))
        if settings is None:
            return None
        return {
            "id": f"{api}-{stage_name}-{method_path}",
            "rest_api_id": api,
            "stage_name": stage_name,
            "method_path": method_path,
            "settings": [
                {
                    tf: settings[field]
                    for tf, (field, _) in METHOD_SETTINGS.items()
                    if field in settings
                }
            ],
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        api, stage_name, method_path = id.split("/", 2)
        want = first_block(desired.get("settings"))
        have = first_block(live.get("settings"))
        prefix = "/" + method_settings_key(method_path)
        operations = [
            replace(f"{prefix}/{path}", want[tf])
            for tf, (_, path) in METHOD_SETTINGS.items()
            if want.get(tf) is not None and not equivalent(want[tf], have.get(tf))
        ]
        if operations:
            ctx.client("apigateway").update_stage(
                restApiId=api, stageName=stage_name, patchOperations=operations
            )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        api, stage_name, method_path = id.split("/", 2)
        ignore_not_found(
            lambda: ctx.client("apigateway").update_stage(
                restApiId=api,
                stageName=stage_name,
                patchOperations=[{"op": "remove", "path": "/" + method_settings_key(method_path)}],
            )
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = f"{desired['rest_api_id']}/{desired['stage_name']}/{desired['method_path']}"
        return id if self.read(ctx, id) is not None else None


@resource
class Account(Resource):
    """The region's API Gateway account settings: the role it logs to CloudWatch with.

    Every account has exactly one per region, shared by all its APIs there, and AWS has no call
    that deletes it: delete resets the role (as the Terraform provider 6.x does), after which
    stages of this region can no longer write execution or access logs.
    """

    type = "aws_api_gateway_account"
    taggable = False

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        self.update(ctx, ACCOUNT_ID, desired, {})
        return ACCOUNT_ID

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """None when no role is set: the settings carry nothing of ours."""
        account = ctx.client("apigateway").get_account()
        if not account.get("cloudwatchRoleArn"):
            return None
        throttle = account.get("throttleSettings") or {}
        return {
            "id": ACCOUNT_ID,
            "cloudwatch_role_arn": account["cloudwatchRoleArn"],
            "api_key_version": account.get("apiKeyVersion", ""),
            "features": sorted(account.get("features") or []),
            "throttle_settings": [
                {
                    "burst_limit": throttle.get("burstLimit", 0),
                    "rate_limit": throttle.get("rateLimit", 0),
                }
            ],
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        operations = [replace("/cloudwatchRoleArn", desired.get("cloudwatch_role_arn") or "")]
        retry_while(
            lambda: apigw.update_account(patchOperations=operations),
            retryable=role_not_usable_yet,
            timeout=IAM_PROPAGATION_TIMEOUT,
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ctx.client("apigateway").update_account(patchOperations=[replace("/cloudwatchRoleArn", "")])

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return ACCOUNT_ID


@resource
class ApiKey(Resource):
    """A client key; its value is generated by AWS and never read into state."""

    type = "aws_api_gateway_api_key"
    arn_kind = ("apigateway", "apikeys")
    force_new = frozenset({"value"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {"name": desired["name"], "enabled": desired.get("enabled", True)}
        for tf, api_field in (
            ("description", "description"),
            ("customer_id", "customerId"),
            ("value", "value"),
        ):
            if desired.get(tf):
                params[api_field] = desired[tf]
        if desired.get("tags"):
            params["tags"] = dict(desired["tags"])
        return str(ctx.client("apigateway").create_api_key(**params)["id"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            key = ctx.client("apigateway").get_api_key(apiKey=id, includeValue=False)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": key["id"],
            "name": key.get("name", ""),
            "description": key.get("description") or "",
            "enabled": bool(key.get("enabled")),
            "customer_id": key.get("customerId") or "",
            "arn": f"arn:{partition(ctx.region)}:apigateway:{ctx.region}::/apikeys/{key['id']}",
            "created_date": timestamp(key.get("createdDate")),
            "last_updated_date": timestamp(key.get("lastUpdatedDate")),
            "tags": user_tags(key.get("tags") or {}),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api_field}", desired[tf])
            for tf, api_field in (
                ("name", "name"),
                ("description", "description"),
                ("enabled", "enabled"),
                ("customer_id", "customerId"),
            )
            if tf in changed
        ]
        if operations:
            apigw.update_api_key(apiKey=id, patchOperations=operations)
        update_tags(apigw, live["arn"], desired.get("tags"), live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ignore_not_found(lambda: ctx.client("apigateway").delete_api_key(apiKey=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        address = (desired.get("tags") or {}).get(ADDRESS_TAG)
        apigw = ctx.client("apigateway")
        for key in paginate(apigw, "get_api_keys", "items", nameQuery=desired["name"]):
            if (
                key.get("name") == desired["name"]
                and (key.get("tags") or {}).get(ADDRESS_TAG) == address
            ):
                return str(key["id"])
        return None


@resource
class UsagePlan(Resource):
    type = "aws_api_gateway_usage_plan"
    arn_kind = ("apigateway", "usageplans")

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {"name": desired["name"]}
        if desired.get("description"):
            params["description"] = desired["description"]
        stages = [
            {"apiId": s["api_id"], "stage": s["stage"]} for s in desired.get("api_stages") or []
        ]
        if stages:
            params["apiStages"] = stages
        throttle = first_block(desired.get("throttle_settings"))
        if throttle:
            params["throttle"] = throttle_params(throttle)
        quota = first_block(desired.get("quota_settings"))
        if quota:
            params["quota"] = {
                "limit": int(quota["limit"]),
                "offset": int(quota.get("offset") or 0),
                "period": quota["period"],
            }
        if desired.get("tags"):
            params["tags"] = dict(desired["tags"])
        return str(ctx.client("apigateway").create_usage_plan(**params)["id"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            plan = ctx.client("apigateway").get_usage_plan(usagePlanId=id)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        throttle = plan.get("throttle") or {}
        quota = plan.get("quota") or {}
        return {
            "id": plan["id"],
            "name": plan.get("name", ""),
            "description": plan.get("description") or "",
            "product_code": plan.get("productCode") or "",
            "arn": f"arn:{partition(ctx.region)}:apigateway:{ctx.region}::/usageplans/{plan['id']}",
            "api_stages": [
                {"api_id": s["apiId"], "stage": s["stage"], "throttle": []}
                for s in plan.get("apiStages") or []
            ],
            "throttle_settings": [
                {"burst_limit": throttle.get("burstLimit"), "rate_limit": throttle.get("rateLimit")}
            ]
            if throttle
            else [],
            "quota_settings": [
                {
                    "limit": quota.get("limit"),
                    "offset": quota.get("offset", 0),
                    "period": quota.get("period"),
                }
            ]
            if quota
            else [],
            "tags": user_tags(plan.get("tags") or {}),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        changed = diff_attributes(desired, live)
        operations = [
            replace(f"/{api_field}", desired[tf])
            for tf, api_field in (
                ("name", "name"),
                ("description", "description"),
                ("product_code", "productCode"),
            )
            if tf in changed
        ]
        if "api_stages" in changed:
            want = {f"{s['api_id']}:{s['stage']}" for s in desired["api_stages"] or []}
            have = {f"{s['api_id']}:{s['stage']}" for s in live.get("api_stages") or []}
            operations += [
                {"op": "add", "path": "/apiStages", "value": s} for s in sorted(want - have)
            ]
            operations += [
                {"op": "remove", "path": "/apiStages", "value": s} for s in sorted(have - want)
            ]
        if "throttle_settings" in changed:
            throttle = first_block(desired["throttle_settings"])
            if throttle:
                operations += [
                    replace(f"/throttle/{api_field}", value)
                    for api_field, value in throttle_params(throttle).items()
                ]
            else:
                operations.append({"op": "remove", "path": "/throttle"})
        if "quota_settings" in changed:
            quota = first_block(desired["quota_settings"])
            if quota:
                operations += [
                    replace("/quota/limit", quota["limit"]),
                    replace("/quota/offset", quota.get("offset") or 0),
                    replace("/quota/period", quota["period"]),
                ]
            else:
                operations.append({"op": "remove", "path": "/quota"})
        if operations:
            apigw.update_usage_plan(usagePlanId=id, patchOperations=operations)
        update_tags(apigw, live["arn"], desired.get("tags"), live.get("tags"))

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """AWS refuses to delete a plan still associated with API stages: detach them first."""
        apigw = ctx.client("apigateway")
        try:
            plan = apigw.get_usage_plan(usagePlanId=id)
        except ClientError as exc:
            if is_not_found(exc):
                return
            raise
        detach = [
            {"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"}
            for s in plan.get("apiStages") or []
        ]
        if detach:
            apigw.update_usage_plan(usagePlanId=id, patchOperations=detach)
        ignore_not_found(lambda: apigw.delete_usage_plan(usagePlanId=id))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        address = (desired.get("tags") or {}).get(ADDRESS_TAG)
        for plan in paginate(ctx.client("apigateway"), "get_usage_plans", "items"):
            if (
                plan.get("name") == desired["name"]
                and (plan.get("tags") or {}).get(ADDRESS_TAG) == address
            ):
                return str(plan["id"])
        return None


@resource
class UsagePlanKey(Resource):
    """An API key's membership of a usage plan; id = `plan/key` (Terraform's import id)."""

    type = "aws_api_gateway_usage_plan_key"
    taggable = False
    force_new = frozenset({"key_id", "key_type", "usage_plan_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        plan, key = desired["usage_plan_id"], desired["key_id"]
        ctx.client("apigateway").create_usage_plan_key(
            usagePlanId=plan, keyId=key, keyType=desired["key_type"]
        )
        return f"{plan}/{key}"

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        plan, key = id.split("/", 1)
        try:
            found = ctx.client("apigateway").get_usage_plan_key(usagePlanId=plan, keyId=key)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": found["id"],
            "key_id": found["id"],
            "key_type": found.get("type", ""),
            "usage_plan_id": plan,
            "name": found.get("name", ""),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        plan, key = id.split("/", 1)
        ignore_not_found(
            lambda: ctx.client("apigateway").delete_usage_plan_key(usagePlanId=plan, keyId=key)
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = f"{desired['usage_plan_id']}/{desired['key_id']}"
        return id if self.read(ctx, id) is not None else None


# ---------------------------------------------------------------------------------------------
# Mapping between the provider's attributes and API Gateway's API
# ---------------------------------------------------------------------------------------------


def rest_api_arn(region: str, api: str) -> str:
    return f"arn:{partition(region)}:apigateway:{region}::/restapis/{api}"


def stage_arn(region: str, api: str, stage: str) -> str:
    return f"{rest_api_arn(region, api)}/stages/{stage}"


def invoke_url(region: str, api: str, stage: str) -> str:
    return f"https://{api}.execute-api.{region}.{dns_suffix(region)}/{stage}"


def execution_arn(ctx: Context, api: str) -> str:
    """The prefix of the ARNs that callers (`execute-api:Invoke`) and Lambda permissions name."""
    account = ctx.client("sts").get_caller_identity()["Account"]
    return f"arn:{partition(ctx.region)}:execute-api:{ctx.region}:{account}:{api}"


def timestamp(value: Any) -> str:
    """API Gateway dates (datetimes from botocore) as the RFC 3339 strings Terraform shows."""
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def escape(text: str) -> str:
    """JSON Pointer escaping of a path segment, as PATCH paths need (`/` → `~1`)."""
    return text.replace("~", "~0").replace("/", "~1")


def replace(path: str, value: Any) -> dict[str, str]:
    """A `replace` patch operation; API Gateway takes every value as a string."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = "" if value is None else str(value)
    return {"op": "replace", "path": path, "value": text}


def map_operations(
    prefix: str, want: dict[str, Any], have: dict[str, Any], add: str = "add"
) -> list[dict[str, str]]:
    """Patch operations that turn the map `have` into `want`."""
    operations: list[dict[str, str]] = []
    for key, value in sorted(want.items()):
        if key not in have:
            operations.append({**replace(f"{prefix}/{escape(key)}", value), "op": add})
        elif not equivalent(value, have[key]):
            operations.append(replace(f"{prefix}/{escape(key)}", value))
    operations += [
        {"op": "remove", "path": f"{prefix}/{escape(key)}"}
        for key in sorted(have)
        if key not in want
    ]
    return operations


def endpoint_configuration(block: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {"types": list(block.get("types") or [])}
    if block.get("vpc_endpoint_ids"):
        config["vpcEndpointIds"] = sorted(block["vpc_endpoint_ids"])
    if block.get("ip_address_type"):
        config["ipAddressType"] = block["ip_address_type"]
    return config


def update_tags(
    apigw: Any, arn: str, desired: dict[str, str] | None, live: dict[str, str] | None
) -> None:
    to_set, to_remove = tag_changes(desired or {}, live)
    if to_set:
        apigw.tag_resource(resourceArn=arn, tags=to_set)
    if to_remove:
        apigw.untag_resource(resourceArn=arn, tagKeys=to_remove)


def method_id(desired: dict[str, Any]) -> str:
    return f"{desired['rest_api_id']}/{desired['resource_id']}/{desired['http_method']}"


def put_integration(apigw: Any, desired: dict[str, Any]) -> None:
    params: dict[str, Any] = {
        "restApiId": desired["rest_api_id"],
        "resourceId": desired["resource_id"],
        "httpMethod": desired["http_method"],
        "type": desired["type"],
    }
    for tf, api_field in (
        ("integration_http_method", "integrationHttpMethod"),
        ("uri", "uri"),
        ("connection_type", "connectionType"),
        ("connection_id", "connectionId"),
        ("credentials", "credentials"),
        ("passthrough_behavior", "passthroughBehavior"),
        ("content_handling", "contentHandling"),
        ("cache_namespace", "cacheNamespace"),
        ("cache_key_parameters", "cacheKeyParameters"),
        ("request_parameters", "requestParameters"),
        ("request_templates", "requestTemplates"),
    ):
        if desired.get(tf):
            params[api_field] = desired[tf]
    if desired.get("timeout_milliseconds"):
        params["timeoutInMillis"] = int(desired["timeout_milliseconds"])
    tls = first_block(desired.get("tls_config"))
    if tls:
        params["tlsConfig"] = {
            "insecureSkipVerification": bool(tls.get("insecure_skip_verification"))
        }
    apigw.put_integration(**params)


def access_log_operations(
    desired: list[dict[str, Any]] | None, live: list[dict[str, Any]] | None
) -> list[dict[str, str]]:
    block = first_block(desired)
    if block:
        return [
            replace("/accessLogSettings/destinationArn", block["destination_arn"]),
            replace("/accessLogSettings/format", block["format"]),
        ]
    if live:
        return [{"op": "remove", "path": "/accessLogSettings"}]
    return []


def method_settings_key(method_path: str) -> str:
    """`*/*` as is; `payments/{id}/GET` as AWS keys it, with the path's slashes escaped."""
    if method_path == ALL_METHODS:
        return method_path
    path, _, http_method = method_path.rpartition("/")
    return f"{escape('/' + path.lstrip('/'))}/{http_method}"


def throttle_params(block: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if block.get("burst_limit") is not None:
        params["burstLimit"] = int(block["burst_limit"])
    if block.get("rate_limit") is not None:
        params["rateLimit"] = float(block["rate_limit"])
    return params


# ---------------------------------------------------------------------------------------------
# Finders, status functions and waiters
# ---------------------------------------------------------------------------------------------


def ignore_not_found(call: Any) -> None:
    try:
        call()
    except ClientError as exc:
        if not is_not_found(exc):
            raise


def root_resource_id(apigw: Any, api: str) -> str:
    """The `/` resource, for APIs whose GetRestApi predates `rootResourceId`."""
    for found in paginate(apigw, "get_resources", "items", restApiId=api):
        if found.get("path") == "/":
            return str(found["id"])
    return ""


def stage_deployments(apigw: Any, api: str) -> set[str]:
    """The deployments the API's stages serve (canaries included)."""
    stages = apigw.get_stages(restApiId=api).get("item") or []
    used = {s.get("deploymentId") for s in stages}
    used |= {(s.get("canarySettings") or {}).get("deploymentId") for s in stages}
    return {d for d in used if d}


def deployment_in_use(exc: BaseException) -> bool:
    """AWS: "Active stages pointing to this deployment must be moved or deleted"."""
    return error_code(exc) == "BadRequestException" and "stages" in str(exc).lower()


def role_not_usable_yet(exc: BaseException) -> bool:
    """UpdateAccount refuses a role API Gateway cannot assume yet (IAM propagation):
    "The role ARN does not have required permissions set to API Gateway"."""
    return error_code(exc) == "BadRequestException" and "role" in str(exc).lower()
