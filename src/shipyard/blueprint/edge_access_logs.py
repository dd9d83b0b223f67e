"""CloudFront's access logs: standard logging (v2) of every viewer request, delivered to CloudWatch Logs.

CloudFront makes its log deliveries in us-east-1 (CloudFront developer guide, "Configure standard logging (v2)"),
so the delivery source, the log group and the delivery live in the us-east-1 stack beside the edge's alarms. The
legacy standard logging would need an ACL-enabled bucket, which this platform forbids.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct


class EdgeAccessLogs(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str, log_group_name: str, distribution_id: str,
                 retention_days: int, retain: bool) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.group = logs.LogGroup(self, "Group", log_group_name=log_group_name,
                                   removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY)
        self.group.node.default_child.retention_in_days = retention_days  # checked against CloudWatch's values
        self.source = logs.CfnDeliverySource(
            self, "Source", name=f"{prefix}-cloudfront", log_type="ACCESS_LOGS",
            resource_arn=f"arn:{stack.partition}:cloudfront::{stack.account}:distribution/{distribution_id}")
        self.destination = logs.CfnDeliveryDestination(self, "Destination", name=f"{prefix}-cloudfront-logs",
                                                       destination_resource_arn=self.group.log_group_arn, output_format="json")
        # Ref of a delivery source is its name: the reference orders the delivery after it.
        self.delivery = logs.CfnDelivery(self, "Delivery", delivery_source_name=self.source.ref,
                                         delivery_destination_arn=self.destination.attr_arn)
