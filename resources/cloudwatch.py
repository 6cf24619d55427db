"""CloudWatch: metric alarms and dashboards.

Dashboards are global to the account (their ARN has no region); an alarm lives in its
workspace's region unless its resource-level `region` names another.
"""

from __future__ import annotations

from typing import Any

from deployer.aws import is_not_found, tag_changes, tag_dict, tag_list, user_tags
from deployer.batch import Describe, item_key
from deployer.resource import Context, Resource, resource

METRIC_ALARMS = Describe(
    "cloudwatch",
    "describe_alarms",
    "MetricAlarms",
    {"alarm-name": item_key("AlarmName")},
    request=lambda by, values: {"AlarmNames": values, "AlarmTypes": ["MetricAlarm"]},
)


@resource
class MetricAlarm(Resource):
    type = "aws_cloudwatch_metric_alarm"
    arn_kind = ("cloudwatch", "alarm")
    batched_read = (METRIC_ALARMS, "alarm-name")
    force_new = frozenset({"alarm_name"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        """PutMetricAlarm is an upsert; tags count only when it creates the alarm."""
        ctx.client("cloudwatch").put_metric_alarm(
            **alarm_params(desired), Tags=tag_list(desired["tags"])
        )
        return str(desired["alarm_name"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        cloudwatch = ctx.client("cloudwatch")
        alarm = ctx.describe_one(METRIC_ALARMS, "alarm-name", id)
        if alarm is None:
            return None
        tags = tag_dict(
            cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags")
        )
        return {
            "id": alarm["AlarmName"],
            "arn": alarm["AlarmArn"],
            "region": ctx.region,
            **alarm_attributes(alarm),
            "tags": user_tags(tags),
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        """The whole definition is put again (PutMetricAlarm replaces it); tags separately."""
        cloudwatch = ctx.client("cloudwatch")
        cloudwatch.put_metric_alarm(**alarm_params(desired))
        to_set, to_remove = tag_changes(desired["tags"], live.get("tags"))
        if to_set:
            cloudwatch.tag_resource(ResourceARN=live["arn"], Tags=tag_list(to_set))
        if to_remove:
            cloudwatch.untag_resource(ResourceARN=live["arn"], TagKeys=to_remove)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            ctx.client("cloudwatch").delete_alarms(AlarmNames=[id])
        except Exception as exc:
            if not (is_not_found(exc)):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        name = str(desired["alarm_name"])
        return name if self.read(ctx, name) is not None else None


@resource
class Dashboard(Resource):
    type = "aws_cloudwatch_dashboard"
    arn_kind = ("cloudwatch", "dashboard")
    taggable = False
    force_new = frozenset({"dashboard_name"})

    def create(self, ctx: Context, desired: dict[str, Any]) -> str:
        self._put(ctx, desired)
        return str(desired["dashboard_name"])

    def read(self, ctx: Context, id: str) -> dict[str, Any] | None:
        try:
            got = ctx.client("cloudwatch").get_dashboard(DashboardName=id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return {
            "id": got["DashboardName"],
            "dashboard_name": got["DashboardName"],
            "dashboard_arn": got["DashboardArn"],
            "dashboard_body": got["DashboardBody"],
            "region": ctx.region,
        }

    def update(self, ctx: Context, id: str, desired: dict[str, Any], live: dict[str, Any]) -> None:
        self._put(ctx, desired)

    def delete(self, ctx: Context, id: str, live: dict[str, Any] | None) -> None:
        try:
            ctx.client("cloudwatch").delete_dashboards(DashboardNames=[id])
        except Exception as exc:
            if not (is_not_found(exc)):
                raise

    def find(self, ctx: Context, desired: dict[str, Any]) -> str | None:
        name = str(desired["dashboard_name"])
        return name if self.read(ctx, name) is not None else None

    @staticmethod
    def _put(ctx: Context, desired: dict[str, Any]) -> None:
        ctx.client("cloudwatch").put_dashboard(
            DashboardName=desired["dashboard_name"], DashboardBody=desired["dashboard_body"]
        )


# Alarm attribute → PutMetricAlarm parameter, for scalars copied as they are.
ALARM_FIELDS = {
    "alarm_name": "AlarmName",
    "alarm_description": "AlarmDescription",
    "actions_enabled": "ActionsEnabled",
    "namespace": "Namespace",
    "metric_name": "MetricName",
    "statistic": "Statistic",
    "extended_statistic": "ExtendedStatistic",
    "period": "Period",
    "unit": "Unit",
    "evaluation_periods": "EvaluationPeriods",
    "datapoints_to_alarm": "DatapointsToAlarm",
    "threshold": "Threshold",
    "threshold_metric_id": "ThresholdMetricId",
    "comparison_operator": "ComparisonOperator",
    "treat_missing_data": "TreatMissingData",
    "evaluate_low_sample_count_percentiles": "EvaluateLowSampleCountPercentile",
}
ACTION_FIELDS = {
    "alarm_actions": "AlarmActions",
    "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions",
}
INTEGER_FIELDS = frozenset({"Period", "EvaluationPeriods", "DatapointsToAlarm"})


def alarm_params(desired: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for attribute, key in ALARM_FIELDS.items():
        value = desired.get(attribute)
        if value is None:
            continue
        if key in INTEGER_FIELDS:
            value = int(value)
        elif key == "Threshold":
            value = float(value)
        params[key] = value
    for attribute, key in ACTION_FIELDS.items():
        params[key] = sorted(desired.get(attribute) or [])
    if desired.get("dimensions"):
        params["Dimensions"] = [
            {"Name": name, "Value": str(value)}
            for name, value in sorted(desired["dimensions"].items())
        ]
    if desired.get("metric_query"):
        params["Metrics"] = [metric_data_query(query) for query in desired["metric_query"]]
    return params


def metric_data_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query["id"]}
    for attribute, key in (
        ("expression", "Expression"),
        ("label", "Label"),
        ("return_data", "ReturnData"),
        ("account_id", "AccountId"),
    ):
        if query.get(attribute) is not None:
            out[key] = query[attribute]
    if query.get("period") is not None:
        out["Period"] = int(query["period"])
    for metric in query.get("metric") or []:
        stat: dict[str, Any] = {
            "Metric": {
                "MetricName": metric["metric_name"],
                "Dimensions": [
                    {"Name": k, "Value": str(v)}
                    for k, v in sorted((metric.get("dimensions") or {}).items())
                ],
            },
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
        }
        if metric.get("namespace"):
            stat["Metric"]["Namespace"] = metric["namespace"]
        if metric.get("unit"):
            stat["Unit"] = metric["unit"]
        out["MetricStat"] = stat
    return out


def alarm_attributes(alarm: dict[str, Any]) -> dict[str, Any]:
    """A DescribeAlarms entry in the node's vocabulary."""
    out: dict[str, Any] = {attribute: alarm.get(key) for attribute, key in ALARM_FIELDS.items()}
    out["treat_missing_data"] = alarm.get("TreatMissingData") or "missing"
    for attribute, key in ACTION_FIELDS.items():
        out[attribute] = list(alarm.get(key) or [])
    out["dimensions"] = {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []}
    out["metric_query"] = [metric_query_block(m) for m in alarm.get("Metrics") or []]
    return out


def metric_query_block(query: dict[str, Any]) -> dict[str, Any]:
    stat = query.get("MetricStat")
    return {
        "id": query["Id"],
        "expression": query.get("Expression"),
        "label": query.get("Label"),
        "return_data": query.get("ReturnData"),
        "account_id": query.get("AccountId"),
        "period": query.get("Period"),
        "metric": [
            {
                "metric_name": stat["Metric"]["MetricName"],
                "namespace": stat["Metric"].get("Namespace"),
                "dimensions": {d["Name"]: d["Value"] for d in stat["Metric"].get("Dimensions", [])},
                "period": stat["Period"],
                "stat": stat["Stat"],
                "unit": stat.get("Unit"),
            }
        ]
        if stat
        else [],
    }
