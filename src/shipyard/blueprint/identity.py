"""GitHub Actions OIDC trust and the least-privilege deploy role of one environment.

The role can push to this environment's repository, write its image parameter
and release history, update its own stacks through a CloudFormation service
role, publish the site and read what a release verdict needs. It cannot
create or change infrastructure outside this environment's stacks.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from shipyard.blueprint.suppressions import DEPLOY_ROLE_SCOPED_WILDCARDS, suppress

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


class Identity(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        github_repository: str,
        environment: str,
        stack_prefix: str,
        repository_arn: str,
        image_parameter: str,
        release_history_parameter: str,
        release_lock_parameter: str,
        site_bucket: str,
        log_group: str,
        role_name: str,
        existing_provider_arn: str | None,
        source_repository_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if existing_provider_arn:
            provider_arn = existing_provider_arn
        else:
            # The native resource, not iam.OpenIdConnectProvider, which needs a
            # Lambda-backed custom resource.
            provider = iam.CfnOIDCProvider(
                self, "GitHubProvider", url=GITHUB_OIDC_URL, client_id_list=["sts.amazonaws.com"],
            )
            provider_arn = provider.attr_arn
        self.provider_arn = provider_arn
        self.subject = f"repo:{github_repository}:environment:{environment}"

        self.deploy_role = iam.Role(
            self, "DeployRole",
            role_name=role_name,
            description=f"GitHub Actions deploys of {github_repository} to the {environment} environment",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.FederatedPrincipal(
                provider_arn,
                conditions={
                    # Exact matches only: a wildcard or ForAllValues here would let
                    # other repositories, branches or environments assume the role.
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_HOST}:sub": self.subject,
                    }
                },
                assume_role_action="sts:AssumeRoleWithWebIdentity",
            ),
        )

        stack = Stack.of(self)
        partition, region, account = Aws.PARTITION, stack.region, stack.account

        def arn(service: str, resource: str, *, region_: str = region) -> str:
            return f"arn:{partition}:{service}:{region_}:{account}:{resource}"

        stack_arns = [arn("cloudformation", f"stack/{stack_prefix}-*/*"),
                      arn("cloudformation", f"stack/{stack_prefix}-*/*", region_="us-east-1")]

        # CloudFormation acts with its own service role, so the deploy role
        # needs no rights on ECS, IAM or EC2 itself.
        self.cloudformation_role = iam.Role(
            self, "CloudFormationRole",
            assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"),
            description=f"CloudFormation service role for releases to {stack_prefix}-service",
        )
        self.cloudformation_role.add_to_policy(iam.PolicyStatement(
            actions=["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
            # Task definition registration does not support resource-level permissions.
            resources=["*"],
        ))
        self.cloudformation_role.add_to_policy(iam.PolicyStatement(
            actions=["ecs:UpdateService", "ecs:DescribeServices"],
            resources=[arn("ecs", f"service/{stack_prefix}/*")],
        ))
        self.cloudformation_role.add_to_policy(iam.PolicyStatement(
            actions=["ssm:GetParameters"],
            resources=[arn("ssm", f"parameter{image_parameter}")],
        ))
        self.cloudformation_role.add_to_policy(iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[f"arn:{partition}:iam::{account}:role/{stack_prefix}-*"],
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ))
        self.cloudformation_role.add_to_policy(iam.PolicyStatement(
            # The service's blue/green load-balancer role, which ECS assumes to move traffic.
            actions=["iam:PassRole"],
            resources=[f"arn:{partition}:iam::{account}:role/{stack_prefix}-*"],
            conditions={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
        ))

        statements = [
            iam.PolicyStatement(
                sid="EcrLogin",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],  # AWS requires "*" for this action.
            ),
            iam.PolicyStatement(
                sid="EcrPushPull",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                         "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages",
                         "ecr:DescribeImageScanFindings", "ecr:GetDownloadUrlForLayer"],
                resources=[repository_arn],
            ),
            iam.PolicyStatement(
                sid="ReleaseParameters",
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:GetParameterHistory"],
                resources=[arn("ssm", f"parameter{image_parameter}"),
                           arn("ssm", f"parameter{release_history_parameter}")],
            ),
            iam.PolicyStatement(
                # One release at a time: created without overwrite, deleted by its holder.
                sid="ReleaseLock",
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[arn("ssm", f"parameter{release_lock_parameter}")],
            ),
            iam.PolicyStatement(
                sid="OwnStacks",
                actions=["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                         "cloudformation:DescribeStackResources", "cloudformation:GetTemplate",
                         "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
                         "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
                         "cloudformation:UpdateStack", "cloudformation:CancelUpdateStack",
                         "cloudformation:ContinueUpdateRollback"],
                resources=stack_arns,
            ),
            iam.PolicyStatement(
                sid="PassCloudFormationRole",
                actions=["iam:PassRole"],
                resources=[self.cloudformation_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReleaseVerdict",
                actions=["ecs:DescribeServices", "ecs:DescribeTasks", "ecs:ListTasks"],
                resources=[arn("ecs", f"service/{stack_prefix}/*"), arn("ecs", f"task/{stack_prefix}/*"),
                           arn("ecs", f"container-instance/{stack_prefix}/*")],
            ),
            iam.PolicyStatement(
                # The health gate runs during a blue/green deployment's bake; a failure stops it with rollback.
                sid="BlueGreenGate",
                actions=["ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"],
                resources=[arn("ecs", f"service/{stack_prefix}/*"), arn("ecs", f"service-deployment/{stack_prefix}/*")],
            ),
            iam.PolicyStatement(
                sid="PublishSite",
                actions=["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"arn:{partition}:s3:::{site_bucket}", f"arn:{partition}:s3:::{site_bucket}/*"],
            ),
            iam.PolicyStatement(
                sid="InvalidateSite",
                # The distribution is created after this role, in the edge stack;
                # the account scope is the narrowest known here.
                actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                resources=[f"arn:{partition}:cloudfront::{account}:distribution/*"],
            ),
            iam.PolicyStatement(
                sid="ReadServiceLogs",
                actions=["logs:FilterLogEvents", "logs:GetLogEvents"],
                resources=[arn("logs", f"log-group:{log_group}:*")],
            ),
            iam.PolicyStatement(
                sid="ReadOnlyWithoutResourceScope",
                # These describe calls support no resource-level permissions.
                actions=["elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTargetGroups",
                         "cloudwatch:DescribeAlarms"],
                resources=["*"],
            ),
        ]
        if source_repository_arn:
            statements.append(iam.PolicyStatement(
                sid="PromoteFromPreviousEnvironment",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                         "ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
                resources=[source_repository_arn],
            ))
        for statement in statements:
            self.deploy_role.add_to_policy(statement)
        for role in (self.deploy_role, self.cloudformation_role):
            suppress(role.node.find_child("DefaultPolicy"), DEPLOY_ROLE_SCOPED_WILDCARDS)
