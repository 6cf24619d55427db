from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from deployer.aws import DeployerError
from deployer.graph import build_graph
from resources.route53 import caller_reference_base, parse_record_id

ZONE = "primary:aws_route53_zone.main"
ZONE_LOOKUP = "primary:data.aws_route53_zone.main"
CHECK = "primary:aws_route53_health_check.api"
SECONDARY_CHECK = "secondary:aws_route53_health_check.api"
VALIDATION_RECORD = "primary:aws_route53_record.api_cert_validation"
API = "primary:aws_api_gateway_rest_api.payments"


def zone_tags(route53: Any, zone_id: str) -> dict[str, str]:
    tag_set = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
    return {t["Key"]: t["Value"] for t in tag_set["ResourceTagSet"]["Tags"]}


def test_zone_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(ZONE)
    assert deployment.diff(ZONE) == {}
    zone_id = deployment.entry(ZONE)["id"]
    route53 = client_for("route53")
    zone = route53.get_hosted_zone(Id=zone_id)
    assert zone["HostedZone"]["Name"] == "payments.example.com."
    assert zone["HostedZone"]["Config"]["PrivateZone"] is False
    assert zone["HostedZone"]["CallerReference"].startswith("deployer-")
    tags = zone_tags(route53, zone_id)
    assert tags["deployer:address"] == "aws_route53_zone.main"
    assert tags["Name"] == "payments-zone-dev"
    live = deployment.read(ZONE)
    assert live is not None and live["name_servers"]


def test_zone_is_global_whatever_the_workspace(deployment: Any) -> None:
    _, ctx = deployment.driver_and_context(ZONE)
    assert ctx.region == "us-east-1"
    _, ctx = deployment.driver_and_context(SECONDARY_CHECK)
    assert ctx.region == "us-east-1"


def test_zone_comment_and_tags_update_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(ZONE)
    zone_id = deployment.entry(ZONE)["id"]
    node = deployment.graph.node(ZONE)
    node.attributes["comment"] = "payments zone, owned by platform"
    node.attributes["tags"]["Owner"] = "dns-team"
    assert deployment.plan(ZONE).changes[ZONE].action.value == "update"
    deployment.apply(ZONE)
    assert deployment.entry(ZONE)["id"] == zone_id
    route53 = client_for("route53")
    zone = route53.get_hosted_zone(Id=zone_id)["HostedZone"]
    assert zone["Config"]["Comment"] == "payments zone, owned by platform"
    assert zone_tags(route53, zone_id)["Owner"] == "dns-team"


def test_zone_with_foreign_records_is_not_deleted(deployment: Any, client_for: Any) -> None:
    deployment.apply(ZONE)
    zone_id = deployment.entry(ZONE)["id"]
    route53 = client_for("route53")
    foreign = {
        "Name": "www.payments.example.com.",
        "Type": "A",
        "TTL": 300,
        "ResourceRecords": [{"Value": "192.0.2.10"}],
    }
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": foreign}]},
    )
    driver, ctx = deployment.driver_and_context(ZONE)
    with pytest.raises(DeployerError, match=r"still holds 1 record.*www\.payments\.example\.com"):
        driver.delete(ctx, zone_id, None)
    assert driver.read(ctx, zone_id) is not None
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": foreign}]},
    )
    driver.delete(ctx, zone_id, None)
    assert driver.read(ctx, zone_id) is None
    driver.delete(ctx, zone_id, None)  # idempotent


def test_zone_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(ZONE)
    client_for("route53").delete_hosted_zone(Id=deployment.entry(ZONE)["id"])
    assert deployment.plan(ZONE).changes[ZONE].action.value == "create"


def test_interrupted_zone_create_is_adopted(deployment: Any, client_for: Any) -> None:
    deployment.apply(ZONE)
    entry = deployment.entry(ZONE)
    deployment.states()["primary"].record(
        "aws_route53_zone.main",
        {"type": "aws_route53_zone", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(ZONE)
    assert deployment.entry(ZONE)["id"] == entry["id"]
    assert len(client_for("route53").list_hosted_zones()["HostedZones"]) == 1


def test_an_existing_zone_is_looked_up_not_created(
    deployment: Any, spec: Any, client_for: Any
) -> None:
    route53 = client_for("route53")
    made = route53.create_hosted_zone(Name="payments.example.com", CallerReference="by-hand")
    zone_id = made["HostedZone"]["Id"].rsplit("/", 1)[-1]
    spec.dns.zone_id = zone_id
    deployment.graph = build_graph(spec)
    assert ZONE not in deployment.graph
    assert deployment.graph.node(ZONE_LOOKUP).attributes == {"zone_id": zone_id}
    deployment.apply(VALIDATION_RECORD)
    assert len(route53.list_hosted_zones()["HostedZones"]) == 1
    assert deployment.desired(VALIDATION_RECORD)["zone_id"] == zone_id
    cnames = [
        r
        for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if r["Type"] == "CNAME"
    ]
    assert len(cnames) == 1


def test_zone_lookup_finds_nothing_for_an_unknown_zone(deployment: Any, spec: Any) -> None:
    spec.dns.zone_id = "Z0000000000000000000"
    deployment.graph = build_graph(spec)
    driver, ctx = deployment.driver_and_context(ZONE_LOOKUP)
    assert driver.read(ctx, {"zone_id": "Z0000000000000000000"}) is None


def test_validation_record_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(VALIDATION_RECORD)
    assert deployment.diff(VALIDATION_RECORD) == {}
    entry = deployment.entry(VALIDATION_RECORD)
    zone_id = deployment.entry(ZONE)["id"]
    name = entry["applied"]["name"]
    assert name.startswith("_") and name.endswith(".api.payments.example.com.")
    assert entry["id"] == f"{zone_id}_{name.rstrip('.')}_CNAME"
    live = deployment.read(VALIDATION_RECORD)
    assert live is not None and live["fqdn"] == name.rstrip(".")


def test_record_ttl_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(VALIDATION_RECORD)
    record_id = deployment.entry(VALIDATION_RECORD)["id"]
    deployment.graph.node(VALIDATION_RECORD).attributes["ttl"] = 300
    assert deployment.plan(VALIDATION_RECORD).changes[VALIDATION_RECORD].action.value == "update"
    deployment.apply(VALIDATION_RECORD)
    assert deployment.entry(VALIDATION_RECORD)["id"] == record_id
    zone_id = deployment.entry(ZONE)["id"]
    sets = client_for("route53").list_resource_record_sets(HostedZoneId=zone_id)
    cnames = [r for r in sets["ResourceRecordSets"] if r["Type"] == "CNAME"]
    assert [int(c["TTL"]) for c in cnames] == [300]


def test_deleted_record_reads_as_gone(deployment: Any) -> None:
    deployment.apply(VALIDATION_RECORD)
    driver, ctx = deployment.driver_and_context(VALIDATION_RECORD)
    record_id = deployment.entry(VALIDATION_RECORD)["id"]
    driver.delete(ctx, record_id, None)
    assert driver.read(ctx, record_id) is None
    driver.delete(ctx, record_id, None)  # idempotent


def test_record_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(VALIDATION_RECORD)
    driver, ctx = deployment.driver_and_context(VALIDATION_RECORD)
    driver.delete(ctx, deployment.entry(VALIDATION_RECORD)["id"], None)
    change = deployment.plan(VALIDATION_RECORD).changes[VALIDATION_RECORD]
    assert change.action.value == "create"


@pytest.mark.parametrize(
    ("record_id", "parts"),
    [
        ("Z1_api.example.com_A", ("Z1", "api.example.com.", "A", None)),
        ("Z1_api.example.com_A_primary", ("Z1", "api.example.com.", "A", "primary")),
        ("Z1__d93.api.example.com_CNAME", ("Z1", "_d93.api.example.com.", "CNAME", None)),
        ("Z1_a_b.example.com_TXT_set_1", ("Z1", "a_b.example.com.", "TXT", "set_1")),
    ],
)
def test_record_ids_are_terraforms(record_id: str, parts: tuple[Any, ...]) -> None:
    assert parse_record_id(record_id) == parts


def test_health_check_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(CHECK)
    assert deployment.diff(CHECK) == {}
    check_id = deployment.entry(CHECK)["id"]
    api_id = deployment.entry(API)["id"]
    route53 = client_for("route53")
    check = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
    config = check["HealthCheckConfig"]
    assert config["Type"] == "HTTPS"
    assert config["FullyQualifiedDomainName"] == f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert config["ResourcePath"] == "/prod/health"
    assert config["Port"] == 443
    assert config["RequestInterval"] == 30
    assert config["FailureThreshold"] == 3
    assert config["MeasureLatency"] is True
    assert config["EnableSNI"] is True
    tag_set = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id)
    tags = {t["Key"]: t["Value"] for t in tag_set["ResourceTagSet"]["Tags"]}
    assert tags["Name"] == "payments-api-health-primary-dev"
    assert tags["Workspace"] == "primary"


def test_secondary_health_check_probes_the_secondary_api(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECONDARY_CHECK)
    api_id = deployment.entry("secondary:aws_api_gateway_rest_api.payments")["id"]
    check_id = deployment.entry(SECONDARY_CHECK)["id"]
    config = client_for("route53").get_health_check(HealthCheckId=check_id)["HealthCheck"][
        "HealthCheckConfig"
    ]
    assert config["FullyQualifiedDomainName"] == f"{api_id}.execute-api.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("attribute", "value", "config_key"),
    [
        ("resource_path", "/prod/health/deep", "ResourcePath"),
        ("failure_threshold", 5, "FailureThreshold"),
    ],
)
def test_health_check_updates_in_place(
    deployment: Any, client_for: Any, attribute: str, value: Any, config_key: str
) -> None:
    deployment.apply(CHECK)
    check_id = deployment.entry(CHECK)["id"]
    deployment.graph.node(CHECK).attributes[attribute] = value
    assert deployment.plan(CHECK).changes[CHECK].action.value == "update"
    deployment.apply(CHECK)
    assert deployment.entry(CHECK)["id"] == check_id
    check = client_for("route53").get_health_check(HealthCheckId=check_id)["HealthCheck"]
    assert check["HealthCheckConfig"][config_key] == value
    assert deployment.diff(CHECK) == {}


def test_health_check_interval_change_replaces_it(deployment: Any) -> None:
    deployment.apply(CHECK)
    deployment.graph.node(CHECK).attributes["request_interval"] = 10
    change = deployment.plan(CHECK).changes[CHECK]
    assert change.action.value == "replace"
    assert change.forces == ["request_interval"]


def test_deleted_health_check_reads_as_gone(deployment: Any) -> None:
    deployment.apply(CHECK)
    driver, ctx = deployment.driver_and_context(CHECK)
    check_id = deployment.entry(CHECK)["id"]
    driver.delete(ctx, check_id, None)
    assert driver.read(ctx, check_id) is None
    driver.delete(ctx, check_id, None)  # idempotent


def test_health_check_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(CHECK)
    old = deployment.entry(CHECK)["id"]
    client_for("route53").delete_health_check(HealthCheckId=old)
    assert deployment.plan(CHECK).changes[CHECK].action.value == "create"
    deployment.apply(CHECK)
    assert deployment.entry(CHECK)["id"] != old


def test_interrupted_health_check_create_is_adopted(deployment: Any, client_for: Any) -> None:
    deployment.apply(CHECK)
    entry = deployment.entry(CHECK)
    deployment.states()["primary"].record(
        "aws_route53_health_check.api",
        {"type": "aws_route53_health_check", "status": "creating", "applied": entry["applied"]},
    )
    deployment.apply(CHECK)
    assert deployment.entry(CHECK)["id"] == entry["id"]
    assert len(client_for("route53").list_health_checks()["HealthChecks"]) == 1


def already_exists_for(references: set[str]) -> Any:
    """Route 53's answer to a CallerReference it has seen (moto does not remember them)."""

    def answer(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        body = params["body"].decode() if isinstance(params["body"], bytes) else params["body"]
        if not any(f"<CallerReference>{r}</CallerReference>" in body for r in references):
            return None
        error = {"Error": {"Code": "HealthCheckAlreadyExists", "Message": "exists"}}
        return SimpleNamespace(status_code=409, headers={}), error

    return answer


def test_health_check_skips_the_reference_of_a_deleted_check(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(API)
    _, ctx = deployment.driver_and_context(CHECK)
    base = caller_reference_base(ctx)
    route53 = client_for("route53")
    route53.meta.events.register(
        "before-call.route53.CreateHealthCheck", already_exists_for({f"{base}-0"})
    )
    deployment.apply(CHECK)
    check_id = deployment.entry(CHECK)["id"]
    check = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
    assert check["CallerReference"] == f"{base}-1"


def test_health_check_adopts_the_check_its_reference_made(deployment: Any, client_for: Any) -> None:
    deployment.apply(API)
    _, ctx = deployment.driver_and_context(CHECK)
    base = caller_reference_base(ctx)
    route53 = client_for("route53")
    earlier = route53.create_health_check(
        CallerReference=f"{base}-0",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "old.example.com",
            "RequestInterval": 30,
            "MeasureLatency": True,
        },
    )["HealthCheck"]["Id"]
    route53.meta.events.register(
        "before-call.route53.CreateHealthCheck", already_exists_for({f"{base}-0"})
    )
    deployment.apply(CHECK)
    assert deployment.entry(CHECK)["id"] == earlier
    assert deployment.diff(CHECK) == {}
    assert len(route53.list_health_checks()["HealthChecks"]) == 1


FAILOVER = "primary:aws_route53_record.api_failover"
SECONDARY_FAILOVER = "secondary:aws_route53_record.api_failover"


def failover_records(route53: Any, zone_id: str) -> dict[str, dict[str, Any]]:
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r for r in sets if r["Type"] == "A"}


def test_failover_records_point_each_region_at_its_domain(deployment: Any, client_for: Any) -> None:
    deployment.apply(FAILOVER, SECONDARY_FAILOVER)
    assert deployment.diff(FAILOVER) == {}
    assert deployment.diff(SECONDARY_FAILOVER) == {}
    zone_id = deployment.entry(ZONE)["id"]
    assert deployment.entry(FAILOVER)["id"] == f"{zone_id}_api.payments.example.com_A_primary"
    records = failover_records(client_for("route53"), zone_id)
    assert sorted(records) == ["primary", "secondary"]
    for workspace, region, role in (
        ("primary", "us-east-1", "PRIMARY"),
        ("secondary", "eu-west-1", "SECONDARY"),
    ):
        record = records[workspace]
        domain = client_for("apigateway", region).get_domain_name(
            domainName="api.payments.example.com"
        )
        assert record["Name"] == "api.payments.example.com."
        assert record["Failover"] == role
        assert (
            record["HealthCheckId"]
            == deployment.entry(f"{workspace}:aws_route53_health_check.api")["id"]
        )
        alias = record["AliasTarget"]
        assert alias["DNSName"].rstrip(".") == domain["regionalDomainName"]
        assert alias["HostedZoneId"] == domain["regionalHostedZoneId"]
        assert alias["EvaluateTargetHealth"] is True


def test_failover_target_health_evaluation_updates_in_place(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(FAILOVER)
    record_id = deployment.entry(FAILOVER)["id"]
    deployment.graph.node(FAILOVER).attributes["alias"][0]["evaluate_target_health"] = False
    assert deployment.plan(FAILOVER).changes[FAILOVER].action.value == "update"
    deployment.apply(FAILOVER)
    assert deployment.entry(FAILOVER)["id"] == record_id
    zone_id = deployment.entry(ZONE)["id"]
    record = failover_records(client_for("route53"), zone_id)["primary"]
    assert record["AliasTarget"]["EvaluateTargetHealth"] is False
    assert record["Failover"] == "PRIMARY"
    assert deployment.diff(FAILOVER) == {}


def test_failover_record_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(FAILOVER)
    zone_id = deployment.entry(ZONE)["id"]
    route53 = client_for("route53")
    record = failover_records(route53, zone_id)["primary"]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
    )
    assert deployment.plan(FAILOVER).changes[FAILOVER].action.value == "create"


# --- provider defaults -----------------------------------------------------------------------


def test_a_defaulted_zone_comment_changed_outside_is_put_back(
    deployment: Any, client_for: Any
) -> None:
    """Unset, a zone's comment is the provider's default; changed behind our back, it is
    planned back in place and apply heals it."""
    from resources.route53 import HostedZone

    default = HostedZone.table.rows["comment"].default
    del deployment.graph.node(ZONE).attributes["comment"]
    deployment.apply(ZONE)
    zone_id = deployment.entry(ZONE)["id"]
    route53 = client_for("route53")
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Config"]["Comment"] == default
    route53.update_hosted_zone_comment(Id=zone_id, Comment="changed by hand")
    change = deployment.plan(ZONE).changes[ZONE]
    assert change.action.value == "update"
    assert change.diffs == {"comment": ("changed by hand", default)}
    deployment.apply(ZONE)
    assert deployment.entry(ZONE)["id"] == zone_id
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Config"]["Comment"] == default
    assert deployment.diff(ZONE) == {}


def test_a_health_check_disabled_outside_is_enabled_again(deployment: Any, client_for: Any) -> None:
    """`disabled` defaults to false: a check disabled behind our back is an in-place update."""
    deployment.apply(CHECK)
    check_id = deployment.entry(CHECK)["id"]
    route53 = client_for("route53")
    route53.update_health_check(HealthCheckId=check_id, Disabled=True)
    change = deployment.plan(CHECK).changes[CHECK]
    assert change.action.value == "update"
    assert change.diffs == {"disabled": (True, False)}
    deployment.apply(CHECK)
    assert deployment.entry(CHECK)["id"] == check_id
    check = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
    assert check["HealthCheckConfig"]["Disabled"] is False
    assert deployment.diff(CHECK) == {}


def test_a_setting_the_node_drops_is_reset(deployment: Any, client_for: Any) -> None:
    """UpdateHealthCheck keeps what it is not sent: a resettable setting the node no longer
    sets goes in `ResetElements` with the next update (moto ignores the reset: the request is
    what is checked)."""
    deployment.apply(CHECK)
    route53 = client_for("route53")
    sent: list[dict[str, Any]] = []
    route53.meta.events.register(
        "provide-client-params.route53.UpdateHealthCheck",
        lambda params, **_: sent.append(dict(params)),
    )
    attributes = deployment.graph.node(CHECK).attributes
    del attributes["resource_path"]
    attributes["failure_threshold"] = 5
    deployment.apply(CHECK)
    (request,) = sent
    assert request["ResetElements"] == ["ResourcePath"]
    assert request["FailureThreshold"] == 5
