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

from deployer.aws import (
    DeployerError,
    error_code,
    is_not_found,
    paginate,
    poll,
    retry_while,
    tag_changes,
    tag_dict,
    tag_list,
    user_tags,
)
from deployer.graph import ADDRESS_TAG
from deployer.resource import Context, Resource, resource

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


@resource
class Certificate(Resource):
    type = "aws_acm_certificate"
    arn_kind = ("acm", "certificate")
    # The API's custom domain keeps the old certificate until it is switched to the new one.
    create_before_destroy = True
    force_new = frozenset(
        {
            "domain_name",
            "subject_alternative_names",
            "validation_method",
            "key_algorithm",
            "certificate_authority_arn",
        }
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        acm = ctx.client("acm")
        params: dict[str, Any] = {
            "DomainName": desired["domain_name"],
            "ValidationMethod": desired["validation_method"],
            # Unique per call: botocore's retries of this very request are idempotent, while a
            # later re-create (after a delete) is not answered with the deleted certificate.
            # Adoption after a crash is `find`'s job (by tag).
            "IdempotencyToken": idempotency_token(ctx),
            "Tags": tag_list(desired["tags"]),
        }
        if desired.get("key_algorithm"):
            params["KeyAlgorithm"] = desired["key_algorithm"]
        if desired.get("subject_alternative_names"):
            params["SubjectAlternativeNames"] = sorted(desired["subject_alternative_names"])
        options = certificate_options(desired)
        if options:
            params["Options"] = options
        arn: str = acm.request_certificate(**params)["CertificateArn"]
        if desired["validation_method"] == "DNS":
            wait_for_validation_records(acm, arn)
        return arn

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        acm = ctx.client("acm")
        try:
            cert = acm.describe_certificate(CertificateArn=id)["Certificate"]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        tags = tag_dict(acm.list_tags_for_certificate(CertificateArn=id).get("Tags"))
        options = cert.get("Options") or {}
        dvos = domain_validation_options(cert)
        methods = {o.get("ValidationMethod") for o in cert.get("DomainValidationOptions", [])}
        return {
            "id": cert["CertificateArn"],
            "arn": cert["CertificateArn"],
            "domain_name": cert["DomainName"],
            "subject_alternative_names": sorted(
                set(cert.get("SubjectAlternativeNames", [])) - {cert["DomainName"]}
            ),
            "validation_method": methods.pop() if len(methods) == 1 else None,
            # DescribeCertificate spells it RSA-2048, RequestCertificate RSA_2048.
            "key_algorithm": str(cert.get("KeyAlgorithm", "")).replace("-", "_") or None,
            "status": cert["Status"],
            "type": cert.get("Type"),
            "certificate_authority_arn": cert.get("CertificateAuthorityArn"),
            "not_before": iso(cert.get("NotBefore")),
            "not_after": iso(cert.get("NotAfter")),
            "renewal_eligibility": cert.get("RenewalEligibility"),
            "validation_emails": sorted(
                {
                    e
                    for o in cert.get("DomainValidationOptions", [])
                    for e in o.get("ValidationEmails", [])
                }
            ),
            "options": [
                {
                    "certificate_transparency_logging_preference": options.get(
                        "CertificateTransparencyLoggingPreference"
                    ),
                    "export": options.get("Export"),
                }
            ],
            "domain_validation_options": dvos,
            "tags": user_tags(tags),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        acm = ctx.client("acm")
        wanted = desired.get("options") or []
        preference = (
            wanted[0].get("certificate_transparency_logging_preference") if wanted else None
        )
        have = (live.get("options") or [{}])[0].get("certificate_transparency_logging_preference")
        if preference and preference != have:
            acm.update_certificate_options(
                CertificateArn=id, Options={"CertificateTransparencyLoggingPreference": preference}
            )
        to_set, to_remove = tag_changes(desired["tags"], live.get("tags"))
        if to_set:
            acm.add_tags_to_certificate(CertificateArn=id, Tags=tag_list(to_set))
        if to_remove:
            acm.remove_tags_from_certificate(
                CertificateArn=id, Tags=[{"Key": key} for key in to_remove]
            )

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        acm = ctx.client("acm")

        def remove() -> None:
            try:
                acm.delete_certificate(CertificateArn=id)
            except Exception as exc:
                if not is_not_found(exc):
                    raise

        retry_while(
            remove,
            retryable=lambda exc: error_code(exc) == "ResourceInUseException",
            timeout=CERTIFICATE_RELEASE_TIMEOUT,
            first_delay=5.0,
        )

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        """A certificate an interrupted create requested, by its address and identity tags."""
        acm = ctx.client("acm")
        key_types = [desired.get("key_algorithm") or "RSA_2048"]
        for summary in paginate(
            acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": key_types}
        ):
            if summary.get("DomainName") != desired["domain_name"]:
                continue
            arn = summary["CertificateArn"]
            tags = tag_dict(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags"))
            if tags.get(ADDRESS_TAG) == ctx.node.address and all(
                tags.get(k) == v for k, v in desired["tags"].items() if k != "Name"
            ):
                return str(arn)
        return None


@resource
class CertificateValidation(Resource):
    """Not an AWS object: the wait until the certificate is ISSUED, in Terraform's shape.

    Terraform cannot import it (there is nothing to import); on takeover Terraform "creates"
    it, which only waits for the already issued certificate and changes nothing on AWS."""

    type = "aws_acm_certificate_validation"
    importable = False
    expected_seconds = 180.0
    taggable = False
    force_new = frozenset({"certificate_arn", "validation_record_fqdns"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        acm = ctx.client("acm")
        arn: str = desired["certificate_arn"]
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        check_validation_records(cert, desired.get("validation_record_fqdns"))
        wait_until_issued(acm, arn)
        return arn

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """Gone unless ISSUED, as in Terraform: an expired certificate needs validating again."""
        try:
            cert = ctx.client("acm").describe_certificate(CertificateArn=id)["Certificate"]
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        if cert["Status"] != "ISSUED":
            return None
        return {
            "id": id,
            "certificate_arn": id,
            # As ACM names them (with the trailing dot), which is what the node refers to.
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
        wait_until_issued(ctx.client("acm"), id)


def idempotency_token(ctx: Context) -> str:
    """ACM's token: word characters only, at most 32 of them."""
    seed = f"{ctx.node.key}/{time.time_ns()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def certificate_options(desired: dict[str, Any]) -> dict[str, str]:
    block = (desired.get("options") or [{}])[0]
    options: dict[str, str] = {}
    if block.get("certificate_transparency_logging_preference"):
        options["CertificateTransparencyLoggingPreference"] = block[
            "certificate_transparency_logging_preference"
        ]
    if block.get("export"):
        options["Export"] = block["export"]
    return options


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
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        options = cert.get("DomainValidationOptions", [])
        return True if options and all(o.get("ResourceRecord") for o in options) else None

    poll(
        assigned,
        what=f"ACM to assign the DNS validation records of {arn}",
        timeout=VALIDATION_RECORD_ASSIGNED_TIMEOUT,
        delay=2.0,
    )


def wait_until_issued(acm: Any, arn: str) -> None:
    def issued() -> bool | None:
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
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


def iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
