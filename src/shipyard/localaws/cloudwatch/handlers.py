"""AWS::CloudWatch::Alarm and ::CompositeAlarm into moto's CloudWatch backend (moto's CloudFormation skips both)."""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel

from shipyard.localaws.core.base import Handler, properties, tags_list, wrap


def _query(query: dict[str, Any]) -> MetricDataQuery:
    stat = None
    if "MetricStat" in query:
        source = query["MetricStat"]
        metric = source["Metric"]
        stat = MetricStat(Metric(metric["MetricName"], metric["Namespace"],
                                 [Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]),
                          source["Period"], source["Stat"], source.get("Unit"))
    return MetricDataQuery(query_id=query["Id"], label=query.get("Label", ""), period=query.get("Period"),
                           return_data=str(query.get("ReturnData", True)).lower(), expression=query.get("Expression"),
                           metric_stat=stat)


class _AlarmHandler(Handler):
    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, arn: str, region: str) -> None:
        self.physical_id = name
        self.region = region
        self.attributes = {"Arn": arn}

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


class CloudWatchAlarm(_AlarmHandler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name, namespace=p.get("Namespace", ""), metric_name=p.get("MetricName", ""),
            comparison_operator=p["ComparisonOperator"], evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p.get("Period", 60)), threshold=float(p.get("Threshold", 0)), statistic=p.get("Statistic", ""),
            description=p.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
            alarm_actions=p.get("AlarmActions", []), ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            metric_data_queries=[_query(q) for q in p.get("Metrics", [])] or None,
            datapoints_to_alarm=p.get("DatapointsToAlarm"), extended_statistic=p.get("ExtendedStatistic"),
            unit=p.get("Unit"), actions_enabled=p.get("ActionsEnabled", True), treat_missing_data=p.get("TreatMissingData"),
            tags=tags_list(p),
        )
        return cls(alarm.name, alarm.alarm_arn, region_name)


class CloudWatchCompositeAlarm(_AlarmHandler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::CompositeAlarm"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name, namespace="", metric_name="", comparison_operator="", evaluation_periods=0, period=0,
            threshold=0, statistic="", description=p.get("AlarmDescription", ""), dimensions=[],
            alarm_actions=p.get("AlarmActions", []), ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []), actions_enabled=p.get("ActionsEnabled", True),
            rule=p["AlarmRule"], tags=tags_list(p),
        )
        return cls(alarm.name, alarm.alarm_arn, region_name)


def _alarms_of_the_asked_types(describe: Any) -> Any:
    """DescribeAlarms answers metric alarms only unless AlarmTypes asks for composite ones too (API reference,
    DescribeAlarms: "If you omit this parameter, only metric alarms are returned")."""
    from moto.core.responses import ActionResult

    def described(self: Any) -> Any:
        answer = describe(self)
        types = self._get_param("AlarmTypes") or ["MetricAlarm"]
        return ActionResult({"MetricAlarms": answer.result["MetricAlarms"] if "MetricAlarm" in types else [],
                             "CompositeAlarms": answer.result["CompositeAlarms"] if "CompositeAlarm" in types else []})
    return described


def install() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    wrap(CloudWatchResponse, "describe_alarms", _alarms_of_the_asked_types,
         corrects="DescribeAlarms answers composite alarms even where AlarmTypes does not ask for them")
