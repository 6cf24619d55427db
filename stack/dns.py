"""DNS: the Route 53 hosted zone of the API's domain, and each region's API health check.

Route 53 is a global service. The primary workspace creates the zone (or, when
`spec.dns.zone_id` names an existing one, both workspaces look it up); the secondary uses the
primary's. Each workspace health-checks its own region's API directly on its execute-api host,
past the shared name, so that the failover records (`stack/api_domain.py`) can route around a
region whose API is down; the certificate's validation record is `stack/certificate.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Interp, Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.api import HEALTH_PATH, api_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "route53.tf"

ZONE = "aws_route53_zone.main"
ZONE_LOOKUP = "data.aws_route53_zone.main"
HEALTH_CHECK = "aws_route53_health_check.api"


def api_domain_name(spec: Spec) -> str:
    """The API's shared name, which the failover records point at one region or the other."""
    return f"{spec.dns.api_subdomain}.{spec.dns.domain}"


def zone_id_ref(spec: Spec, workspace: str) -> Ref:
    """The hosted zone's id: a look-up when the spec names an existing zone, else the primary's."""
    if spec.dns.zone_id:
        return Ref(ZONE_LOOKUP, "zone_id")
    return Ref(ZONE, "zone_id", workspace="primary" if workspace != "primary" else None)


def health_check_name(spec: Spec, workspace: str) -> str:
    """Both workspaces' checks are in the one global Route 53: the name tells them apart."""
    return spec.name("api-health", workspace)


def execute_api_host(spec: Spec, workspace: str) -> Interp:
    """The region's own API endpoint, which the health check probes past the failover name."""
    return Interp((api_ref("id"), f".execute-api.{spec.region(workspace)}.amazonaws.com"))


@blueprint
def route53(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    dns = spec.dns
    if dns.zone_id:
        yield Node("aws_route53_zone", "main", workspace, {"zone_id": dns.zone_id}, data=True)
    elif workspace == "primary":
        yield Node(
            "aws_route53_zone",
            "main",
            workspace,
            {
                "name": dns.domain,
                "comment": f"{spec.name('zone')}: public zone of the payment API",
                "tags": {"Name": spec.name("zone")},
            },
        )
        yield Output(
            "name_servers",
            workspace,
            Ref(ZONE, "name_servers"),
            "Delegate the domain to these name servers",
        )
    if dns.zone_id or workspace == "primary":
        yield Output("hosted_zone_id", workspace, zone_id_ref(spec, workspace), "The API's zone")
    yield Node(
        "aws_route53_health_check",
        "api",
        workspace,
        {
            "type": "HTTPS",
            "fqdn": execute_api_host(spec, workspace),
            "port": 443,
            # The open route of the stage; the payment routes need credentials.
            "resource_path": f"/{spec.api.stage}{HEALTH_PATH}",
            "request_interval": dns.health_check_interval_s,
            "failure_threshold": dns.health_check_failure_threshold,
            "measure_latency": True,
            "enable_sni": True,
            "tags": {"Name": health_check_name(spec, workspace)},
        },
    )
    yield Output(
        "health_check_id", workspace, Ref(HEALTH_CHECK, "id"), "Health check of this region's API"
    )
