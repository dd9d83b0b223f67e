"""Alarms on CloudFront's own metrics, which CloudFront publishes in us-east-1 only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct


class EdgeAlarms(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str, distribution_id: str, topic: sns.ITopic,
                 logical_id: str) -> None:
        super().__init__(scope, id)
        self.five_xx = cw.Alarm(
            self, "CloudFront5xx", alarm_name=f"{prefix}-cloudfront-5xx",
            metric=cw.Metric(namespace="AWS/CloudFront", metric_name="5xxErrorRate", statistic="Average",
                             dimensions_map={"DistributionId": distribution_id, "Region": "Global"}, period=Duration.minutes(5)),
            threshold=2, evaluation_periods=2, datapoints_to_alarm=2,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="More than 2% of viewer requests got a 5xx at the edge for 10 minutes")
        self.five_xx.add_alarm_action(cw_actions.SnsAction(topic))
        # Deployed stacks know the alarm by this id; a new id would replace an alarm of a fixed name, which fails.
        self.five_xx.node.default_child.override_logical_id(logical_id)
