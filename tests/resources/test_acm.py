from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from deployer.aws import DeployerError

CERT = "primary:aws_acm_certificate.api"
VALIDATION = "primary:aws_acm_certificate_validation.api"
RECORD = "primary:aws_route53_record.api_cert_validation"
ZONE = "primary:aws_route53_zone.main"
SECONDARY_CERT = "secondary:aws_acm_certificate.api"
SECONDARY_VALIDATION = "secondary:aws_acm_certificate_validation.api"
API_NAME = "api.payments.example.com"


def stub_response(client: Any, operation: str, parsed: dict[str, Any], status: int = 200) -> None:
    """Answer every call of `operation` with `parsed` (botocore still validates the request)."""

    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=status, headers={}), parsed

    client.meta.events.register(
        f"before-call.{client.meta.service_model.service_name}.{operation}", answer
    )


def cname_records(route53: Any, zone_id: str) -> list[dict[str, Any]]:
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [r for r in sets if r["Type"] == "CNAME"]


def test_certificate_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(CERT)
    assert deployment.diff(CERT) == {}
    arn = deployment.entry(CERT)["id"]
    cert = client_for("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["DomainName"] == API_NAME
    assert cert["DomainValidationOptions"][0]["ValidationMethod"] == "DNS"
    assert cert["DomainValidationOptions"][0]["ResourceRecord"]["Type"] == "CNAME"
    assert cert["Options"]["CertificateTransparencyLoggingPreference"] == "ENABLED"
    tags = {
        t["Key"]: t["Value"]
        for t in client_for("acm").list_tags_for_certificate(CertificateArn=arn)["Tags"]
    }
    assert tags["deployer:address"] == "aws_acm_certificate.api"
    assert tags["Name"] == "payments-api-cert-dev"
    live = deployment.read(CERT)
    assert live is not None
    record = cert["DomainValidationOptions"][0]["ResourceRecord"]
    assert live["domain_validation_options"][0]["resource_record_name"] == record["Name"]
    assert live["domain_validation_options"] == [
        {
            "domain_name": API_NAME,
            "resource_record_name": record["Name"],
            "resource_record_type": "CNAME",
            "resource_record_value": record["Value"],
        }
    ]


def test_validation_issues_the_certificate_through_its_cname(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(VALIDATION)
    arn = deployment.entry(CERT)["id"]
    assert deployment.entry(VALIDATION)["id"] == arn
    assert deployment.diff(VALIDATION) == {}
    cert = client_for("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["Status"] == "ISSUED"
    record = cert["DomainValidationOptions"][0]["ResourceRecord"]
    zone_id = deployment.entry(ZONE)["id"]
    cnames = cname_records(client_for("route53"), zone_id)
    assert [(c["Name"], c["ResourceRecords"][0]["Value"], c["TTL"]) for c in cnames] == [
        (record["Name"], record["Value"], 60)
    ]


def test_secondary_certificate_is_regional_and_reuses_the_primary_record(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(SECONDARY_VALIDATION)
    arn = deployment.entry(SECONDARY_CERT)["id"]
    assert ":eu-west-1:" in arn
    cert = client_for("acm", "eu-west-1").describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["Status"] == "ISSUED"
    in_primary_region = client_for("acm").list_certificates()["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in in_primary_region] == [deployment.entry(CERT)["id"]]
    # ACM's validation record depends on the name and the account only: one record serves both.
    assert "secondary:aws_route53_record.api_cert_validation" not in deployment.graph
    zone_id = deployment.entry(ZONE)["id"]
    assert len(cname_records(client_for("route53"), zone_id)) == 1
    assert deployment.diff(SECONDARY_VALIDATION) == {}


def test_certificate_tags_update_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(CERT)
    arn = deployment.entry(CERT)["id"]
    deployment.graph.node(CERT).attributes["tags"]["Owner"] = "payments-oncall"
    assert deployment.plan(CERT).changes[CERT].action.value == "update"
    deployment.apply(CERT)
    assert deployment.entry(CERT)["id"] == arn
    tags = client_for("acm").list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert {"Key": "Owner", "Value": "payments-oncall"} in tags


def test_certificate_domain_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(CERT)
    deployment.graph.node(CERT).attributes["domain_name"] = "pay.payments.example.com"
    change = deployment.plan(CERT).changes[CERT]
    assert change.action.value == "replace"
    assert change.forces == ["domain_name"]


def test_deleted_certificate_reads_as_gone(deployment: Any) -> None:
    deployment.apply(CERT)
    driver, ctx = deployment.driver_and_context(CERT)
    arn = deployment.entry(CERT)["id"]
    driver.delete(ctx, arn, None)
    assert driver.read(ctx, arn) is None
    driver.delete(ctx, arn, None)  # idempotent


def test_certificate_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(CERT)
    arn = deployment.entry(CERT)["id"]
    client_for("acm").delete_certificate(CertificateArn=arn)
    assert deployment.plan(CERT).changes[CERT].action.value == "create"
    deployment.apply(CERT)
    assert deployment.entry(CERT)["id"] != arn


def test_delete_waits_while_another_service_holds_the_certificate(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(CERT)
    driver, ctx = deployment.driver_and_context(CERT)
    acm = client_for("acm")
    attempts: list[str] = []

    def in_use_once(**_: Any) -> tuple[Any, dict[str, Any]] | None:
        attempts.append("delete")
        if len(attempts) > 1:
            return None
        error = {"Error": {"Code": "ResourceInUseException", "Message": "in use by apigateway"}}
        return SimpleNamespace(status_code=400, headers={}), error

    acm.meta.events.register("before-call.acm.DeleteCertificate", in_use_once)
    arn = deployment.entry(CERT)["id"]
    driver.delete(ctx, arn, None)
    assert len(attempts) == 2
    assert driver.read(ctx, arn) is None


def test_interrupted_create_adopts_the_tagged_certificate(deployment: Any, client_for: Any) -> None:
    deployment.apply(CERT)
    entry = deployment.entry(CERT)
    deployment.states()["primary"].record(
        "aws_acm_certificate.api",
        {"type": "aws_acm_certificate", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(CERT)
    assert deployment.entry(CERT)["id"] == entry["id"]
    assert len(client_for("acm").list_certificates()["CertificateSummaryList"]) == 1


def test_validation_refuses_records_that_cannot_validate(deployment: Any) -> None:
    deployment.apply(CERT)
    driver, ctx = deployment.driver_and_context(VALIDATION)
    arn = deployment.entry(CERT)["id"]
    with pytest.raises(DeployerError, match="does not name"):
        driver.create(ctx, {"certificate_arn": arn, "validation_record_fqdns": ["_x.example.com"]})


def test_validation_stops_on_a_failed_certificate(deployment: Any, client_for: Any) -> None:
    deployment.apply(CERT)
    driver, ctx = deployment.driver_and_context(VALIDATION)
    arn = deployment.entry(CERT)["id"]
    failed = {
        "Certificate": {
            "CertificateArn": arn,
            "DomainName": API_NAME,
            "Status": "FAILED",
            "FailureReason": "CAA_ERROR",
        }
    }
    stub_response(client_for("acm"), "DescribeCertificate", failed)
    with pytest.raises(DeployerError, match=r"FAILED.*CAA_ERROR"):
        driver.create(ctx, {"certificate_arn": arn, "validation_record_fqdns": []})


def test_validation_of_an_unissued_certificate_reads_as_gone(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(VALIDATION)
    arn = deployment.entry(CERT)["id"]
    pending = {"Certificate": {"CertificateArn": arn, "Status": "PENDING_VALIDATION"}}
    stub_response(client_for("acm"), "DescribeCertificate", pending)
    driver, ctx = deployment.driver_and_context(VALIDATION)
    assert driver.read(ctx, arn) is None


def test_transparency_logging_changes_in_place(deployment: Any, client_for: Any) -> None:
    """moto has no UpdateCertificateOptions: the planned action and the call AWS would receive
    (validated by botocore) are checked."""
    deployment.apply(CERT)
    arn = deployment.entry(CERT)["id"]
    options = [{"certificate_transparency_logging_preference": "DISABLED", "export": "DISABLED"}]
    deployment.graph.node(CERT).attributes["options"] = options
    assert deployment.plan(CERT).changes[CERT].action.value == "update"
    acm = client_for("acm")
    sent: list[dict[str, Any]] = []
    acm.meta.events.register(
        "provide-client-params.acm.UpdateCertificateOptions",
        lambda params, **_: sent.append(dict(params)),
    )
    stub_response(acm, "UpdateCertificateOptions", {})
    driver, ctx = deployment.driver_and_context(CERT)
    live = deployment.read(CERT)
    assert live is not None
    driver.update(ctx, arn, {**deployment.desired(CERT), "options": options}, live)
    assert sent == [
        {
            "CertificateArn": arn,
            "Options": {
                "CertificateTransparencyLoggingPreference": "DISABLED",
                "Export": "DISABLED",
            },
        }
    ]
