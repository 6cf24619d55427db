"""ACM: certificates, and the wait for their validation (`aws_acm_certificate_validation`).

The validation record's name and value are known only once ACM has made them, in the
certificate's `domain_validation_options` (a set of objects in Terraform). The engine resolves a
reference to a whole attribute; so that a reference can reach a field of the first option,
`read` also returns each option's fields flattened under the key of the equivalent HCL index
expression (`domain_validation_options[0].resource_record_name`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from deployer.attributes import Attr, Block, Setter, Table
from deployer.aws import DeployerError, paginate, poll
from deployer.errors import or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging, is_ours
from deployer.waiting import delete_when_released

SERVICE = "acm"
# ACM fills in the DNS validation record a few seconds after RequestCertificate.
VALIDATION_RECORD_ASSIGNED_TIMEOUT = 5 * 60.0
# The Terraform provider's default create timeout for aws_acm_certificate_validation; ACM
# itself keeps trying for 72 hours before VALIDATION_TIMED_OUT.
CERTIFICATE_ISSUED_TIMEOUT = 75 * 60.0
CERTIFICATE_POLL_DELAY = 10.0
# After the API Gateway domain that used it is deleted, DeleteCertificate answers
# ResourceInUseException until the other service has let go of the certificate.
CERTIFICATE_RELEASE_TIMEOUT = 10 * 60.0
# Statuses from which a certificate never becomes ISSUED.
FAILED_STATUSES = frozenset({"FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"})

TAGGING = Tagging(
    "CertificateArn",
    list_call="list_tags_for_certificate",
    tag_call="add_tags_to_certificate",
    untag_call="remove_tags_from_certificate",
    keys_param="Tags",
    untag_with_pairs=True,
)
OPTIONS = Block(
    Attr(
        "certificate_transparency_logging_preference",
        "CertificateTransparencyLoggingPreference",
        default="ENABLED",
    ),
    Attr("export", "Export"),
)


def iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


@resource
class Certificate(Resource):
    type = "aws_acm_certificate"
    arn_kind = ("acm", "certificate")
    # The API's custom domain keeps the old certificate until it is switched to the new one.
    create_before_destroy = True
    tagging = TAGGING
    table = Table(
        Attr("domain_name", "DomainName", force_new=True),
        # ACM lists the domain name among the alternative names: `read` leaves it out.
        Attr(
            "subject_alternative_names",
            create="SubjectAlternativeNames",
            force_new=True,
            to_api=lambda names: sorted(names) or None,
        ),
        # Read from the validation options (one method for all of them).
        Attr("validation_method", create="ValidationMethod", force_new=True),
        # DescribeCertificate spells it RSA-2048, RequestCertificate RSA_2048.
        Attr(
            "key_algorithm",
            "KeyAlgorithm",
            force_new=True,
            from_api=lambda algorithm: str(algorithm or "").replace("-", "_") or None,
        ),
        Attr("certificate_authority_arn", "CertificateAuthorityArn", force_new=True),
        Attr(
            "options",
            "Options",
            update=Setter("UpdateCertificateOptions", "Options"),
            from_api=OPTIONS.from_api,
            to_api=OPTIONS.to_api,
        ),
        Attr("arn", "CertificateArn", computed=True),
        Attr("status", "Status", computed=True),
        Attr("type", "Type", computed=True),
        Attr("not_before", "NotBefore", computed=True, from_api=iso),
        Attr("not_after", "NotAfter", computed=True, from_api=iso),
        Attr("renewal_eligibility", "RenewalEligibility", computed=True),
        Attr("validation_emails", computed=True),
        Attr("domain_validation_options", computed=True),
        service=SERVICE,
        create_call="RequestCertificate",
        described="CertificateDetail",
        id_parameter="CertificateArn",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        acm = ctx.client(SERVICE)
        arn: str = acm.request_certificate(
            **self.table.create_parameters(desired),
            # Unique per call: botocore's retries of this very request are idempotent, while a
            # later re-create (after a delete) is not answered with the deleted certificate.
            # Adoption after a crash is `find`'s job (by tag).
            IdempotencyToken=idempotency_token(ctx),
            Tags=TAGGING.to_api(desired["tags"]),
        )["CertificateArn"]
        if desired["validation_method"] == "DNS":
            wait_for_validation_records(acm, arn)
        return arn

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        return or_none(lambda: describe_certificate(ctx.client(SERVICE), id))

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """The table's attributes, and what ACM reports per domain (validation options)."""
        cert = self.describe(ctx, id)
        if cert is None:
            return None
        options = cert.get("DomainValidationOptions") or []
        methods = {o.get("ValidationMethod") for o in options}
        return {
            "id": id,
            **self.table.read(cert),
            "subject_alternative_names": sorted(
                set(cert.get("SubjectAlternativeNames") or []) - {cert["DomainName"]}
            ),
            "validation_method": methods.pop() if len(methods) == 1 else None,
            "validation_emails": sorted(
                {e for o in options for e in o.get("ValidationEmails", [])}
            ),
            "domain_validation_options": domain_validation_options(cert),
            "tags": TAGGING.read(ctx.client(SERVICE), id),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        delete_when_released(
            lambda: ctx.client(SERVICE).delete_certificate(CertificateArn=id),
            what=f"certificate {id}",
            timeout=CERTIFICATE_RELEASE_TIMEOUT,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A certificate an interrupted create requested, by its address and identity tags."""
        acm = ctx.client(SERVICE)
        key_types = [desired.get("key_algorithm") or "RSA_2048"]
        for summary in paginate(
            acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": key_types}
        ):
            if summary.get("DomainName") != desired["domain_name"]:
                continue
            arn = summary["CertificateArn"]
            tags = TAGGING.read(acm, arn)
            if is_ours(tags, desired) and all(
                tags.get(k) == v for k, v in desired["tags"].items() if k != "Name"
            ):
                return str(arn)
        return None


@resource
class CertificateValidation(Resource):
    """Not an AWS object: the wait until the certificate is ISSUED, in Terraform's shape.

    "Creating" it describes the certificate (to check the records named can validate it) and
    waits. Terraform cannot import it (there is nothing to import); on takeover Terraform
    "creates" it, which only waits for the already issued certificate and changes nothing on
    AWS."""

    type = "aws_acm_certificate_validation"
    importable = False
    expected_seconds = 180.0
    taggable = False
    table = Table(
        Attr("certificate_arn", "CertificateArn", force_new=True),
        # As ACM names the records (with the trailing dot), which is what the node refers to.
        Attr("validation_record_fqdns", create=False, force_new=True),
        service=SERVICE,
        create_call="DescribeCertificate",
        described="CertificateDetail",
        id_parameter="CertificateArn",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        acm = ctx.client(SERVICE)
        arn: str = desired["certificate_arn"]
        check_validation_records(
            describe_certificate(acm, arn), desired.get("validation_record_fqdns")
        )
        wait_until_issued(acm, arn)
        return arn

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """Gone unless ISSUED, as in Terraform: an expired certificate needs validating again."""
        cert = or_none(lambda: describe_certificate(ctx.client(SERVICE), id))
        return cert if cert is not None and cert["Status"] == "ISSUED" else None

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        cert = self.describe(ctx, id)
        if cert is None:
            return None
        return {
            "id": id,
            "certificate_arn": id,
            "validation_record_fqdns": sorted(
                o["resource_record_name"]
                for o in domain_validation_options(cert)
                if o.get("resource_record_name")
            ),
        }

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        return None

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        arn = desired.get("certificate_arn")
        return str(arn) if arn and self.read(ctx, str(arn)) else None

    def wait_ready(self, ctx: Context, id: str) -> None:
        wait_until_issued(ctx.client(SERVICE), id)


def describe_certificate(acm: Any, arn: str) -> dict[str, Any]:
    certificate: dict[str, Any] = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    return certificate


def idempotency_token(ctx: Context) -> str:
    """ACM's token: word characters only, at most 32 of them."""
    seed = f"{ctx.node.key}/{time.time_ns()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def domain_validation_options(cert: dict[str, Any]) -> list[dict[str, str]]:
    """Terraform's `domain_validation_options`, ordered by domain for a stable index."""
    options = []
    for option in cert.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord") or {}
        if not record:
            continue
        options.append(
            {
                "domain_name": option["DomainName"],
                "resource_record_name": record["Name"],
                "resource_record_type": record["Type"],
                "resource_record_value": record["Value"],
            }
        )
    return sorted(options, key=lambda o: o["domain_name"])


def check_validation_records(cert: dict[str, Any], fqdns: list[str] | None) -> None:
    """Fail now, not after the timeout, when the records named cannot validate the certificate."""
    if not fqdns:
        return
    named = {name.rstrip(".").lower() for name in fqdns}
    needed = {
        o["resource_record_name"].rstrip(".").lower() for o in domain_validation_options(cert)
    }
    missing = sorted(needed - named)
    if missing:
        raise DeployerError(
            f"certificate {cert['CertificateArn']} is validated by the DNS record(s) "
            f"{', '.join(missing)}, which validation_record_fqdns ({', '.join(sorted(named))}) "
            "does not name"
        )


def wait_for_validation_records(acm: Any, arn: str) -> None:
    def assigned() -> bool | None:
        options = describe_certificate(acm, arn).get("DomainValidationOptions", [])
        return True if options and all(o.get("ResourceRecord") for o in options) else None

    poll(
        assigned,
        what=f"ACM to assign the DNS validation records of {arn}",
        timeout=VALIDATION_RECORD_ASSIGNED_TIMEOUT,
        delay=2.0,
    )


def wait_until_issued(acm: Any, arn: str) -> None:
    def issued() -> bool | None:
        cert = describe_certificate(acm, arn)
        status = cert["Status"]
        if status in FAILED_STATUSES:
            reason = cert.get("FailureReason", "no reason given")
            raise DeployerError(f"certificate {arn} is {status} ({reason}): it will not be issued")
        return True if status == "ISSUED" else None

    poll(
        issued,
        what=f"certificate {arn} to be issued (its DNS validation record must resolve)",
        timeout=CERTIFICATE_ISSUED_TIMEOUT,
        delay=CERTIFICATE_POLL_DELAY,
    )
