"""The environment's access-log bucket: load balancer logs, site bucket server access logs, rejected VPC traffic.

Private, SSE-S3 (the encryption load balancer log delivery supports), TLS-only,
no ACLs, and expiring after the environment's log retention.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from shipyard.blueprint.private_bucket import private_bucket
from shipyard.blueprint.suppressions import ACCESS_LOG_BUCKET_NOT_LOGGED, suppress

SITE_PREFIX = "s3/site/"
LOAD_BALANCER_PREFIX = "alb"
FLOW_LOG_PREFIX = "vpc-flow-logs/"


class AccessLogs(Construct):
    def __init__(self, scope: Construct, id: str, *, bucket_name: str, site_bucket_name: str, retention_days: int,
                 retain: bool) -> None:
        super().__init__(scope, id)
        self.bucket = private_bucket(
            self, "Bucket", bucket_name=bucket_name, retain=retain,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(retention_days),
                                              abort_incomplete_multipart_upload_after=Duration.days(1))],
        )
        suppress(self.bucket, ACCESS_LOG_BUCKET_NOT_LOGGED)
        # The site bucket lives in the edge stack; naming it here (its name is
        # derived) keeps this stack from depending on that one.
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="SiteServerAccessLogs",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects(f"{SITE_PREFIX}*")],
            conditions={"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{site_bucket_name}"},
                        "StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        ))

    def log_rejected_traffic(self, vpc: ec2.IVpc) -> None:
        destination = ec2.FlowLogDestination.to_s3(self.bucket, FLOW_LOG_PREFIX)
        if isinstance(vpc, ec2.Vpc):
            vpc.add_flow_log("RejectedTraffic", destination=destination, traffic_type=ec2.FlowLogTrafficType.REJECT)
        else:  # an existing VPC: the same flow log, made beside it
            ec2.FlowLog(self, "RejectedTraffic", resource_type=ec2.FlowLogResourceType.from_vpc(vpc), destination=destination,
                        traffic_type=ec2.FlowLogTrafficType.REJECT)
