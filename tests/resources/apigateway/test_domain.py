from __future__ import annotations

from types import SimpleNamespace
from typing import Any

DOMAIN = "primary:aws_api_gateway_domain_name.api"
SECONDARY_DOMAIN = "secondary:aws_api_gateway_domain_name.api"
MAPPING = "primary:aws_api_gateway_base_path_mapping.api"
CERT = "primary:aws_acm_certificate.api"
API = "primary:aws_api_gateway_rest_api.payments"
STAGE = "primary:aws_api_gateway_stage.prod"
API_NAME = "api.payments.example.com"


def test_domain_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(DOMAIN)
    assert deployment.diff(DOMAIN) == {}
    assert deployment.entry(DOMAIN)["id"] == API_NAME
    cert_arn = deployment.entry(CERT)["id"]
    domain = client_for("apigateway").get_domain_name(domainName=API_NAME)
    assert domain["regionalCertificateArn"] == cert_arn
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert domain["securityPolicy"] == "TLS_1_2"
    assert domain["tags"]["deployer:address"] == "aws_api_gateway_domain_name.api"
    # The certificate it serves was issued before the domain was made.
    cert = client_for("acm").describe_certificate(CertificateArn=cert_arn)["Certificate"]
    assert cert["Status"] == "ISSUED"
    live = deployment.read(DOMAIN)
    assert live is not None
    assert live["regional_domain_name"] == domain["regionalDomainName"]
    assert live["regional_zone_id"] == domain["regionalHostedZoneId"]


def test_secondary_domain_uses_the_secondary_certificate(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECONDARY_DOMAIN)
    cert_arn = deployment.entry("secondary:aws_acm_certificate.api")["id"]
    domain = client_for("apigateway", "eu-west-1").get_domain_name(domainName=API_NAME)
    assert domain["regionalCertificateArn"] == cert_arn
    assert ":eu-west-1:" in cert_arn
    assert ".execute-api.eu-west-1." in domain["regionalDomainName"]


def test_security_policy_update_patches_the_domain(deployment: Any, client_for: Any) -> None:
    """moto has no UpdateDomainName: the call AWS would receive is checked (and validated)."""
    deployment.apply(DOMAIN)
    driver, ctx = deployment.driver_and_context(DOMAIN)
    apigateway = client_for("apigateway")
    sent: list[dict[str, Any]] = []

    def capture(**kwargs: Any) -> None:
        sent.append(kwargs["params"])

    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200, headers={}), {"domainName": API_NAME}

    apigateway.meta.events.register("provide-client-params.api-gateway.UpdateDomainName", capture)
    apigateway.meta.events.register("before-call.api-gateway.UpdateDomainName", answer)
    live = deployment.read(DOMAIN)
    assert live is not None
    desired = {**deployment.desired(DOMAIN), "security_policy": "TLS_1_0"}
    driver.update(ctx, API_NAME, desired, live)
    assert sent == [
        {
            "domainName": API_NAME,
            "patchOperations": [{"op": "replace", "path": "/securityPolicy", "value": "TLS_1_0"}],
        }
    ]


def test_deleted_domain_reads_as_gone(deployment: Any) -> None:
    deployment.apply(DOMAIN)
    driver, ctx = deployment.driver_and_context(DOMAIN)
    driver.delete(ctx, API_NAME, None)
    assert driver.read(ctx, API_NAME) is None
    driver.delete(ctx, API_NAME, None)  # idempotent


def test_domain_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(DOMAIN)
    client_for("apigateway").delete_domain_name(domainName=API_NAME)
    assert deployment.plan(DOMAIN).changes[DOMAIN].action.value == "create"
    deployment.apply(DOMAIN)
    assert client_for("apigateway").get_domain_name(domainName=API_NAME)["domainName"] == API_NAME


def test_interrupted_domain_create_is_adopted(deployment: Any, client_for: Any) -> None:
    deployment.apply(DOMAIN)
    entry = deployment.entry(DOMAIN)
    deployment.states()["primary"].record(
        "aws_api_gateway_domain_name.api",
        {"type": "aws_api_gateway_domain_name", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(DOMAIN)
    assert deployment.entry(DOMAIN)["id"] == API_NAME
    assert len(client_for("apigateway").get_domain_names()["items"]) == 1


def test_base_path_mapping_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(MAPPING)
    assert deployment.diff(MAPPING) == {}
    assert deployment.entry(MAPPING)["id"] == f"{API_NAME}/"
    mappings = client_for("apigateway").get_base_path_mappings(domainName=API_NAME)["items"]
    assert [(m["restApiId"], m["stage"], m["basePath"]) for m in mappings] == [
        (deployment.entry(API)["id"], "prod", "(none)")
    ]


def test_base_path_mapping_follows_a_new_stage(deployment: Any, client_for: Any) -> None:
    deployment.apply(MAPPING)
    apigateway = client_for("apigateway")
    api_id = deployment.entry(API)["id"]
    deployment_id = apigateway.get_stage(restApiId=api_id, stageName="prod")["deploymentId"]
    apigateway.create_stage(restApiId=api_id, stageName="canary", deploymentId=deployment_id)
    deployment.graph.node(MAPPING).attributes["stage_name"] = "canary"
    assert deployment.plan(MAPPING).changes[MAPPING].action.value == "update"
    deployment.apply(MAPPING)
    assert deployment.entry(MAPPING)["id"] == f"{API_NAME}/"
    mapping = apigateway.get_base_path_mapping(domainName=API_NAME, basePath="(none)")
    assert mapping["stage"] == "canary"


def test_deleted_base_path_mapping_reads_as_gone(deployment: Any) -> None:
    deployment.apply(MAPPING)
    driver, ctx = deployment.driver_and_context(MAPPING)
    mapping_id = deployment.entry(MAPPING)["id"]
    driver.delete(ctx, mapping_id, None)
    assert driver.read(ctx, mapping_id) is None
    driver.delete(ctx, mapping_id, None)  # idempotent


def test_base_path_mapping_deleted_outside_is_planned_again(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(MAPPING)
    client_for("apigateway").delete_base_path_mapping(domainName=API_NAME, basePath="(none)")
    assert deployment.plan(MAPPING).changes[MAPPING].action.value == "create"
