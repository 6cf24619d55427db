"""API Gateway's custom domain names and their base-path mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.attributes import Attr, Block, Table
from deployer.resource import Context, resource
from deployer.waiting import poll
from resources.apigateway.common import (
    SERVICE,
    TAGGING,
    TAGS,
    ApiGatewayDriver,
    resource_arn,
    unset_if_empty,
)
from resources.apigateway.patch import Patch

# API Gateway's base path for "no base path" in its API; Terraform's `base_path` is "" then.
EMPTY_BASE_PATH = "(none)"
# A new regional domain is usually AVAILABLE within seconds; UPDATING after a certificate
# change can last minutes. The provider waits up to 10 minutes.
DOMAIN_AVAILABLE_TIMEOUT = 10 * 60.0

DOMAIN = Patch("UpdateDomainName")
DOMAIN_ENDPOINT = Block(
    Attr("types", "types", from_api=lambda types: list(types or [])),
    Attr("ip_address_type", "ipAddressType", to_api=unset_if_empty),
)


def iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@resource
class DomainName(ApiGatewayDriver):
    type = "aws_api_gateway_domain_name"
    arn_kind = ("apigateway", "domainnames")
    policy_attributes = frozenset({"policy"})
    tagging = TAGGING
    id_parameters = ("domainName",)
    describe_call = "GetDomainName"
    delete_call = "DeleteDomainName"
    table = Table(
        Attr("domain_name", "domainName", force_new=True),
        # Switching endpoint type also switches which certificate attribute applies: replace.
        Attr(
            "endpoint_configuration",
            "endpointConfiguration",
            force_new=True,
            from_api=DOMAIN_ENDPOINT.from_api,
            to_api=DOMAIN_ENDPOINT.to_api,
        ),
        Attr(
            "regional_certificate_arn",
            "regionalCertificateArn",
            update=DOMAIN,
            to_api=unset_if_empty,
        ),
        Attr(
            "regional_certificate_name",
            "regionalCertificateName",
            update=DOMAIN,
            to_api=unset_if_empty,
        ),
        Attr("certificate_arn", "certificateArn", update=DOMAIN, to_api=unset_if_empty),
        Attr("certificate_name", "certificateName", update=DOMAIN, to_api=unset_if_empty),
        Attr("security_policy", "securityPolicy", update=DOMAIN, to_api=unset_if_empty),
        Attr("arn", computed=True),
        Attr("regional_domain_name", "regionalDomainName", computed=True),
        Attr("regional_zone_id", "regionalHostedZoneId", computed=True),
        Attr("cloudfront_domain_name", "distributionDomainName", computed=True),
        Attr("cloudfront_zone_id", "distributionHostedZoneId", computed=True),
        Attr("certificate_upload_date", "certificateUploadDate", computed=True, from_api=iso),
        TAGS,
        service=SERVICE,
        create_call="CreateDomainName",
        described="DomainName",
        id_parameter="domainName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        made = ctx.client(SERVICE).create_domain_name(**self.table.create_parameters(desired))
        return str(made["domainName"])

    def live(self, ctx: Context, id: str, described: Mapping[str, Any]) -> dict[str, Any]:
        arn = resource_arn(ctx.region, f"domainnames/{id}")
        return {**super().live(ctx, id, described), "arn": arn}

    def apply_changes(
        self,
        ctx: Context,
        id: str,
        desired: dict[str, Any],
        live: dict[str, Any],
        names: set[str],
    ) -> None:
        """A changed certificate keeps the domain UPDATING for a while: wait it out."""
        super().apply_changes(ctx, id, desired, live, names)
        if names - {"tags"}:
            self.wait_ready(ctx, id)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """Domain names are unique per region and account: the name finds it."""
        name = desired["domain_name"]
        return str(name) if self.read(ctx, name) is not None else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        def available() -> bool | None:
            status = (self.describe(ctx, id) or {}).get("domainNameStatus", "AVAILABLE")
            return True if status == "AVAILABLE" else None

        poll(
            available,
            what=f"custom domain {id} to become AVAILABLE",
            timeout=DOMAIN_AVAILABLE_TIMEOUT,
            delay=5.0,
        )


MAPPING = Patch("UpdateBasePathMapping")


@resource
class BasePathMapping(ApiGatewayDriver):
    """A base path of a domain serving an API's stage; id = `domain/base_path` (Terraform's
    import id: `domain/` for the empty base path)."""

    type = "aws_api_gateway_base_path_mapping"
    taggable = False
    id_parameters = ("domainName", "basePath")
    describe_call = "GetBasePathMapping"
    delete_call = "DeleteBasePathMapping"
    table = Table(
        Attr("domain_name", create="domainName", force_new=True),
        Attr("domain_name_id", create="domainNameId", force_new=True),
        # The id holds the base path: a new base path is a new mapping.
        Attr(
            "base_path",
            "basePath",
            force_new=True,
            from_api=lambda path: "" if path in (None, EMPTY_BASE_PATH) else path,
            to_api=unset_if_empty,
        ),
        # AWS spells the path of the API's id `/restapiId`.
        Attr("api_id", "restApiId", update=Patch(MAPPING.operation, path="/restapiId")),
        Attr("stage_name", "stage", update=MAPPING, to_api=unset_if_empty),
        service=SERVICE,
        create_call="CreateBasePathMapping",
        described="BasePathMapping",
        id_parameter="basePath",
    )

    def keys(self, id: str) -> dict[str, str]:
        domain, _, base_path = id.partition("/")
        return {"domainName": domain, "basePath": base_path or EMPTY_BASE_PATH}

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ctx.client(SERVICE).create_base_path_mapping(**self.table.create_parameters(desired))
        return mapping_id(desired)

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        id = mapping_id(desired)
        return id if self.read(ctx, id) is not None else None


def mapping_id(desired: Mapping[str, Any]) -> str:
    return f"{desired['domain_name']}/{desired.get('base_path') or ''}"
