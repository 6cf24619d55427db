"""The REST API and its routes: path segments (resources), methods and their integrations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.attributes import Attr, Block, Table
from deployer.aws import paginate
from deployer.resource import Context, resource
from deployer.tagging import is_ours
from resources.apigateway.common import (
    SERVICE,
    TAGGING,
    TAGS,
    ApiGatewayDriver,
    as_dict,
    execution_arn,
    rest_api_arn,
    sorted_list,
    text,
    timestamp,
    unset_if_empty,
)
from resources.apigateway.patch import (
    Operation,
    Patch,
    keyed_members,
    map_entries,
    members,
    replace,
)

# A REST API's endpoint: its type, and for PRIVATE ones the VPC endpoints that reach it.
ENDPOINT = Block(
    Attr("types", "types", from_api=lambda types: list(types or [])),
    Attr("vpc_endpoint_ids", "vpcEndpointIds", from_api=sorted_list, to_api=unset_if_empty),
    Attr("ip_address_type", "ipAddressType", from_api=text, to_api=unset_if_empty),
)


def endpoint_changes(path: str, want: Any, have: Any) -> list[Operation]:
    """AWS names the current endpoint type in the path and the new one as the value."""
    want, have = want or {}, have or {}
    want_type = (want.get("types") or [""])[0]
    have_type = (have.get("types") or [""])[0]
    operations = [replace(f"{path}/types/{have_type}", want_type)] if want_type != have_type else []
    address_type = want.get("ipAddressType")
    if address_type and address_type != have.get("ipAddressType"):
        operations.append(replace(f"{path}/ipAddressType", address_type))
    return operations


def compression_size(value: Any) -> str:
    """Terraform's nullable number: "" when the API reports none."""
    return "" if value is None else str(value)


REST_API = Patch("UpdateRestApi")


@resource
class RestApi(ApiGatewayDriver):
    type = "aws_api_gateway_rest_api"
    arn_kind = ("apigateway", "restapis")
    policy_attributes = frozenset({"policy"})
    # Terraform extends the deployment's create_before_destroy to what the deployment depends
    # on, the API included; the export says so rather than leaving it implicit.
    create_before_destroy = True
    tagging = TAGGING
    id_parameters = ("restApiId",)
    describe_call = "GetRestApi"
    # AWS allows one DeleteRestApi per 30 s per account (TooManyRequestsException), which
    # botocore's standard retry mode backs off from.
    delete_call = "DeleteRestApi"
    table = Table(
        Attr("name", "name", update=REST_API),
        Attr("description", "description", update=REST_API, from_api=text, to_api=unset_if_empty),
        Attr("api_key_source", "apiKeySource", update=REST_API),
        Attr(
            "disable_execute_api_endpoint",
            "disableExecuteApiEndpoint",
            update=REST_API,
            from_api=bool,
        ),
        Attr(
            "binary_media_types",
            "binaryMediaTypes",
            update=REST_API.using(keyed_members),
            from_api=lambda types: list(types or []),
            to_api=unset_if_empty,
        ),
        Attr(
            "minimum_compression_size",
            "minimumCompressionSize",
            update=REST_API,
            from_api=compression_size,
            to_api=lambda size: int(size) if size not in (None, "") else None,
        ),
        Attr(
            "endpoint_configuration",
            "endpointConfiguration",
            update=REST_API.using(endpoint_changes),
            from_api=ENDPOINT.from_api,
            to_api=ENDPOINT.to_api,
        ),
        Attr("policy", "policy", update=REST_API, from_api=text, to_api=unset_if_empty),
        Attr("arn", computed=True),
        Attr("execution_arn", computed=True),
        Attr("root_resource_id", "rootResourceId", computed=True),
        Attr("created_date", "createdDate", computed=True, from_api=timestamp),
        # An OpenAPI definition (PutRestApi) is not what this driver builds APIs from: never
        # sent, never compared. `put_rest_api_mode`'s provider default ("overwrite") is left
        # out for the same reason.
        Attr("body", create=False, write_only=True),
        Attr("fail_on_warnings", create=False, write_only=True),
        Attr("parameters", create=False, write_only=True),
        Attr("put_rest_api_mode", create=False, write_only=True),
        TAGS,
        service=SERVICE,
        create_call="CreateRestApi",
        described="RestApi",
        id_parameter="restApiId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        api = ctx.client(SERVICE).create_rest_api(**self.table.create_parameters(desired))
        return str(api["id"])

    def live(self, ctx: Context, id: str, described: Mapping[str, Any]) -> dict[str, Any]:
        live = super().live(ctx, id, described)
        return {
            **live,
            "arn": rest_api_arn(ctx.region, id),
            "execution_arn": execution_arn(ctx, id),
            "root_resource_id": live["root_resource_id"] or root_resource_id(ctx, id),
        }

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """CreateRestApi has no idempotency token: an API made before a crash is found by its
        name and address tag."""
        for api in paginate(ctx.client(SERVICE), "get_rest_apis", "items"):
            if api["name"] == desired["name"] and is_ours(api.get("tags"), desired):
                return str(api["id"])
        return None


RESOURCE = Patch("UpdateResource")


@resource
class ApiGatewayResource(ApiGatewayDriver):
    """A path segment; id = `api/resource` (Terraform's import id)."""

    type = "aws_api_gateway_resource"
    taggable = False
    id_parameters = ("restApiId", "resourceId")
    describe_call = "GetResource"
    delete_call = "DeleteResource"
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("path_part", "pathPart", update=RESOURCE, from_api=text),
        Attr("parent_id", "parentId", update=RESOURCE, from_api=text),
        Attr("path", "path", computed=True, from_api=text),
        service=SERVICE,
        create_call="CreateResource",
        described="Resource",
        id_parameter="resourceId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        made = ctx.client(SERVICE).create_resource(**request)
        return self.make_id({**request, "resourceId": made["id"]})

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return str(described["id"])

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A path segment is unique under its parent: one an interrupted create made is ours."""
        request = self.table.create_parameters(desired)
        for found in paginate(
            ctx.client(SERVICE), "get_resources", "items", restApiId=request["restApiId"]
        ):
            if (found.get("parentId"), found.get("pathPart")) == (
                request["parentId"],
                request["pathPart"],
            ):
                return self.make_id({**request, "resourceId": found["id"]})
        return None


METHOD = Patch("UpdateMethod")


@resource
class Method(ApiGatewayDriver):
    """A method of a resource; id = `api/resource/METHOD`.

    Changed by UpdateMethod: PutMethod on an existing method is a ConflictException."""

    type = "aws_api_gateway_method"
    taggable = False
    id_parameters = ("restApiId", "resourceId", "httpMethod")
    describe_call = "GetMethod"
    delete_call = "DeleteMethod"
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("resource_id", create="resourceId", force_new=True),
        Attr("http_method", "httpMethod", force_new=True),
        Attr("authorization", "authorizationType", update=METHOD),
        Attr("api_key_required", "apiKeyRequired", update=METHOD, default=False, from_api=bool),
        Attr("authorizer_id", "authorizerId", update=METHOD, from_api=text, to_api=unset_if_empty),
        Attr(
            "authorization_scopes",
            "authorizationScopes",
            update=METHOD.using(members),
            from_api=sorted_list,
            to_api=unset_if_empty,
        ),
        Attr(
            "operation_name", "operationName", update=METHOD, from_api=text, to_api=unset_if_empty
        ),
        Attr(
            "request_parameters",
            "requestParameters",
            update=METHOD.using(map_entries),
            from_api=as_dict,
            to_api=unset_if_empty,
        ),
        Attr(
            "request_models",
            "requestModels",
            update=METHOD.using(map_entries),
            from_api=as_dict,
            to_api=unset_if_empty,
        ),
        Attr(
            "request_validator_id",
            "requestValidatorId",
            update=METHOD,
            from_api=text,
            to_api=unset_if_empty,
        ),
        service=SERVICE,
        create_call="PutMethod",
        described="Method",
        id_parameter="httpMethod",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        ctx.client(SERVICE).put_method(**request)
        return self.make_id(request)

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return "agm-" + id.replace("/", "-")

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Method ids are deterministic: a method an interrupted create made is ours."""
        id = self.make_id(self.table.create_parameters(desired))
        return id if self.read(ctx, id) is not None else None


TLS = Block(Attr("insecure_skip_verification", "insecureSkipVerification", from_api=bool))


@resource
class Integration(ApiGatewayDriver):
    """A method's integration; id = `api/resource/METHOD` (one integration per method).

    PutIntegration is also its update: it replaces the integration as a whole, so every
    attribute is sent, not only those that changed (a proxy integration has no integration
    responses to lose)."""

    type = "aws_api_gateway_integration"
    taggable = False
    id_parameters = ("restApiId", "resourceId", "httpMethod")
    describe_call = "GetIntegration"
    delete_call = "DeleteIntegration"
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("resource_id", create="resourceId", force_new=True),
        Attr("http_method", create="httpMethod", force_new=True),
        Attr("type", "type", update=True),
        Attr("uri", "uri", update=True, from_api=text, to_api=unset_if_empty),
        # GetIntegration's `httpMethod` is the integration's, not the method's.
        Attr(
            "integration_http_method",
            "httpMethod",
            create="integrationHttpMethod",
            update=True,
            from_api=text,
            to_api=unset_if_empty,
        ),
        Attr("connection_type", "connectionType", update=True, default="INTERNET"),
        Attr("connection_id", "connectionId", update=True, from_api=text, to_api=unset_if_empty),
        Attr("credentials", "credentials", update=True, from_api=text, to_api=unset_if_empty),
        Attr(
            "passthrough_behavior",
            "passthroughBehavior",
            update=True,
            from_api=text,
            to_api=unset_if_empty,
        ),
        Attr(
            "content_handling",
            "contentHandling",
            update=True,
            from_api=text,
            to_api=unset_if_empty,
        ),
        # AWS reports the default for an integration created without one.
        Attr(
            "timeout_milliseconds",
            "timeoutInMillis",
            update=True,
            default=29000,
            from_api=lambda ms: None if ms is None else int(ms),
            to_api=int,
        ),
        Attr(
            "cache_namespace", "cacheNamespace", update=True, from_api=text, to_api=unset_if_empty
        ),
        Attr(
            "cache_key_parameters",
            "cacheKeyParameters",
            update=True,
            from_api=sorted_list,
            to_api=unset_if_empty,
        ),
        Attr(
            "request_parameters",
            "requestParameters",
            update=True,
            from_api=as_dict,
            to_api=unset_if_empty,
        ),
        Attr(
            "request_templates",
            "requestTemplates",
            update=True,
            from_api=as_dict,
            to_api=unset_if_empty,
        ),
        Attr("tls_config", "tlsConfig", update=True, from_api=TLS.from_api, to_api=TLS.to_api),
        service=SERVICE,
        create_call="PutIntegration",
        update_call="PutIntegration",
        described="Integration",
        id_parameter="httpMethod",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        ctx.client(SERVICE).put_integration(**request)
        return self.make_id(request)

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """None also for a method without integration (GetIntegration answers with no type)."""
        described = super().describe(ctx, id)
        return described if described and described.get("type") else None

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return "agi-" + id.replace("/", "-")

    def apply_changes(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        live: dict[str, Any],
        names: set[str],
    ) -> None:
        ctx.client(SERVICE).put_integration(**self.table.create_parameters(desired))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = self.make_id(self.table.create_parameters(desired))
        return id if self.read(ctx, id) is not None else None


def root_resource_id(ctx: Context, api: str) -> str:
    """The `/` resource, for APIs whose GetRestApi predates `rootResourceId`."""
    for found in paginate(ctx.client(SERVICE), "get_resources", "items", restApiId=api):
        if found.get("path") == "/":
            return str(found["id"])
    return ""
