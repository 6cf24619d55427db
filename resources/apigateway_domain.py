"""API Gateway's custom domain names and their base-path mappings."""

from __future__ import annotations

from typing import Any

from deployer.arns import partition
from deployer.aws import is_not_found, poll, tag_changes
from deployer.resource import Context, Resource, resource

# API Gateway's base path for "no base path" in its API; Terraform's `base_path` is "" then.
EMPTY_BASE_PATH = "(none)"
# A new regional domain is usually AVAILABLE within seconds; UPDATING after a certificate
# change can last minutes. The provider waits up to 10 minutes.
DOMAIN_AVAILABLE_TIMEOUT = 10 * 60.0


@resource
class DomainName(Resource):
    type = "aws_api_gateway_domain_name"
    arn_kind = ("apigateway", "domainnames")
    policy_attributes = frozenset({"policy"})
    # Switching endpoint type also switches which certificate attribute applies: replace.
    force_new = frozenset({"domain_name", "endpoint_configuration"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "domainName": desired["domain_name"],
            "endpointConfiguration": {"types": desired["endpoint_configuration"][0]["types"]},
            "tags": desired["tags"],
        }
        for attribute, key in DOMAIN_FIELDS.items():
            if desired.get(attribute):
                params[key] = desired[attribute]
        made = ctx.client("apigateway").create_domain_name(**params)
        return str(made["domainName"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            got = ctx.client("apigateway").get_domain_name(domainName=id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        endpoint = got.get("endpointConfiguration") or {}
        upload = got.get("certificateUploadDate")
        return {
            "id": got["domainName"],
            "domain_name": got["domainName"],
            "arn": domain_arn(ctx.region, got["domainName"]),
            "region": ctx.region,
            **{attribute: got.get(key) for attribute, key in DOMAIN_FIELDS.items()},
            "endpoint_configuration": [
                {
                    "types": endpoint.get("types", []),
                    "ip_address_type": endpoint.get("ipAddressType"),
                }
            ],
            "regional_domain_name": got.get("regionalDomainName"),
            "regional_zone_id": got.get("regionalHostedZoneId"),
            "cloudfront_domain_name": got.get("distributionDomainName"),
            "cloudfront_zone_id": got.get("distributionHostedZoneId"),
            "certificate_upload_date": upload.isoformat()
            if hasattr(upload, "isoformat")
            else upload,
            "tags": dict(got.get("tags") or {}),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        apigw = ctx.client("apigateway")
        operations = [
            {"op": "replace", "path": f"/{key}", "value": desired[attribute]}
            for attribute, key in DOMAIN_FIELDS.items()
            if desired.get(attribute) is not None and desired[attribute] != live.get(attribute)
        ]
        if operations:
            apigw.update_domain_name(domainName=id, patchOperations=operations)
            wait_available(apigw, id)
        to_set, to_remove = tag_changes(desired["tags"], live.get("tags"))
        arn = domain_arn(ctx.region, id)
        if to_set:
            apigw.tag_resource(resourceArn=arn, tags=to_set)
        if to_remove:
            apigw.untag_resource(resourceArn=arn, tagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            ctx.client("apigateway").delete_domain_name(domainName=id)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Domain names are unique per region and account: the name finds it."""
        name = desired["domain_name"]
        return str(name) if self.read(ctx, name) is not None else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        wait_available(ctx.client("apigateway"), id)


@resource
class BasePathMapping(Resource):
    type = "aws_api_gateway_base_path_mapping"
    taggable = False
    # The id is `domain/base_path`: a new base path is a new mapping.
    force_new = frozenset({"domain_name", "base_path", "domain_name_id"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "domainName": desired["domain_name"],
            "restApiId": desired["api_id"],
        }
        if desired.get("base_path"):
            params["basePath"] = desired["base_path"]
        if desired.get("stage_name"):
            params["stage"] = desired["stage_name"]
        ctx.client("apigateway").create_base_path_mapping(**params)
        return mapping_id(desired["domain_name"], desired.get("base_path") or "")

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        domain, base_path = parse_mapping_id(id)
        try:
            got = ctx.client("apigateway").get_base_path_mapping(
                domainName=domain, basePath=base_path or EMPTY_BASE_PATH
            )
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        live_path = got.get("basePath") or EMPTY_BASE_PATH
        return {
            "id": id,
            "domain_name": domain,
            "api_id": got.get("restApiId"),
            "stage_name": got.get("stage"),
            "base_path": "" if live_path == EMPTY_BASE_PATH else live_path,
            "region": ctx.region,
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        domain, base_path = parse_mapping_id(id)
        operations = [
            {"op": "replace", "path": path, "value": desired[attribute]}
            for attribute, path in (("api_id", "/restapiId"), ("stage_name", "/stage"))
            if desired.get(attribute) is not None and desired[attribute] != live.get(attribute)
        ]
        if operations:
            ctx.client("apigateway").update_base_path_mapping(
                domainName=domain,
                basePath=base_path or EMPTY_BASE_PATH,
                patchOperations=operations,
            )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        domain, base_path = parse_mapping_id(id)
        try:
            ctx.client("apigateway").delete_base_path_mapping(
                domainName=domain, basePath=base_path or EMPTY_BASE_PATH
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = mapping_id(desired["domain_name"], desired.get("base_path") or "")
        return id if self.read(ctx, id) is not None else None


# Domain name attribute → API Gateway's key, for the ones copied as they are.
DOMAIN_FIELDS = {
    "regional_certificate_arn": "regionalCertificateArn",
    "regional_certificate_name": "regionalCertificateName",
    "certificate_arn": "certificateArn",
    "certificate_name": "certificateName",
    "security_policy": "securityPolicy",
}


def domain_arn(region: str, domain: str) -> str:
    return f"arn:{partition(region)}:apigateway:{region}::/domainnames/{domain}"


def mapping_id(domain: str, base_path: str) -> str:
    """Terraform's import id: `domain/` for the empty base path, else `domain/base_path`."""
    return f"{domain}/{base_path}"


def parse_mapping_id(id: str) -> tuple[str, str]:
    domain, _, base_path = id.partition("/")
    return domain, base_path


def wait_available(apigw: Any, domain: str) -> None:
    def available() -> bool | None:
        got = apigw.get_domain_name(domainName=domain)
        status = got.get("domainNameStatus", "AVAILABLE")
        return True if status == "AVAILABLE" else None

    poll(
        available,
        what=f"custom domain {domain} to become AVAILABLE",
        timeout=DOMAIN_AVAILABLE_TIMEOUT,
        delay=5.0,
    )
