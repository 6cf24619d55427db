"""The alarms: each region's CloudWatch alarms (to its alarm topic) and dashboard.

Alarms watch resources by name or identifier only; they never need what they watch to be
ready, so their references are plain (an alarm on the database is made while it is still being
created). They cover the database (CPU, free storage and, in the secondary, the replica's lag),
the function (errors, throttles), the API (5XX, p99 latency), the transactions table (throttles)
and the API's Route 53 health check. Route 53 publishes health-check metrics only in us-east-1,
so both workspaces' health-check alarms live there: the secondary's sets the resource-level
`region` and alarms to a topic in us-east-1 (the primary's).

Dashboards are global to the account (their ARN has no region), so each workspace's dashboard
name carries the workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deployer.model import Json, Node, Output, Ref
from deployer.resource import GLOBAL_REGION, blueprint
from deployer.spec import Spec
from stack.alarm_topic import topic_ref
from stack.api import api_ref, stage_ref
from stack.database import db_instance_ref
from stack.dns import HEALTH_CHECK
from stack.function import function_ref
from stack.tables import table_name_in

# The file of the Terraform export that holds this component's blocks.
TERRAFORM_FILE = "cloudwatch.tf"

# Route 53 publishes AWS/Route53 metrics in this region only.
HEALTH_METRICS_REGION = GLOBAL_REGION
GIB = 1024**3


def alarm_name(spec: Spec, workspace: str, what: str) -> str:
    """Workspace in the name: both health-check alarms share us-east-1."""
    return spec.name(what, workspace)


def dashboard_name(spec: Spec, workspace: str) -> str:
    return spec.name("overview", workspace)


def database_ref(workspace: str) -> Ref:
    """The instance this region's RDS alarms watch: the primary, or the secondary's replica."""
    return db_instance_ref("identifier", replica=workspace != "primary")


def health_alarm_actions(spec: Spec, workspace: str) -> list[Ref]:
    """The alarm topic in us-east-1, where the health-check alarm is: this workspace's or the
    primary's. A spec with neither workspace in us-east-1 has no topic there: no actions."""
    if spec.region(workspace) == HEALTH_METRICS_REGION:
        return [topic_ref()]
    if spec.region("primary") == HEALTH_METRICS_REGION:
        return [topic_ref("primary")]
    return []


@blueprint
def cloudwatch(spec: Spec, workspace: str) -> Iterator[Node | Output]:
    yield from alarms(spec, workspace)
    yield Node(
        "aws_cloudwatch_dashboard",
        "main",
        workspace,
        {
            "dashboard_name": dashboard_name(spec, workspace),
            "dashboard_body": dashboard_body(spec, workspace),
        },
    )
    yield Output(
        "dashboard_name", workspace, dashboard_name(spec, workspace), "This region's dashboard"
    )


def alarms(spec: Spec, workspace: str) -> Iterator[Node]:
    limits = spec.alarms
    database = {"DBInstanceIdentifier": database_ref(workspace)}
    function = {"FunctionName": function_ref("function_name")}
    api = {"ApiName": api_ref("name"), "Stage": stage_ref("stage_name")}
    table = {"TableName": table_name_in(spec, workspace, "transactions")}
    yield metric_alarm(
        spec, workspace, "rds_cpu", "AWS/RDS", "CPUUtilization", database,
        statistic="Average", period=300, evaluation_periods=3,
        comparison="GreaterThanThreshold", threshold=limits.rds_cpu_percent,
        description=f"Database CPU above {limits.rds_cpu_percent}% for 15 minutes",
    )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "rds_free_storage", "AWS/RDS", "FreeStorageSpace", database,
        statistic="Minimum", period=300, evaluation_periods=1,
        comparison="LessThanThreshold", threshold=limits.rds_free_storage_gb * GIB,
        description=f"Database free storage below {limits.rds_free_storage_gb} GiB",
    )  # fmt: skip
    if workspace != "primary":
        yield metric_alarm(
            spec, workspace, "rds_replica_lag", "AWS/RDS", "ReplicaLag", database,
            statistic="Maximum", period=60, evaluation_periods=5, datapoints_to_alarm=3,
            comparison="GreaterThanThreshold", threshold=limits.rds_replica_lag_seconds,
            description=(
                f"Cross-region read replica more than {limits.rds_replica_lag_seconds} s "
                "behind the primary"
            ),
            # No lag figure means replication is not running.
            treat_missing_data="breaching",
        )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "lambda_errors", "AWS/Lambda", "Errors", function,
        statistic="Sum", period=60, evaluation_periods=5, datapoints_to_alarm=2,
        comparison="GreaterThanOrEqualToThreshold", threshold=limits.lambda_errors,
        description=f"Payment function errors at or above {limits.lambda_errors} a minute",
        treat_missing_data="notBreaching",
    )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "lambda_throttles", "AWS/Lambda", "Throttles", function,
        statistic="Sum", period=60, evaluation_periods=1,
        comparison="GreaterThanOrEqualToThreshold", threshold=limits.lambda_throttles,
        description="The payment function is being throttled",
        treat_missing_data="notBreaching",
    )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "api_5xx", "AWS/ApiGateway", "5XXError", api,
        statistic="Sum", period=60, evaluation_periods=5, datapoints_to_alarm=2,
        comparison="GreaterThanOrEqualToThreshold", threshold=limits.api_5xx,
        description=f"API server errors at or above {limits.api_5xx} a minute",
        treat_missing_data="notBreaching",
    )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "api_latency_p99", "AWS/ApiGateway", "Latency", api,
        extended_statistic="p99", period=300, evaluation_periods=3,
        comparison="GreaterThanThreshold", threshold=limits.api_latency_p99_ms,
        description=f"API p99 latency above {limits.api_latency_p99_ms} ms for 15 minutes",
        treat_missing_data="notBreaching", unit="Milliseconds",
    )  # fmt: skip
    for operation in ("read", "write"):
        yield metric_alarm(
            spec, workspace, f"dynamodb_{operation}_throttles", "AWS/DynamoDB",
            f"{operation.capitalize()}ThrottleEvents", table,
            statistic="Sum", period=60, evaluation_periods=1,
            comparison="GreaterThanOrEqualToThreshold", threshold=limits.dynamodb_throttles,
            description=f"Transactions table {operation} requests are being throttled",
            treat_missing_data="notBreaching",
        )  # fmt: skip
    yield metric_alarm(
        spec, workspace, "api_health", "AWS/Route53", "HealthCheckStatus",
        {"HealthCheckId": Ref(HEALTH_CHECK, "id")},
        statistic="Minimum", period=60, evaluation_periods=3,
        comparison="LessThanThreshold", threshold=1,
        description=f"Route 53 sees the {workspace} region's API as unhealthy",
        # No data from Route 53's checkers is no evidence of health.
        treat_missing_data="breaching",
        region=HEALTH_METRICS_REGION,
        actions=health_alarm_actions(spec, workspace),
    )  # fmt: skip


def metric_alarm(
    spec: Spec,
    workspace: str,
    logical_name: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, Any],
    *,
    period: int,
    evaluation_periods: int,
    comparison: str,
    threshold: float,
    description: str,
    statistic: str | None = None,
    extended_statistic: str | None = None,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: str = "missing",
    unit: str | None = None,
    region: str | None = None,
    actions: list[Ref] | None = None,
) -> Node:
    """One alarm that notifies the topic when it fires and when it recovers."""
    name = alarm_name(spec, workspace, logical_name.replace("_", "-"))
    notify = [topic_ref()] if actions is None else actions
    attributes: dict[str, Any] = {
        "alarm_name": name,
        "alarm_description": description,
        "namespace": namespace,
        "metric_name": metric,
        "dimensions": dimensions,
        "statistic": statistic,
        "extended_statistic": extended_statistic,
        "period": period,
        "evaluation_periods": evaluation_periods,
        "datapoints_to_alarm": datapoints_to_alarm,
        "comparison_operator": comparison,
        "threshold": threshold,
        "treat_missing_data": treat_missing_data,
        "unit": unit,
        "actions_enabled": True,
        "alarm_actions": notify,
        "ok_actions": notify,
        "tags": {"Name": name},
    }
    if extended_statistic:
        attributes["evaluate_low_sample_count_percentiles"] = "ignore"
    # An alarm outside the workspace's region (the health check's) names its region itself.
    if region is not None and region != spec.region(workspace):
        attributes["region"] = region
    return Node(
        "aws_cloudwatch_metric_alarm",
        logical_name,
        workspace,
        {k: v for k, v in attributes.items() if v is not None},
    )


def dashboard_body(spec: Spec, workspace: str) -> Json:
    """The region at a glance: function, API, database, table, and the API's health check."""
    region = spec.region(workspace)
    function = function_ref("function_name")
    api_name, stage = api_ref("name"), stage_ref("stage_name")
    database = database_ref(workspace)
    table = table_name_in(spec, workspace, "transactions")
    health_check = Ref(HEALTH_CHECK, "id")
    lambda_metrics = [
        ["AWS/Lambda", metric, "FunctionName", function]
        for metric in ("Invocations", "Errors", "Throttles")
    ]
    api_metrics = [
        ["AWS/ApiGateway", metric, "ApiName", api_name, "Stage", stage]
        for metric in ("Count", "4XXError", "5XXError")
    ]
    database_metrics = [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", database]]
    if workspace != "primary":
        database_metrics.append(["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", database])
    table_metrics = [
        ["AWS/DynamoDB", metric, "TableName", table]
        for metric in (
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        )
    ]
    widgets = [
        ("Payment function", lambda_metrics, "Sum", region),
        (
            "Payment function duration p99",
            [["AWS/Lambda", "Duration", "FunctionName", function]],
            "p99",
            region,
        ),
        ("API requests and errors", api_metrics, "Sum", region),
        (
            "API latency p99",
            [["AWS/ApiGateway", "Latency", "ApiName", api_name, "Stage", stage]],
            "p99",
            region,
        ),
        ("Database", database_metrics, "Average", region),
        (
            "Database free storage",
            [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", database]],
            "Minimum",
            region,
        ),
        ("Transactions table", table_metrics, "Sum", region),
        (
            "API health (Route 53)",
            [["AWS/Route53", "HealthCheckStatus", "HealthCheckId", health_check]],
            "Minimum",
            HEALTH_METRICS_REGION,
        ),
    ]
    return Json(
        {
            "widgets": [
                {
                    "type": "metric",
                    "x": 12 * (i % 2),
                    "y": 6 * (i // 2),
                    "width": 12,
                    "height": 6,
                    "properties": {
                        "title": title,
                        "metrics": metrics,
                        "stat": stat,
                        "period": 300,
                        "region": widget_region,
                        "view": "timeSeries",
                    },
                }
                for i, (title, metrics, stat, widget_region) in enumerate(widgets)
            ]
        }
    )
