"""The one boundary that talks to AWS, for real accounts and the embedded AWS alike.

`Aws` is one account's way in: a typed client per AWS service (aws.ecs(region).service_of(...)), each with one
method per need, typed results and "does not exist" as None. Every AWS operation is spelled once, in the
service's module here; the rest of shipyard never names a service or an operation.
"""

from __future__ import annotations

from shipyard.aws.acm import Acm
from shipyard.aws.autoscaling import AutoScaling
from shipyard.aws.cloudformation import CloudFormation
from shipyard.aws.cloudfront import CloudFront, Waf
from shipyard.aws.cloudwatch import CloudWatch
from shipyard.aws.ec2 import Ec2
from shipyard.aws.ecr import Ecr
from shipyard.aws.ecs import Ecs
from shipyard.aws.elbv2 import Elbv2
from shipyard.aws.iam import Iam
from shipyard.aws.logs import Logs
from shipyard.aws.pricing import Pricing
from shipyard.aws.rds import Rds, SecretsManager
from shipyard.aws.route53 import Route53
from shipyard.aws.s3 import S3
from shipyard.aws.session import AwsError, Session, Target
from shipyard.aws.sns import Sns
from shipyard.aws.sqs import Sqs
from shipyard.aws.ssm import Ssm
from shipyard.aws.stepfunctions import Scheduler, StepFunctions

# Global services answer in us-east-1: IAM, CloudFront, WAF for CloudFront, Route 53, and the Price List API.
# ACM certificates for CloudFront live there too.
GLOBAL_REGION = "us-east-1"

__all__ = ["GLOBAL_REGION", "Aws", "AwsError", "Target"]


class Aws(Session):
    """One account's typed AWS clients; `account` selects the account in the embedded AWS."""

    def caller_account(self) -> str:
        return self.call("sts", "GetCallerIdentity", GLOBAL_REGION)["Account"]

    def cloudformation(self, region: str) -> CloudFormation:
        return CloudFormation(self, region)

    def ecs(self, region: str) -> Ecs:
        return Ecs(self, region)

    def ecr(self, region: str) -> Ecr:
        return Ecr(self, region)

    def elbv2(self, region: str) -> Elbv2:
        return Elbv2(self, region)

    def ec2(self, region: str) -> Ec2:
        return Ec2(self, region)

    def s3(self, region: str) -> S3:
        return S3(self, region)

    def ssm(self, region: str) -> Ssm:
        return Ssm(self, region)

    def sns(self, region: str) -> Sns:
        return Sns(self, region)

    def sqs(self, region: str) -> Sqs:
        return Sqs(self, region)

    def stepfunctions(self, region: str) -> StepFunctions:
        return StepFunctions(self, region)

    def scheduler(self, region: str) -> Scheduler:
        return Scheduler(self, region)

    def cloudwatch(self, region: str) -> CloudWatch:
        return CloudWatch(self, region)

    def logs(self, region: str) -> Logs:
        return Logs(self, region)

    def rds(self, region: str) -> Rds:
        return Rds(self, region)

    def secrets(self, region: str) -> SecretsManager:
        return SecretsManager(self, region)

    def autoscaling(self, region: str) -> AutoScaling:
        return AutoScaling(self, region)

    def acm(self, region: str = GLOBAL_REGION) -> Acm:
        return Acm(self, region)

    def iam(self) -> Iam:
        return Iam(self, GLOBAL_REGION)

    def cloudfront(self) -> CloudFront:
        return CloudFront(self, GLOBAL_REGION)

    def waf(self) -> Waf:
        return Waf(self, GLOBAL_REGION)

    def route53(self) -> Route53:
        return Route53(self, GLOBAL_REGION)

    def pricing(self) -> Pricing:
        return Pricing(self, GLOBAL_REGION)
