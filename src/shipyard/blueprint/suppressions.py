"""Every policy-check suppression the blueprint needs, with its reason, in one place.

Constructs attach them to their resources with `suppress()`; cdk-nag reads
them from the resource metadata (`cdk_nag.rules_to_suppress`) and shipyard's
own layers from `shipyard.suppress`. docs/checks.md lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnResource
from constructs import Construct


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    applies_to: tuple[str, ...] = ()


ACCESS_LOG_BUCKET_NOT_LOGGED = Suppression(
    "AwsSolutions-S1", "This is the environment's access-log bucket; logging it into itself would loop, and CloudTrail "
    "records its management events.")
CLOUDFRONT_NO_GEO_RESTRICTION = Suppression(
    "AwsSolutions-CFR1", "The service is offered worldwide; there is no country the business must block.")
CLOUDFRONT_LEGACY_LOGGING = Suppression(
    "AwsSolutions-CFR3", "CloudFront's legacy access logs need an ACL-enabled bucket, which this platform forbids; "
    "requests are logged by the load balancer (API) and S3 server access logs (site).")
CLOUDFRONT_DEFAULT_CERTIFICATE = Suppression(
    "AwsSolutions-CFR4", "The distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront "
    "sets; a custom domain with an ACM certificate would pin TLSv1.2_2021.")
DEPLOY_ROLE_SCOPED_WILDCARDS = Suppression(
    "AwsSolutions-IAM5", "Wildcards are limited to this environment's own stacks, task-definition revisions, alarms, "
    "site objects and log streams, or to actions that support no resource scope (identity.NO_RESOURCE_SCOPE: "
    "ecr:GetAuthorizationToken, task-definition registration, target-health and scalable-target reads).")
ECR_LOGIN_TOKEN = Suppression(
    "AwsSolutions-IAM5", "ecr:GetAuthorizationToken supports no resource scope; the pushes themselves are scoped to "
    "this environment's repository.")
EXECUTION_ROLE_STANDARD_GRANTS = Suppression(
    "AwsSolutions-IAM5", "The CDK's standard ECS execution-role grants: ecr:GetAuthorizationToken supports no "
    "resource scope, and log-stream names are created by the awslogs driver.")
CONTAINER_INSIGHTS_OPTIONAL = Suppression(
    "AwsSolutions-ECS4", "Container Insights is a per-environment cost choice (container_insights in shipyard.toml); "
    "alarms use the service's standard CPU and memory metrics.")
PLAIN_SETTINGS_ONLY = Suppression(
    "AwsSolutions-ECS2", "Only plain settings from service.environment; shipyard.toml keeps secrets in service.secrets, "
    "injected from Secrets Manager or SSM, and check SY-E501 rejects secret-looking plain variables.")
DATABASE_DEFAULT_PORT = Suppression(
    "AwsSolutions-RDS11", "The database is in subnets without a route to the internet and its security group admits only the "
    "service's tasks; another port would hide nothing from a client that can reach it.")
DATABASE_SIZED_FOR_COST = Suppression(
    "AwsSolutions-RDS3", "Not a production environment: one availability zone is its cost choice (database_multi_az); "
    "production environments get this finding and no such suppression.")
DATABASE_DISPOSABLE = Suppression(
    "AwsSolutions-RDS10", "Not a production environment: it can be destroyed and rebuilt from migrations; production "
    "environments have deletion protection and a final snapshot.")
TRAFFIC_SHIFT_READS = Suppression(
    "AwsSolutions-IAM5", "ECS's load-balancer role for blue/green deployments: the Elastic Load Balancing Describe* "
    "reads support no resource scope; the writes are scoped to the production rule and the two target groups.")
EXEC_CHANNELS = Suppression(
    "AwsSolutions-IAM5", "ECS Exec: the ssmmessages channel actions and logs:DescribeLogGroups support no resource "
    "scope (Service Authorization Reference); the session log writes are scoped to the environment's exec log group.")
JOB_RUN_TASK_READS = Suppression(
    "AwsSolutions-IAM5", "Step Functions' ecs:runTask.sync integration: ecs:StopTask and ecs:DescribeTasks act on the "
    "task it starts, whose ARN is unknown before the run, and X-Ray's and CloudWatch Logs' delivery actions support no "
    "resource scope; ecs:RunTask is scoped to the job's task family and iam:PassRole to its two roles.")
FAILED_INVOCATIONS_QUEUE = Suppression(
    "AwsSolutions-SQS3", "This queue is a dead-letter queue: EventBridge Scheduler sends it the invocations of the job's "
    "schedule it could never start (the schedule's DeadLetterConfig, which cdk-nag does not read).")
PREVIEW_DATABASE_SECRET = Suppression(
    "AwsSolutions-SMG4", "A preview's own database user lives days at most (shipyard:expires, `preview prune`) and is "
    "dropped with the preview; a rotation schedule would outlive it.")
PREVIEW_ROLE_SCOPED_WILDCARDS = Suppression(
    "AwsSolutions-IAM5", "The preview role's wildcards are preview names (<app>-<base>-pv-*), the base's pv/ site prefix, "
    "or actions with no resource scope (ECR login, task-definition registration, Describe reads), and its creations of "
    "target groups, rules and namespaces require the shipyard:preview tag.")

ALL = (ACCESS_LOG_BUCKET_NOT_LOGGED, CLOUDFRONT_NO_GEO_RESTRICTION, CLOUDFRONT_LEGACY_LOGGING,
       CLOUDFRONT_DEFAULT_CERTIFICATE, DEPLOY_ROLE_SCOPED_WILDCARDS, ECR_LOGIN_TOKEN, EXECUTION_ROLE_STANDARD_GRANTS,
       CONTAINER_INSIGHTS_OPTIONAL, PLAIN_SETTINGS_ONLY, PREVIEW_DATABASE_SECRET, PREVIEW_ROLE_SCOPED_WILDCARDS,
       TRAFFIC_SHIFT_READS, DATABASE_DEFAULT_PORT, DATABASE_SIZED_FOR_COST,
       DATABASE_DISPOSABLE, EXEC_CHANNELS, JOB_RUN_TASK_READS, FAILED_INVOCATIONS_QUEUE)


def suppress(construct: Construct, *suppressions: Suppression) -> None:
    """Record suppressions on the construct's CloudFormation resource, where every check layer reads them."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a suppression")
    existing = resource.get_metadata("cdk_nag") or {"rules_to_suppress": []}
    for item in suppressions:
        entry: dict = {"id": item.rule, "reason": item.reason}
        if item.applies_to:
            entry["applies_to"] = list(item.applies_to)
        existing["rules_to_suppress"].append(entry)
    resource.add_metadata("cdk_nag", existing)
