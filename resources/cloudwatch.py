"""CloudWatch: metric alarms and dashboards.

Dashboards are global to the account (their ARN has no region); an alarm lives in its
workspace's region unless its resource-level `region` names another (the engine then calls that
region's endpoint: the health-check alarms live in us-east-1, where Route 53's metrics are).

PutMetricAlarm and PutDashboard both create and replace: each is its table's create and update
call. A put replaces the whole alarm definition, so every row of it travels together.
"""

from __future__ import annotations

from typing import Any, ClassVar

from deployer.attributes import Attr, Table
from deployer.batch import Describe, item_key
from deployer.errors import ignore_missing, or_none
from deployer.resource import Context, Resource, resource
from deployer.tagging import Tagging

METRIC_ALARMS = Describe(
    "cloudwatch",
    "describe_alarms",
    "MetricAlarms",
    {"alarm-name": item_key("AlarmName")},
    request=lambda by, values: {"AlarmNames": values, "AlarmTypes": ["MetricAlarm"]},
)

# PutMetricAlarm replaces the definition: a row left out of an update would be cleared.
DEFINITION = "definition"


def dimensions_to_api(dimensions: Any) -> list[dict[str, str]]:
    return [{"Name": name, "Value": str(value)} for name, value in sorted(dimensions.items())]


def dimensions_from_api(dimensions: Any) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dimensions or []}


def sorted_list(values: Any) -> list[Any]:
    return sorted(values)


def listed(values: Any) -> list[Any]:
    return list(values or [])


# A `metric_query` block's scalar keys and MetricDataQuery's, both ways.
QUERY_KEYS = {
    "id": "Id",
    "expression": "Expression",
    "label": "Label",
    "return_data": "ReturnData",
    "account_id": "AccountId",
    "period": "Period",
}
# Its `metric` block's keys and MetricStat's (`metric_name`, `namespace`, `dimensions` are the
# Metric's inside it).
STAT_KEYS = {"period": "Period", "stat": "Stat", "unit": "Unit"}


def metric_query_to_api(queries: Any) -> list[dict[str, Any]]:
    return [metric_data_query(query) for query in queries]


def metric_data_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        api: query[key] for key, api in QUERY_KEYS.items() if query.get(key) is not None
    }
    if "Period" in out:
        out["Period"] = int(out["Period"])
    for metric in query.get("metric") or []:
        stat: dict[str, Any] = {
            api: metric[key] for key, api in STAT_KEYS.items() if metric.get(key)
        }
        stat["Period"] = int(metric["period"])
        stat["Metric"] = {
            "MetricName": metric["metric_name"],
            "Dimensions": dimensions_to_api(metric.get("dimensions") or {}),
        }
        if metric.get("namespace"):
            stat["Metric"]["Namespace"] = metric["namespace"]
        out["MetricStat"] = stat
    return out


def metric_query_from_api(queries: Any) -> list[dict[str, Any]]:
    return [metric_query_block(query) for query in queries or []]


def metric_query_block(query: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {key: query.get(api) for key, api in QUERY_KEYS.items()}
    stat = query.get("MetricStat")
    block["metric"] = (
        [
            {
                **{key: stat.get(api) for key, api in STAT_KEYS.items()},
                "metric_name": stat["Metric"]["MetricName"],
                "namespace": stat["Metric"].get("Namespace"),
                "dimensions": dimensions_from_api(stat["Metric"].get("Dimensions")),
            }
        ]
        if stat
        else []
    )
    return block


class Named(Resource):
    """A CloudWatch resource named by its name in its region (an alarm, a dashboard): found by
    that name, and read with the region the engine called."""

    name_attribute: ClassVar[str]

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        live = super().read(ctx, id)
        return None if live is None else {**live, "region": ctx.region}

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        name = str(desired[self.name_attribute])
        return name if self.describe(ctx, name) is not None else None


def definition(name: str, field: str, **row: Any) -> Attr:
    """A row of the alarm definition, which PutMetricAlarm sends as a whole."""
    return Attr(name, field, update=True, together=DEFINITION, **row)


@resource
class MetricAlarm(Named):
    type = "aws_cloudwatch_metric_alarm"
    name_attribute = "alarm_name"
    arn_kind = ("cloudwatch", "alarm")
    batched_read = (METRIC_ALARMS, "alarm-name")
    tagging = Tagging("ResourceARN")
    tags_on = "arn"
    table = Table(
        Attr("alarm_name", "AlarmName", force_new=True),
        definition("alarm_description", "AlarmDescription"),
        definition("actions_enabled", "ActionsEnabled", default=True),
        definition("namespace", "Namespace"),
        definition("metric_name", "MetricName"),
        definition(
            "dimensions", "Dimensions", from_api=dimensions_from_api, to_api=dimensions_to_api
        ),
        definition("statistic", "Statistic"),
        definition("extended_statistic", "ExtendedStatistic"),
        definition("period", "Period", to_api=int),
        definition("unit", "Unit"),
        definition("evaluation_periods", "EvaluationPeriods", to_api=int),
        definition("datapoints_to_alarm", "DatapointsToAlarm", to_api=int),
        definition("threshold", "Threshold", to_api=float),
        definition("threshold_metric_id", "ThresholdMetricId"),
        definition("comparison_operator", "ComparisonOperator"),
        # AWS leaves the field out for the default.
        definition(
            "treat_missing_data",
            "TreatMissingData",
            default="missing",
            from_api=lambda value: value or "missing",
        ),
        definition("evaluate_low_sample_count_percentiles", "EvaluateLowSampleCountPercentile"),
        definition("alarm_actions", "AlarmActions", from_api=listed, to_api=sorted_list),
        definition("ok_actions", "OKActions", from_api=listed, to_api=sorted_list),
        definition(
            "insufficient_data_actions",
            "InsufficientDataActions",
            from_api=listed,
            to_api=sorted_list,
        ),
        definition(
            "metric_query", "Metrics", from_api=metric_query_from_api, to_api=metric_query_to_api
        ),
        Attr("arn", "AlarmArn", computed=True),
        # Where the alarm lives (the engine calls that region's endpoint): another is another
        # alarm.
        Attr("region", create=False, force_new=True),
        service="cloudwatch",
        create_call="PutMetricAlarm",
        update_call="PutMetricAlarm",
        described="MetricAlarm",
        id_parameter="AlarmName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """PutMetricAlarm is an upsert; tags count only when it creates the alarm."""
        ctx.client("cloudwatch").put_metric_alarm(
            **self.table.create_parameters(desired), Tags=self.tagging.to_api(desired["tags"])
        )
        return str(desired["alarm_name"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        """From the refresh's batched DescribeAlarms, when there is one."""
        return ctx.describe_one(METRIC_ALARMS, "alarm-name", id)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ignore_missing(lambda: ctx.client("cloudwatch").delete_alarms(AlarmNames=[id]))


@resource
class Dashboard(Named):
    type = "aws_cloudwatch_dashboard"
    name_attribute = "dashboard_name"
    arn_kind = ("cloudwatch", "dashboard")
    taggable = False
    table = Table(
        Attr("dashboard_name", "DashboardName", force_new=True),
        Attr("dashboard_body", "DashboardBody", update=True),
        Attr("dashboard_arn", "DashboardArn", computed=True),
        # Where the dashboard is made (its ARN has none: dashboards are global to the account).
        Attr("region", create=False, force_new=True),
        service="cloudwatch",
        create_call="PutDashboard",
        update_call="PutDashboard",
        described="GetDashboardOutput",
        id_parameter="DashboardName",
    )

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        ctx.client("cloudwatch").put_dashboard(**self.table.create_parameters(desired))
        return str(desired["dashboard_name"])

    def describe(self, ctx: Context, id: str) -> dict[str, Any] | None:
        got: dict[str, Any] | None = or_none(
            lambda: ctx.client("cloudwatch").get_dashboard(DashboardName=id)
        )
        return got

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        ignore_missing(lambda: ctx.client("cloudwatch").delete_dashboards(DashboardNames=[id]))
