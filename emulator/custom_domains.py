"""The API's own name on the emulator: a request to a custom domain, routed as DNS would route it.

On AWS a client resolves the API's name (``api.payments.example.com``) through Route 53, reaches
the regional custom domain of whichever region the failover record answers with, and API Gateway
sends the request to the stage its base path mapping names. The emulator has no DNS resolver, so
this module does those steps for a request that carries the name in its ``Host`` header:

1. Route 53's answer for the name, computed as TestDNSAnswer computes it (``emulator.route53``:
   failover records follow their health checks): an alias to a regional custom domain,
   ``d-....execute-api.{region}.amazonaws.com``, names the region;
2. that region's custom domain of that name (API Gateway REST API Reference, DomainName,
   ``regionalDomainName``) and its base path mappings (BasePathMapping: ``basePath`` ``(none)``
   maps the whole domain, otherwise the first path segment; ``stage`` names the stage, or the
   next segment does);
3. the stage, through ``emulator.dataplane.invoke_stage`` (the custom domain is served even when
   the API's default endpoint is disabled, as AWS does).

A name no record answers, or answered with no custom domain of that name, is not the emulator's
(``resolve`` returns None): the caller passes the request on.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from emulator.dataplane import StageRequest, StageResponse, gateway_error, invoke_stage

REGIONAL_DOMAIN = re.compile(
    r"^d-[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com\.?$", re.I
)
# Record types whose answer can lead to a regional custom domain.
ADDRESS_TYPES = ("A", "AAAA", "CNAME")
NO_MAPPING = "(none)"
AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", "localhost")


def _normal(name: str) -> str:
    return name.split(":", 1)[0].rstrip(".").lower()


def may_be_custom(host: str) -> bool:
    """Not an address, a loopback name or an AWS endpoint: worth looking up in Route 53."""
    name = _normal(host)
    if not name or "." not in name or name.replace(".", "").isdigit() or name.startswith("["):
        return False
    return not name.endswith(AWS_SUFFIXES)


def resolve(account_id: str, host: str) -> tuple[str, Any] | None:
    """The region and moto DomainName that Route 53 sends ``host`` to, if any."""
    from moto.apigateway.models import apigateway_backends
    from moto.route53.models import route53_backends

    from emulator.route53 import dns_answer

    name = _normal(host)
    route53 = route53_backends[account_id]["aws"]
    for zone in list(route53.zones.values()):
        if not any(_normal(record.name) == name for record in zone.rrsets):
            continue
        for record_type in ADDRESS_TYPES:
            for value in dns_answer(route53, zone.id, name, record_type)["RecordData"]:
                target = REGIONAL_DOMAIN.match(value)
                if target is None:
                    continue
                region = target["region"]
                if region not in apigateway_backends[account_id].regions:
                    continue
                domain = apigateway_backends[account_id][region].domain_names.get(name)
                if domain is not None and _normal(domain.regional_domain_name) == _normal(value):
                    return region, domain
    return None


def invoke_domain(
    account_id: str, resolved: tuple[str, Any], request: StageRequest
) -> StageResponse:
    """Answer ``request`` sent to the custom domain ``resolve`` found (its region, its domain)."""
    from moto.apigateway.models import apigateway_backends

    region, domain = resolved
    mappings = apigateway_backends[account_id][region].base_path_mappings
    by_path = mappings.get(domain.domain_name) or {}
    first, _, rest = request.path.lstrip("/").partition("/")
    mapping = by_path.get(first) if first else None
    if mapping is not None:
        path = "/" + rest
    else:
        mapping, path = by_path.get(NO_MAPPING), request.path
    if mapping is None:
        return gateway_error(403, "Forbidden")
    stage = mapping.stage
    if not stage:  # no stage in the mapping: the path names it
        stage, _, rest = path.lstrip("/").partition("/")
        path = "/" + rest
    return invoke_stage(
        account_id,
        region,
        mapping.rest_api_id,
        stage,
        dataclasses.replace(request, path=path or "/"),
        domain_name=domain.domain_name,
    )
