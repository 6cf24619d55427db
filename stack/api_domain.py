"""The API's domain: the custom domain in each region, and the failover record pointing at it.

Both regions serve the same name (`api.<domain>`) from a REGIONAL custom domain with the
region's own certificate (`stack/certificate.py`), mapped to the region's API stage. One Route 53
alias record per region, PRIMARY in the primary and SECONDARY in the secondary, sends clients to
the primary while its health check (`stack/dns.py`) passes.
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.domains import absolute
from deployer.model import Node, Output, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.api import api_ref, stage_ref
from stack.certificate import VALIDATION
from stack.dns import HEALTH_CHECK, api_domain_name, zone_id_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "apigateway.tf"

DOMAIN_NAME = "aws_api_gateway_domain_name.api"
FAILOVER_ROLE = {"primary": "PRIMARY", "secondary": "SECONDARY"}


@blueprint
def api_domain(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    name = api_domain_name(spec)
    yield Node(
        "aws_api_gateway_domain_name",
        "api",
        workspace,
        {
            "domain_name": name,
            "endpoint_configuration": [{"types": ["REGIONAL"]}],
            # The validation's id is known only once the certificate is ISSUED.
            "regional_certificate_arn": Ref(VALIDATION, "certificate_arn", ready=True),
            "security_policy": "TLS_1_2",
            "tags": {"Name": name},
        },
    )
    yield Output("api_domain_name", workspace, name, "The API's name, shared by both regions")
    yield Output(
        "api_regional_domain_name",
        workspace,
        Ref(DOMAIN_NAME, "regional_domain_name"),
        "This region's target of the failover record",
    )
    yield Node(
        "aws_api_gateway_base_path_mapping",
        "api",
        workspace,
        {
            "domain_name": Ref(DOMAIN_NAME, "domain_name"),
            "api_id": api_ref("id"),
            "stage_name": stage_ref("stage_name"),
        },
    )
    yield Node(
        "aws_route53_record",
        "api_failover",
        workspace,
        {
            "zone_id": zone_id_ref(spec, workspace),
            "name": absolute(name),
            "type": "A",
            "set_identifier": workspace,
            "failover_routing_policy": [{"type": FAILOVER_ROLE[workspace]}],
            "health_check_id": Ref(HEALTH_CHECK, "id"),
            "alias": [
                {
                    "name": Ref(DOMAIN_NAME, "regional_domain_name"),
                    "zone_id": Ref(DOMAIN_NAME, "regional_zone_id"),
                    "evaluate_target_health": True,
                }
            ],
        },
    )
