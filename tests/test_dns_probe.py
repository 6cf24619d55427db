"""deployer/dns_probe.py against the emulator: Route 53's answer for a failover name, a health
check's status, and an HTTP probe of a stage's /health on the sandbox."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from deployer.dns_probe import (
    ProbeError,
    dns_answer,
    health_status,
    health_url,
    probe_health,
)
from emulator.dataplane_routes import DataPlaneHandler
from tests.emulator.apis import echo_api

REGION = "eu-west-1"


def _health_check(route53: Any, fqdn: str) -> str:
    return str(
        route53.create_health_check(
            CallerReference=str(uuid.uuid4()),
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": fqdn,
                "ResourcePath": "/prod/items/health",
            },
        )["HealthCheck"]["Id"]
    )


def _failover_zone(route53: Any, checks: dict[str, str]) -> str:
    zone_id = str(
        route53.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()))[
            "HostedZone"
        ]["Id"]
    )
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "api.example.com.",
                        "Type": "CNAME",
                        "TTL": 60,
                        "SetIdentifier": role,
                        "Failover": role,
                        "HealthCheckId": check,
                        "ResourceRecords": [{"Value": f"{role.lower()}.example.net"}],
                    },
                }
                for role, check in checks.items()
            ]
        },
    )
    return zone_id


def _set_status(status: int, endpoint: str | None = None) -> None:
    boto3.client("lambda", region_name=REGION, endpoint_url=endpoint).update_function_configuration(
        FunctionName="echo", Environment={"Variables": {"TABLE": "echo", "STATUS": str(status)}}
    )


def test_dns_answer_and_health_status_follow_the_primarys_api(clients: Any) -> None:
    api_id = echo_api(None, REGION)
    route53 = clients("route53", "us-east-1")
    primary = _health_check(route53, f"{api_id}.execute-api.{REGION}.amazonaws.com")
    secondary = _health_check(route53, "secondary.example.net")
    zone_id = _failover_zone(route53, {"PRIMARY": primary, "SECONDARY": secondary})

    assert health_status(route53, primary) is True
    # AWS's form of the stage URL is the one the data plane answers in-process.
    url = health_url(None, api_id, REGION, "prod", "/items/x")
    assert requests.get(url, timeout=10).status_code == 202
    in_process = urllib.request.build_opener(DataPlaneHandler())
    assert probe_health(url, opener=in_process) == 202
    assert dns_answer(clients, zone_id, "api.example.com", "CNAME") == ["primary.example.net"]
    _set_status(500)
    assert probe_health(url, opener=in_process) == 500
    assert health_status(route53, primary) is False
    assert dns_answer(clients, zone_id, "api.example.com", "CNAME") == ["secondary.example.net"]
    assert dns_answer(clients, zone_id, "api.example.com", "A") == []
    assert dns_answer(clients, zone_id, "nothing.example.com", "CNAME") == []


def _custom_domain(endpoint: str, api_id: str, name: str) -> None:
    """``name`` mapped to the stage `prod` of ``api_id`` and aliased to it in Route 53."""
    gateway = boto3.client("apigateway", region_name=REGION, endpoint_url=endpoint)
    target = gateway.create_domain_name(
        domainName=name, endpointConfiguration={"types": ["REGIONAL"]}
    )["regionalDomainName"]
    gateway.create_base_path_mapping(domainName=name, restApiId=api_id, stage="prod")
    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=endpoint)
    zone_id = route53.create_hosted_zone(Name="example.org", CallerReference="org")["HostedZone"][
        "Id"
    ]
    alias = {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": target, "EvaluateTargetHealth": False}
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {"Name": name, "Type": "A", "AliasTarget": alias},
                }
            ]
        },
    )


def test_probe_health_reads_the_status_of_a_sandbox_stage_and_name(emulator: str) -> None:
    api_id = echo_api(emulator, REGION)
    url = health_url(emulator, api_id, REGION, "prod", "/items/health")
    assert probe_health(url) == 202
    assert probe_health(health_url(emulator, api_id, REGION, "prod", "/nowhere")) == 403

    # The API's own name, which the sandbox routes as Route 53 answers it.
    by_name = f"{emulator}/items/health"
    assert probe_health(by_name, host="api.example.org") == 404  # no such name yet: moto's 404
    _custom_domain(emulator, api_id, "api.example.org")
    assert probe_health(by_name, host="api.example.org") == 202
    _set_status(503, emulator)
    assert probe_health(url) == 503
    assert probe_health(by_name, host="api.example.org") == 503


def test_probe_health_without_an_answer_is_an_error() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ProbeError, match="no answer"):
        probe_health(f"http://127.0.0.1:{port}/prod/health", timeout=2)


@pytest.mark.slow
def test_the_applied_stacks_name_fails_over_on_the_sandbox(
    fresh_emulator: str, tmp_path: Path
) -> None:
    """`deployer apply` on the sandbox, then what a drill observes: the API's name answers from
    the primary, and from the secondary once the primary's health check is inverted."""
    from deployer.aws import Clients
    from tests.test_e2e import run

    applied = run(fresh_emulator, tmp_path, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    clients = Clients(endpoint_url=fresh_emulator)
    route53 = clients("route53", "us-east-1")
    zone_id = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    checks = {
        check["HealthCheckConfig"]["FullyQualifiedDomainName"].split(".")[2]: check["Id"]
        for check in route53.list_health_checks()["HealthChecks"]
    }
    domain = clients("apigateway", "us-east-1").get_domain_names()["items"][0]["domainName"]

    def answering_region() -> str:
        (target,) = dns_answer(clients, zone_id, domain, "A")
        return str(target.split(".")[2])

    def health_by_name() -> tuple[int, str]:
        """The status probe_health sees, and the region the handler that answered runs in."""
        url = f"{fresh_emulator}/health"
        request = urllib.request.Request(url, headers={"Host": domain})
        with urllib.request.urlopen(request, timeout=10) as response:
            region = json.loads(response.read())["region"]
        return probe_health(url, host=domain), region

    assert all(health_status(route53, check) for check in checks.values())
    assert (answering_region(), health_by_name()) == ("us-east-1", (200, "us-east-1"))
    route53.update_health_check(HealthCheckId=checks["us-east-1"], Inverted=True)
    assert health_status(route53, checks["us-east-1"]) is False
    assert (answering_region(), health_by_name()) == ("eu-west-1", (200, "eu-west-1"))
    route53.update_health_check(HealthCheckId=checks["us-east-1"], Inverted=False)
    assert answering_region() == "us-east-1"
