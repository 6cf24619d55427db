"""Route 53 (emulator/route53.py): health status computed from the API's data plane, Inverted and
Disabled, HealthCheckVersion, GetHealthCheckLastFailureReason and TestDNSAnswer's failover."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.dataplane_routes import DataPlaneHandler
from emulator.route53 import DEFAULT_CHECKER_REGIONS
from tests.conftest import Deployment
from tests.emulator.apis import echo_api

REGION = "eu-west-1"


def route53(endpoint: str | None = None) -> Any:
    return boto3.client("route53", region_name="us-east-1", endpoint_url=endpoint)


def health_check(client: Any, fqdn: str, path: str = "/prod/items/health", **extra: Any) -> str:
    config = {
        "Type": "HTTPS",
        "FullyQualifiedDomainName": fqdn,
        "Port": 443,
        "ResourcePath": path,
        **extra,
    }
    return str(
        client.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig=config)[
            "HealthCheck"
        ]["Id"]
    )


def statuses(client: Any, health_check_id: str) -> list[str]:
    observations = client.get_health_check_status(HealthCheckId=health_check_id)[
        "HealthCheckObservations"
    ]
    return [o["StatusReport"]["Status"] for o in observations]


def set_status(status: int, endpoint: str | None = None) -> None:
    boto3.client("lambda", region_name=REGION, endpoint_url=endpoint).update_function_configuration(
        FunctionName="echo", Environment={"Variables": {"TABLE": "echo", "STATUS": str(status)}}
    )


def test_health_is_the_apis_answer_then_inverted_then_disabled(aws: None) -> None:
    api_id = echo_api(None, REGION)
    client = route53()
    fqdn = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    check = health_check(client, fqdn)
    assert statuses(client, check) == ["Success: HTTP Status Code 202, Accepted"] * len(
        DEFAULT_CHECKER_REGIONS
    )
    regions = [
        o["Region"]
        for o in client.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"]
    ]
    assert regions == list(DEFAULT_CHECKER_REGIONS)

    set_status(503)
    assert set(statuses(client, check)) == {"Failure: HTTP Status Code 503, Service Unavailable"}
    reasons = client.get_health_check_last_failure_reason(HealthCheckId=check)
    assert {o["StatusReport"]["Status"] for o in reasons["HealthCheckObservations"]} == {
        "Failure: HTTP Status Code 503, Service Unavailable"
    }

    client.update_health_check(HealthCheckId=check, Inverted=True)
    assert all(s.startswith("Success: Inverted") for s in statuses(client, check))
    set_status(200)
    assert all(s.startswith("Failure: Inverted") for s in statuses(client, check))
    client.update_health_check(HealthCheckId=check, Disabled=True)  # always healthy
    assert all(s.startswith("Success:") for s in statuses(client, check))
    client.update_health_check(HealthCheckId=check, Disabled=False, Inverted=False)
    assert statuses(client, check)[0] == "Success: HTTP Status Code 200, OK"


def test_missing_api_failing_handler_and_other_endpoints(aws: None) -> None:
    api_id = echo_api(None, REGION)
    client = route53()
    missing = health_check(client, f"nosuchapi.execute-api.{REGION}.amazonaws.com")
    assert statuses(client, missing)[0] == "Failure: DNS resolution failed: Rcode NXDomain(3)"
    no_route = health_check(client, f"{api_id}.execute-api.{REGION}.amazonaws.com", "/prod/none")
    assert statuses(client, no_route)[0] == "Failure: HTTP Status Code 403, Forbidden"
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="echo", Handler="echo.missing"
    )
    failing = health_check(client, f"{api_id}.execute-api.{REGION}.amazonaws.com")
    assert statuses(client, failing)[0] == "Failure: HTTP Status Code 502, Bad Gateway"
    other = health_check(client, "example.com", Regions=["us-west-1", "sa-east-1", "eu-west-1"])
    observations = client.get_health_check_status(HealthCheckId=other)["HealthCheckObservations"]
    assert [o["Region"] for o in observations] == ["us-west-1", "sa-east-1", "eu-west-1"]
    assert all(o["StatusReport"]["Status"].startswith("Success") for o in observations)


def test_calculated_health_counts_its_children(aws: None) -> None:
    api_id = echo_api(None, REGION)
    client = route53()
    up = health_check(client, f"{api_id}.execute-api.{REGION}.amazonaws.com")
    down = health_check(client, f"gone.execute-api.{REGION}.amazonaws.com")
    parent = client.create_health_check(
        CallerReference="parent",
        HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": [up, down]},
    )["HealthCheck"]["Id"]
    client.update_health_check(HealthCheckId=parent, HealthThreshold=1)
    assert statuses(client, parent)[0].startswith("Success: 1 of 2")
    client.update_health_check(HealthCheckId=parent, HealthThreshold=2)
    assert statuses(client, parent)[0].startswith("Failure: 1 of 2")


def test_health_check_version_increments_and_a_stale_one_is_refused(aws: None) -> None:
    client = route53()
    check = health_check(client, "example.com")
    assert client.get_health_check(HealthCheckId=check)["HealthCheck"]["HealthCheckVersion"] == 1
    updated = client.update_health_check(HealthCheckId=check, HealthCheckVersion=1, Inverted=True)
    assert updated["HealthCheck"]["HealthCheckVersion"] == 2
    with pytest.raises(ClientError) as refused:
        client.update_health_check(HealthCheckId=check, HealthCheckVersion=1, Inverted=False)
    assert refused.value.response["Error"]["Code"] == "HealthCheckVersionMismatch"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    health = client.get_health_check(HealthCheckId=check)["HealthCheck"]
    assert (health["HealthCheckVersion"], health["HealthCheckConfig"]["Inverted"]) == (2, True)
    client.update_health_check(HealthCheckId=check, Inverted=False)  # no version: no check
    assert client.get_health_check(HealthCheckId=check)["HealthCheck"]["HealthCheckVersion"] == 3


def failover_zone(client: Any, primary_check: str, secondary_check: str) -> str:
    """A zone with a simple A record and PRIMARY/SECONDARY alias records on `api.example.com`."""
    zone = client.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()))
    zone_id = str(zone["HostedZone"]["Id"]).rsplit("/", 1)[-1]
    changes: list[dict[str, Any]] = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": "www.example.com.",
                "Type": "A",
                "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}],
            },
        }
    ]
    for role, check, region in (
        ("PRIMARY", primary_check, "us-east-1"),
        ("SECONDARY", secondary_check, "eu-west-1"),
    ):
        changes.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": "api.example.com.",
                    "Type": "A",
                    "SetIdentifier": role.lower(),
                    "Failover": role,
                    "HealthCheckId": check,
                    "AliasTarget": {
                        "HostedZoneId": "Z1UJRXOUMOOFQ8",
                        "DNSName": f"d-{role.lower()}.execute-api.{region}.amazonaws.com.",
                        "EvaluateTargetHealth": True,
                    },
                },
            }
        )
    client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return zone_id


def answer(client: Any, zone_id: str, name: str, record_type: str = "A") -> tuple[str, list[str]]:
    result = client.test_dns_answer(HostedZoneId=zone_id, RecordName=name, RecordType=record_type)
    return result["ResponseCode"], result["RecordData"]


def test_dns_answer_follows_the_primarys_health(aws: None) -> None:
    client = route53()
    primary, secondary = health_check(client, "a.example.com"), health_check(client, "b.example")
    zone_id = failover_zone(client, primary, secondary)
    assert answer(client, zone_id, "www.example.com") == ("NOERROR", ["192.0.2.1", "192.0.2.2"])
    assert answer(client, zone_id, "api.example.com.") == (
        "NOERROR",
        ["d-primary.execute-api.us-east-1.amazonaws.com"],
    )
    client.update_health_check(HealthCheckId=primary, Inverted=True)
    assert answer(client, zone_id, "api.example.com") == (
        "NOERROR",
        ["d-secondary.execute-api.eu-west-1.amazonaws.com"],
    )
    client.update_health_check(HealthCheckId=secondary, Inverted=True)  # both down: the primary
    assert answer(client, zone_id, "api.example.com")[1] == [
        "d-primary.execute-api.us-east-1.amazonaws.com"
    ]
    assert answer(client, zone_id, "missing.example.com") == ("NXDOMAIN", [])
    assert answer(client, zone_id, "www.example.com", "TXT") == ("NOERROR", [])


def test_the_stacks_failover_record_answers_the_secondary_when_the_primary_api_fails(
    deployment: Deployment,
) -> None:
    """The stack's health checks probe each region's stage; its records follow them."""
    deployment.apply(
        *(f"{ws}:aws_route53_record.api_failover" for ws in ("primary", "secondary")),
        *(f"{ws}:aws_lambda_permission.health" for ws in ("primary", "secondary")),
        *(f"{ws}:aws_api_gateway_stage.prod" for ws in ("primary", "secondary")),
        *(f"{ws}:aws_api_gateway_base_path_mapping.api" for ws in ("primary", "secondary")),
    )
    client = route53()
    zone_id = deployment.entry("primary:aws_route53_zone.main")["id"]
    name = deployment.entry("primary:aws_route53_record.api_failover")["applied"]["name"]
    regional = {}
    for ws in ("primary", "secondary"):
        domain = deployment.read(f"{ws}:aws_api_gateway_domain_name.api")
        assert domain is not None
        regional[ws] = str(domain["regional_domain_name"])
    assert answer(client, zone_id, name) == ("NOERROR", [regional["primary"]])
    # The API's own name, routed as Route 53 answers it, to the region's base path mapping.
    opener = urllib.request.build_opener(DataPlaneHandler())
    health_url = f"https://{name.rstrip('.')}/health"
    assert json.loads(opener.open(health_url, timeout=10).read())["region"] == "us-east-1"
    primary_check = deployment.entry("primary:aws_route53_health_check.api")["id"]
    assert statuses(client, primary_check)[0] == "Success: HTTP Status Code 200, OK"

    # The primary's function loses its tables: its /health answers 503.
    function = deployment.entry("primary:aws_lambda_function.payment_processor")["id"]
    boto3.client("lambda", region_name="us-east-1").update_function_configuration(
        FunctionName=function, Environment={"Variables": {"LOG_LEVEL": "INFO"}}
    )
    assert (
        statuses(client, primary_check)[0] == "Failure: HTTP Status Code 503, Service Unavailable"
    )
    assert answer(client, zone_id, name) == ("NOERROR", [regional["secondary"]])
    assert json.loads(opener.open(health_url, timeout=10).read()) == {
        "status": "ok",
        "region": "eu-west-1",
    }


# --- the server --------------------------------------------------------------------------------


def test_the_server_computes_health_and_answers_dns(emulator: str) -> None:
    api_id = echo_api(emulator, "us-west-2")
    client = route53(emulator)
    check = health_check(client, f"{api_id}.execute-api.us-west-2.amazonaws.com")
    other = health_check(client, "example.org")
    assert statuses(client, check)[0] == "Success: HTTP Status Code 202, Accepted"
    zone_id = failover_zone(client, check, other)
    assert answer(client, zone_id, "api.example.com")[1] == [
        "d-primary.execute-api.us-east-1.amazonaws.com"
    ]
    boto3.client(
        "lambda", region_name="us-west-2", endpoint_url=emulator
    ).update_function_configuration(
        FunctionName="echo", Environment={"Variables": {"TABLE": "echo", "STATUS": "500"}}
    )
    assert statuses(client, check)[0] == "Failure: HTTP Status Code 500, Internal Server Error"
    reasons = client.get_health_check_last_failure_reason(HealthCheckId=check)
    assert reasons["HealthCheckObservations"][0]["StatusReport"]["Status"].startswith("Failure")
    assert answer(client, zone_id, "api.example.com")[1] == [
        "d-secondary.execute-api.eu-west-1.amazonaws.com"
    ]
    assert answer(client, zone_id, "nothing.example.com") == ("NXDOMAIN", [])
