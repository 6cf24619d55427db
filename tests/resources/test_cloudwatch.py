from __future__ import annotations

import json
from typing import Any

LATENCY = "primary:aws_cloudwatch_metric_alarm.api_latency_p99"
READ_THROTTLES = "primary:aws_cloudwatch_metric_alarm.dynamodb_read_throttles"
HEALTH = "primary:aws_cloudwatch_metric_alarm.api_health"
SECONDARY_HEALTH = "secondary:aws_cloudwatch_metric_alarm.api_health"
REPLICA_LAG = "secondary:aws_cloudwatch_metric_alarm.rds_replica_lag"
PRIMARY_CPU = "primary:aws_cloudwatch_metric_alarm.rds_cpu"
DASHBOARD = "primary:aws_cloudwatch_dashboard.main"
SECONDARY_DASHBOARD = "secondary:aws_cloudwatch_dashboard.main"


def alarm(cloudwatch: Any, name: str) -> dict[str, Any] | None:
    found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0] if found else None


def dimensions(live: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in live["Dimensions"]}


def test_throttle_alarm_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(READ_THROTTLES)
    assert deployment.diff(READ_THROTTLES) == {}
    assert deployment.entry(READ_THROTTLES)["id"] == "payments-dynamodb-read-throttles-primary-dev"
    cloudwatch = client_for("cloudwatch")
    live = alarm(cloudwatch, "payments-dynamodb-read-throttles-primary-dev")
    assert live is not None
    assert (live["Namespace"], live["MetricName"]) == ("AWS/DynamoDB", "ReadThrottleEvents")
    assert dimensions(live) == {"TableName": "payments-transactions-dev"}
    assert live["Statistic"] == "Sum"
    assert live["TreatMissingData"] == "notBreaching"
    topic_arn = deployment.entry("primary:aws_sns_topic.alarms")["id"]
    assert live["AlarmActions"] == [topic_arn]
    assert live["OKActions"] == [topic_arn]
    tags = cloudwatch.list_tags_for_resource(ResourceARN=live["AlarmArn"])["Tags"]
    assert {
        "Key": "deployer:address",
        "Value": "aws_cloudwatch_metric_alarm.dynamodb_read_throttles",
    } in tags


def test_latency_alarm_uses_the_p99_extended_statistic(deployment: Any, client_for: Any) -> None:
    deployment.apply(LATENCY)
    assert deployment.diff(LATENCY) == {}
    live = alarm(client_for("cloudwatch"), deployment.entry(LATENCY)["id"])
    assert live is not None
    assert live["ExtendedStatistic"] == "p99"
    assert "Statistic" not in live
    assert live["Threshold"] == 2000
    api_id = deployment.entry("primary:aws_api_gateway_rest_api.payments")["id"]
    api_name = client_for("apigateway").get_rest_api(restApiId=api_id)["name"]
    assert dimensions(live) == {"ApiName": api_name, "Stage": "prod"}


def test_replica_lag_alarm_watches_the_replica_in_the_secondary_region(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(REPLICA_LAG)
    assert deployment.diff(REPLICA_LAG) == {}
    name = deployment.entry(REPLICA_LAG)["id"]
    live = alarm(client_for("cloudwatch", "eu-west-1"), name)
    assert live is not None
    assert ":eu-west-1:" in live["AlarmArn"]
    assert (live["Namespace"], live["MetricName"]) == ("AWS/RDS", "ReplicaLag")
    assert dimensions(live) == {"DBInstanceIdentifier": "payments-db-replica-dev"}
    assert live["Threshold"] == 300
    assert live["ComparisonOperator"] == "GreaterThanThreshold"
    assert live["AlarmActions"] == [deployment.entry("secondary:aws_sns_topic.alarms")["id"]]
    assert alarm(client_for("cloudwatch"), name) is None


def test_rds_alarms_watch_the_primary_instance_in_the_primary(
    deployment: Any, client_for: Any
) -> None:
    deployment.apply(PRIMARY_CPU)
    live = alarm(client_for("cloudwatch"), deployment.entry(PRIMARY_CPU)["id"])
    assert live is not None
    assert dimensions(live) == {"DBInstanceIdentifier": "payments-db-dev"}
    assert "primary:aws_cloudwatch_metric_alarm.rds_replica_lag" not in deployment.graph


def test_health_check_alarms_live_in_us_east_1(deployment: Any, client_for: Any) -> None:
    deployment.apply(HEALTH, SECONDARY_HEALTH)
    assert deployment.diff(SECONDARY_HEALTH) == {}
    east, west = client_for("cloudwatch"), client_for("cloudwatch", "eu-west-1")
    primary_topic = deployment.entry("primary:aws_sns_topic.alarms")["id"]
    for workspace in ("primary", "secondary"):
        name = f"payments-api-health-{workspace}-dev"
        live = alarm(east, name)
        assert live is not None, name
        assert (live["Namespace"], live["MetricName"]) == ("AWS/Route53", "HealthCheckStatus")
        check_id = deployment.entry(f"{workspace}:aws_route53_health_check.api")["id"]
        assert dimensions(live) == {"HealthCheckId": check_id}
        assert live["ComparisonOperator"] == "LessThanThreshold"
        # An alarm notifies a topic of its own region: the primary's, in us-east-1.
        assert live["AlarmActions"] == [primary_topic]
        assert alarm(west, name) is None
    assert deployment.graph.node(SECONDARY_HEALTH).attributes["region"] == "us-east-1"
    assert "region" not in deployment.graph.node(HEALTH).attributes


def test_alarm_threshold_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(READ_THROTTLES)
    name = deployment.entry(READ_THROTTLES)["id"]
    deployment.graph.node(READ_THROTTLES).attributes["threshold"] = 10
    change = deployment.plan(READ_THROTTLES).changes[READ_THROTTLES]
    assert change.action.value == "update"
    assert sorted(change.diffs) == ["threshold"]
    deployment.apply(READ_THROTTLES)
    cloudwatch = client_for("cloudwatch")
    live = alarm(cloudwatch, name)
    assert live is not None and live["Threshold"] == 10
    # The rest of the definition survives the put, and so do the tags.
    assert live["AlarmActions"] == [deployment.entry("primary:aws_sns_topic.alarms")["id"]]
    tags = cloudwatch.list_tags_for_resource(ResourceARN=live["AlarmArn"])["Tags"]
    assert {"Key": "Name", "Value": name} in tags
    assert deployment.diff(READ_THROTTLES) == {}


def test_alarm_tags_update_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(READ_THROTTLES)
    tags = deployment.graph.node(READ_THROTTLES).attributes["tags"]
    tags["Severity"] = "page"
    del tags["Owner"]
    deployment.apply(READ_THROTTLES)
    cloudwatch = client_for("cloudwatch")
    live = alarm(cloudwatch, deployment.entry(READ_THROTTLES)["id"])
    assert live is not None
    live_tags = {
        t["Key"]: t["Value"]
        for t in cloudwatch.list_tags_for_resource(ResourceARN=live["AlarmArn"])["Tags"]
    }
    assert live_tags["Severity"] == "page"
    assert "Owner" not in live_tags


def test_alarm_name_change_forces_replacement(deployment: Any) -> None:
    deployment.apply(READ_THROTTLES)
    deployment.graph.node(READ_THROTTLES).attributes["alarm_name"] = "renamed"
    change = deployment.plan(READ_THROTTLES).changes[READ_THROTTLES]
    assert change.action.value == "replace"


def test_deleted_alarm_reads_as_gone(deployment: Any) -> None:
    deployment.apply(READ_THROTTLES)
    driver, ctx = deployment.driver_and_context(READ_THROTTLES)
    name = deployment.entry(READ_THROTTLES)["id"]
    driver.delete(ctx, name, None)
    assert driver.read(ctx, name) is None
    driver.delete(ctx, name, None)  # idempotent


def test_alarm_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(READ_THROTTLES)
    name = deployment.entry(READ_THROTTLES)["id"]
    client_for("cloudwatch").delete_alarms(AlarmNames=[name])
    assert deployment.plan(READ_THROTTLES).changes[READ_THROTTLES].action.value == "create"
    deployment.apply(READ_THROTTLES)
    assert alarm(client_for("cloudwatch"), name) is not None


def test_dashboard_round_trip(deployment: Any, client_for: Any) -> None:
    deployment.apply(DASHBOARD)
    assert deployment.diff(DASHBOARD) == {}
    assert deployment.entry(DASHBOARD)["id"] == "payments-overview-primary-dev"
    got = client_for("cloudwatch").get_dashboard(DashboardName="payments-overview-primary-dev")
    body = json.loads(got["DashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    assert ["AWS/Lambda", "Errors", "FunctionName", "payments-payment-processor-dev"] in metrics
    assert ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "payments-db-dev"] in metrics
    assert ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", "payments-transactions-dev"] in (
        metrics
    )
    check_id = deployment.entry("primary:aws_route53_health_check.api")["id"]
    health = next(w for w in body["widgets"] if w["properties"]["title"].startswith("API health"))
    assert health["properties"]["region"] == "us-east-1"
    assert health["properties"]["metrics"] == [
        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", check_id]
    ]


def test_secondary_dashboard_shows_replica_lag(deployment: Any, client_for: Any) -> None:
    deployment.apply(SECONDARY_DASHBOARD)
    name = deployment.entry(SECONDARY_DASHBOARD)["id"]
    assert name == "payments-overview-secondary-dev"
    got = client_for("cloudwatch", "eu-west-1").get_dashboard(DashboardName=name)
    body = json.loads(got["DashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    assert ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", "payments-db-replica-dev"] in metrics
    assert body["widgets"][0]["properties"]["region"] == "eu-west-1"


def test_dashboard_body_updates_in_place(deployment: Any, client_for: Any) -> None:
    deployment.apply(DASHBOARD)
    node = deployment.graph.node(DASHBOARD)
    node.attributes["dashboard_body"].value["widgets"][0]["properties"]["title"] = "Payments"
    assert deployment.plan(DASHBOARD).changes[DASHBOARD].action.value == "update"
    deployment.apply(DASHBOARD)
    got = client_for("cloudwatch").get_dashboard(DashboardName="payments-overview-primary-dev")
    assert json.loads(got["DashboardBody"])["widgets"][0]["properties"]["title"] == "Payments"
    assert deployment.diff(DASHBOARD) == {}


def test_deleted_dashboard_reads_as_gone(deployment: Any) -> None:
    deployment.apply(DASHBOARD)
    driver, ctx = deployment.driver_and_context(DASHBOARD)
    driver.delete(ctx, "payments-overview-primary-dev", None)
    assert driver.read(ctx, "payments-overview-primary-dev") is None
    driver.delete(ctx, "payments-overview-primary-dev", None)  # idempotent


def test_dashboard_deleted_outside_is_planned_again(deployment: Any, client_for: Any) -> None:
    deployment.apply(DASHBOARD)
    client_for("cloudwatch").delete_dashboards(DashboardNames=[deployment.entry(DASHBOARD)["id"]])
    assert deployment.plan(DASHBOARD).changes[DASHBOARD].action.value == "create"


def test_alarm_actions_disabled_outside_are_enabled_again(deployment: Any, client_for: Any) -> None:
    """Unset, `actions_enabled` is the provider's default; an alarm put again behind our back
    with its actions off is planned back in place, and the rest of its definition survives."""
    from resources.cloudwatch import MetricAlarm

    default = MetricAlarm.table.rows["actions_enabled"].default
    del deployment.graph.node(READ_THROTTLES).attributes["actions_enabled"]
    deployment.apply(READ_THROTTLES)
    cloudwatch = client_for("cloudwatch")
    name = deployment.entry(READ_THROTTLES)["id"]
    live = alarm(cloudwatch, name)
    assert live is not None and live["ActionsEnabled"] is default
    definition = (
        "AlarmName", "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic",
        "Period", "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
        "AlarmActions", "OKActions",
    )  # fmt: skip
    cloudwatch.put_metric_alarm(**{k: live[k] for k in definition}, ActionsEnabled=not default)
    change = deployment.plan(READ_THROTTLES).changes[READ_THROTTLES]
    assert change.action.value == "update"
    assert change.diffs == {"actions_enabled": (not default, default)}
    deployment.apply(READ_THROTTLES)
    healed = alarm(cloudwatch, name)
    assert healed is not None and healed["ActionsEnabled"] is default
    assert healed["AlarmActions"] == live["AlarmActions"]
    assert deployment.diff(READ_THROTTLES) == {}
