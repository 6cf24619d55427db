"""Serving an API: deployments (snapshots of its routes), stages, their method settings, and
the region's account settings (the role API Gateway logs to CloudWatch with).

A deployment is an immutable snapshot of an API's routes: AWS refuses to delete one a stage
still serves, so a replacement is made create-before-destroy and the old deployment is deleted
once no stage serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from deployer.arns import Arn, Claim
from deployer.attributes import Attr, Block, Table
from deployer.aws import paginate, retry_while
from deployer.errors import NotFound, error_code, ignore_missing, or_none
from deployer.resource import Context, Resource, resource
from resources.apigateway.common import (
    SERVICE,
    TAGGING,
    TAGS,
    THROTTLE,
    ApiGatewayDriver,
    as_dict,
    execution_arn,
    invoke_url,
    rest_api_arn,
    sorted_list,
    text,
    timestamp,
    unset_if_empty,
)
from resources.apigateway.patch import (
    Patch,
    api_value,
    block_fields,
    escape,
    map_entries_by_replace,
    path_of,
    remove,
    replace,
)

# Terraform's id for the account settings, of which each region has exactly one.
ACCOUNT_ID = "api-gateway-account"
# The method path that addresses every method of a stage.
ALL_METHODS = "*/*"

# UpdateAccount checks that API Gateway can assume the CloudWatch role; a role seconds old may not
# be assumable yet. AWS documents no bound; Terraform waits out IAM propagation for 2 minutes.
IAM_PROPAGATION_TIMEOUT = 120.0

DEPLOYMENT = Patch("UpdateDeployment")


@resource
class Deployment(ApiGatewayDriver):
    """A snapshot of the routes; id = `api/deployment`.

    `triggers` exist in state only, as in Terraform: compared with the values last applied, a
    change replaces the deployment. Terraform cannot import them, so the export writes the
    references they hold as `lifecycle { replace_triggered_by }` instead (`state_only_triggers`).
    """

    type = "aws_api_gateway_deployment"
    taggable = False
    # The stage serves the old deployment until it moves to the new one.
    create_before_destroy = True
    state_only_triggers = "triggers"
    id_parameters = ("restApiId", "deploymentId")
    describe_call = "GetDeployment"
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("description", "description", update=DEPLOYMENT, from_api=text),
        Attr("triggers", create=False, force_new=True, write_only=True),
        # Stage variables given at deployment time: no stage is made here, so they are not
        # readable.
        Attr("variables", create="variables", force_new=True, write_only=True),
        Attr("created_date", "createdDate", computed=True, from_api=timestamp),
        service=SERVICE,
        create_call="CreateDeployment",
        described="Deployment",
        id_parameter="deploymentId",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        made = ctx.client(SERVICE).create_deployment(**request)
        return self.make_id({**request, "deploymentId": made["id"]})

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return str(described["id"])

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        """Deleted unless a stage still serves it (AWS would refuse): a replacement is made
        create-before-destroy, so the engine deletes the old one after the stage moved on."""
        keys = self.keys(id)
        apigw = ctx.client(SERVICE)
        try:
            if keys["deploymentId"] in stage_deployments(apigw, keys["restApiId"]):
                return
            apigw.delete_deployment(**keys)
        except NotFound:
            return
        except ClientError as exc:
            if not deployment_in_use(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Deployments have no name: one with the same description (which names the routes'
        digest) is ours."""
        request = self.table.create_parameters(desired)
        wanted = desired.get("description") or ""
        listed = or_none(
            lambda: list(
                paginate(
                    ctx.client(SERVICE), "get_deployments", "items", restApiId=request["restApiId"]
                )
            )
        )
        matches = [d for d in listed or [] if (d.get("description") or "") == wanted]
        if not matches:
            return None
        newest = max(matches, key=lambda d: timestamp(d.get("createdDate")))
        return self.make_id({**request, "deploymentId": newest["id"]})


STAGE = Patch("UpdateStage")
ACCESS_LOGS = Block(
    Attr("destination_arn", "destinationArn"),
    Attr("format", "format", from_api=text),
)


@resource
class Stage(ApiGatewayDriver):
    """A named stage serving one deployment; id = `api/stage`."""

    type = "aws_api_gateway_stage"
    arn_kind = ("apigateway", "stages")
    tagging = TAGGING
    id_parameters = ("restApiId", "stageName")
    describe_call = "GetStage"
    delete_call = "DeleteStage"
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("stage_name", "stageName", force_new=True),
        Attr("deployment_id", "deploymentId", update=STAGE, from_api=text),
        Attr("description", "description", update=STAGE, from_api=text, to_api=unset_if_empty),
        Attr("xray_tracing_enabled", "tracingEnabled", update=STAGE, from_api=bool),
        Attr("cache_cluster_enabled", "cacheClusterEnabled", update=STAGE, from_api=bool),
        Attr(
            "cache_cluster_size",
            "cacheClusterSize",
            update=STAGE,
            from_api=text,
            to_api=unset_if_empty,
        ),
        Attr(
            "documentation_version",
            "documentationVersion",
            update=STAGE,
            from_api=text,
            to_api=unset_if_empty,
        ),
        Attr(
            "variables",
            "variables",
            update=STAGE.using(map_entries_by_replace),
            from_api=as_dict,
            to_api=unset_if_empty,
        ),
        # CreateStage takes neither access logging nor a client certificate: they are patched
        # right after (`patch_after_create`).
        Attr(
            "access_log_settings",
            "accessLogSettings",
            create=False,
            update=STAGE.using(block_fields),
            from_api=ACCESS_LOGS.from_api,
            to_api=ACCESS_LOGS.to_api,
        ),
        Attr(
            "client_certificate_id",
            "clientCertificateId",
            create=False,
            update=STAGE,
            from_api=text,
            to_api=unset_if_empty,
        ),
        Attr("web_acl_arn", "webAclArn", computed=True, from_api=text),
        Attr("arn", computed=True),
        Attr("invoke_url", computed=True),
        Attr("execution_arn", computed=True),
        TAGS,
        service=SERVICE,
        create_call="CreateStage",
        described="Stage",
        id_parameter="stageName",
    )

    def arn_claim(self, arn: Arn) -> Claim | None:
        """A stage's ARN is a path under its API's, `/restapis/<api>/stages/<name>`."""
        parts = arn.resource_id.split("/")
        if arn.kind == ("apigateway", "restapis") and len(parts) == 3 and parts[1] == "stages":
            return Claim.OWN
        return None

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        ctx.client(SERVICE).create_stage(**request)
        id = self.make_id(request)
        try:
            self.patch_after_create(ctx, id, desired)
        except Exception:
            self.delete(ctx, id, None)  # leave nothing behind
            raise
        return id

    def live(self, ctx: Context, id: str, described: Mapping[str, Any]) -> dict[str, Any]:
        api, name = self.keys(id).values()
        return {
            **super().live(ctx, id, described),
            "arn": f"{rest_api_arn(ctx.region, api)}/stages/{name}",
            "invoke_url": invoke_url(ctx.region, api, name),
            "execution_arn": f"{execution_arn(ctx, api)}/{name}",
        }

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return "ags-" + id.replace("/", "-")

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = self.make_id(self.table.create_parameters(desired))
        return id if self.read(ctx, id) is not None else None


# Each setting: the field GetStage reports it as, and the path (under the method's) that
# UpdateStage sets it at.
SETTINGS = Block(
    Attr("metrics_enabled", "metricsEnabled", create="metrics/enabled"),
    Attr("logging_level", "loggingLevel", create="logging/loglevel"),
    Attr("data_trace_enabled", "dataTraceEnabled", create="logging/dataTrace"),
    Attr("throttling_burst_limit", "throttlingBurstLimit", create="throttling/burstLimit"),
    Attr("throttling_rate_limit", "throttlingRateLimit", create="throttling/rateLimit"),
    Attr("caching_enabled", "cachingEnabled", create="caching/enabled"),
    Attr("cache_ttl_in_seconds", "cacheTtlInSeconds", create="caching/ttlInSeconds"),
    Attr("cache_data_encrypted", "cacheDataEncrypted", create="caching/dataEncrypted"),
    Attr(
        "require_authorization_for_cache_control",
        "requireAuthorizationForCacheControl",
        create="caching/requireAuthorizationForCacheControl",
    ),
    Attr(
        "unauthorized_cache_control_header_strategy",
        "unauthorizedCacheControlHeaderStrategy",
        create="caching/unauthorizedCacheControlHeaderStrategy",
    ),
)


@resource
class MethodSettings(ApiGatewayDriver):
    """Per-method (or `*/*`) settings of a stage; id = `api/stage/method_path`.

    They live inside the stage (its `methodSettings`, keyed by method path): create and update
    patch the stage, delete removes the entry."""

    type = "aws_api_gateway_method_settings"
    taggable = False
    id_parameters = ("restApiId", "stageName")
    table = Table(
        Attr("rest_api_id", create="restApiId", force_new=True),
        Attr("stage_name", create="stageName", force_new=True),
        Attr("method_path", create=False, force_new=True),
        Attr(
            "settings",
            create=False,
            update=STAGE,
            from_api=SETTINGS.from_api,
            to_api=SETTINGS.to_api,
        ),
        service=SERVICE,
        create_call="UpdateStage",
        described="MethodSetting",
        id_parameter="stageName",
    )

    def keys(self, id: str) -> dict[str, str]:
        api, stage, _ = id.split("/", 2)
        return {"restApiId": api, "stageName": stage}

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        request = self.table.create_parameters(desired)
        id = f"{self.make_id(request)}/{desired['method_path']}"
        self.apply_changes(ctx, id, desired, {}, {"settings"})
        return id

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        stage = or_none(lambda: self.call(ctx, "GetStage", id))
        if stage is None:
            return None
        settings: dict[str, Any] | None = (stage.get("methodSettings") or {}).get(
            method_settings_key(method_path(id))
        )
        return settings

    def live(self, ctx: Context, id: str, described: Mapping[str, Any]) -> dict[str, Any]:
        """`described` is the method's entry of the stage's settings: the block itself."""
        return {
            **super().live(ctx, id, described),
            "method_path": method_path(id),
            "settings": SETTINGS.from_api(described),
        }

    def attribute_id(self, id: str, described: Mapping[str, Any]) -> str:
        return id.replace("/", "-", 2)

    def apply_changes(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        live: dict[str, Any],
        names: set[str],
    ) -> None:
        """The settings' paths are under the method's, which the id names."""
        row = self.table.rows["settings"]
        operations = block_fields(
            "/" + method_settings_key(method_path(id)),
            api_value(row, desired.get("settings")),
            api_value(row, live.get("settings")),
        )
        if operations:
            self.call(ctx, "UpdateStage", id, patchOperations=operations)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        path = "/" + method_settings_key(method_path(id))
        ignore_missing(lambda: self.call(ctx, "UpdateStage", id, patchOperations=[remove(path)]))

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = f"{self.make_id(self.table.create_parameters(desired))}/{desired['method_path']}"
        return id if self.read(ctx, id) is not None else None


@resource
class Account(Resource):
    """The region's API Gateway account settings: the role it logs to CloudWatch with.

    Every account has exactly one per region, shared by all its APIs there, and AWS has no call
    that deletes it: delete resets the role (as the Terraform provider 6.x does), after which
    stages of this region can no longer write execution or access logs. UpdateAccount names no
    resource, so no table call can change the role: `update` patches it, retrying while IAM
    has not yet propagated a new role.
    """

    type = "aws_api_gateway_account"
    taggable = False
    table = Table(
        Attr("cloudwatch_role_arn", "cloudwatchRoleArn", create=False, update=True),
        Attr("api_key_version", "apiKeyVersion", computed=True),
        Attr("features", "features", computed=True, from_api=sorted_list),
        Attr("throttle_settings", "throttleSettings", computed=True, from_api=THROTTLE.from_api),
        service=SERVICE,
        create_call="UpdateAccount",
        described="Account",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        self.update(ctx, ACCOUNT_ID, desired, {})
        return ACCOUNT_ID

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """None when no role is set: the settings carry nothing of ours."""
        account: dict[str, Any] = ctx.client(SERVICE).get_account()
        return account if account.get("cloudwatchRoleArn") else None

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client(SERVICE)
        operations = [self._set_role(desired.get("cloudwatch_role_arn"))]
        retry_while(
            lambda: apigw.update_account(patchOperations=operations),
            retryable=role_not_usable_yet,
            timeout=IAM_PROPAGATION_TIMEOUT,
        )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ctx.client(SERVICE).update_account(patchOperations=[self._set_role(None)])

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        return ACCOUNT_ID

    def _set_role(self, role: str | None) -> dict[str, str]:
        assert self.table is not None
        return replace(path_of(self.table.rows["cloudwatch_role_arn"]), role)


def method_path(id: str) -> str:
    """`*/*` or `payments/{id}/GET`, from a method settings id `api/stage/<method path>`."""
    return id.split("/", 2)[2]


def method_settings_key(method_path: str) -> str:
    """`*/*` as is; `payments/{id}/GET` as AWS keys it, with the path's slashes escaped."""
    if method_path == ALL_METHODS:
        return method_path
    path, _, http_method = method_path.rpartition("/")
    return f"{escape('/' + path.lstrip('/'))}/{http_method}"


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
