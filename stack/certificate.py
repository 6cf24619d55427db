"""The certificate: the API's TLS certificate in each region, DNS-validated in the zone.

A REGIONAL API Gateway domain needs its certificate in the API's own region, so each workspace
requests one for the same name. ACM derives the validation CNAME from the domain name and the
account, not the region: both certificates ask for the same record. The primary owns that
record; the secondary's validation refers to it, so destroying the secondary never removes the
record the primary's certificate needs for its automatic renewals.

The validation record's name and value are known only once ACM has made them, in the
certificate's `domain_validation_options`; `validation_option_ref` reaches a field of the first
option (the `aws_acm_certificate` driver reads each option's fields back under the key of the
equivalent HCL index expression).
"""

from __future__ import annotations

from collections.abc import Iterator

from deployer.model import Node, Ref
from deployer.resource import blueprint
from deployer.spec import Spec
from stack.dns import api_domain_name, zone_id_ref

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "route53.tf"

CERTIFICATE = "aws_acm_certificate.api"
VALIDATION = "aws_acm_certificate_validation.api"
VALIDATION_RECORD = "aws_route53_record.api_cert_validation"
VALIDATION_TTL_S = 60


def validation_option_ref(field: str, index: int = 0) -> Ref:
    """A field of one of the certificate's validation options (HCL: an index into the set).

    In HCL this is `tolist(aws_acm_certificate.api.domain_validation_options)[0].<field>`.
    """
    return Ref(CERTIFICATE, f"domain_validation_options[{index}].{field}")


@blueprint
def acm(spec: Spec, workspace: str) -> Iterator[Node]:
    yield Node(
        "aws_acm_certificate",
        "api",
        workspace,
        {
            "domain_name": api_domain_name(spec),
            "validation_method": "DNS",
            "key_algorithm": "RSA_2048",
            "options": [
                # A payment API's private key never leaves ACM.
                {"certificate_transparency_logging_preference": "ENABLED", "export": "DISABLED"}
            ],
            "tags": {"Name": spec.name("api-cert")},
        },
    )
    if workspace == "primary":
        yield Node(
            "aws_route53_record",
            "api_cert_validation",
            workspace,
            {
                "zone_id": zone_id_ref(spec, workspace),
                "name": validation_option_ref("resource_record_name"),
                "type": validation_option_ref("resource_record_type"),
                "records": [validation_option_ref("resource_record_value")],
                "ttl": VALIDATION_TTL_S,
                # The secondary's certificate asks for the very same record.
                "allow_overwrite": True,
            },
        )
    # Both certificates ask for the same record (ACM derives it from the domain and the
    # account), which the primary owns: each validation names it through its own certificate.
    record_workspace = None if workspace == "primary" else "primary"
    yield Node(
        "aws_acm_certificate_validation",
        "api",
        workspace,
        {
            "certificate_arn": Ref(CERTIFICATE, "arn"),
            "validation_record_fqdns": [validation_option_ref("resource_record_name")],
        },
        depends_on=(Ref(VALIDATION_RECORD, "id", record_workspace),),
    )
