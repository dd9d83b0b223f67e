"""The role the pipeline's preview jobs assume: trusted by this repository's pull-request runs only, and able to
manage preview environments of this base and nothing of the base itself (docs/previews.md).

GitHub gives a pull_request run the subject repo:OWNER/REPO:pull_request (GitHub docs, "OpenID Connect reference"),
which a workflow from a fork never receives with credentials: GitHub withholds id-token from fork pull requests
(GitHub docs, "Automatic token authentication": "Pull requests from public forks"), and the workflow's preview jobs
also skip unless the head repository is this one. What the role may do:

- push images to the base's repositories (a preview runs a pull request's images from them);
- create, update and delete CloudFormation stacks named <app>-<base>-pv-*, and read the base's stacks' outputs;
- make and remove what those stacks hold: resources named <app>-<base>-pv-* where the service names by name, and where
  it does not (target groups, listener rules) only with the request or resource tagged shipyard:preview;
  the roles it makes carry the previews' permissions boundary (<app>-<base>-preview-boundary) and may be passed to
  ECS tasks only;
- run, watch and stop one-off tasks of those stacks' task definitions in their own clusters, and read their logs;
- write the site files under pv/ in the base's bucket and invalidate them, nothing else of the bucket.

The scheduled `preview prune` runs on the default branch, whose token the preview role does not trust: it assumes a
role of its own (<app>-<base>-preview-prune), trusted by that branch's subject only, whose policy is the preview
role's without what makes or changes anything (MAKING).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from shipyard.blueprint.identity import github_principal
from shipyard.blueprint.suppressions import PREVIEW_ROLE_SCOPED_WILDCARDS, suppress
from shipyard.naming import PREVIEW_INFIX, PREVIEW_TAG, Names

TAGGED_REQUEST = {"Null": {f"aws:RequestTag/{PREVIEW_TAG}": "false"}}
TAGGED_RESOURCE = {"Null": {f"aws:ResourceTag/{PREVIEW_TAG}": "false"}}


class PreviewRole(Construct):
    def __init__(self, scope: Construct, id: str, *, names: Names, provider_arn: str, subject: str, prune_subject: str,
                 repository_arns: list[str], site_bucket: str, distribution: str = "*") -> None:
        """subject: the pull-request runs' OIDC subject; prune_subject: the default branch's (the scheduled prune)."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        region, account = stack.region, stack.account
        previews = f"{names.prefix}-{PREVIEW_INFIX}-"

        def arn(service: str, resource: str, *, region_: str = region) -> str:
            return f"arn:{stack.partition}:{service}:{region_}:{account}:{resource}"

        # The most any preview's role may do (its task and execution roles, the database task's): pull the base's
        # images, write its own logs, read secrets and parameters (the database settings and its user's password),
        # work its own queues and topics. A role's own policy still narrows it (IAM user guide, "Permissions
        # boundaries for IAM entities": the effective permissions are the intersection).
        boundary_arn = f"arn:{stack.partition}:iam::{account}:policy/{names.preview_boundary}"
        self.boundary = iam.ManagedPolicy(self, "Boundary", managed_policy_name=names.preview_boundary,
                                          description=f"the most a role of {names.prefix}'s previews may do", statements=[
            iam.PolicyStatement(sid="PullImages", actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                                           "ecr:BatchCheckLayerAvailability"], resources=repository_arns),
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="OwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[
                arn("logs", f"log-group:/shipyard/{names.app}/{names.environment}-{PREVIEW_INFIX}-*:*")]),
            iam.PolicyStatement(sid="Settings", actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
                                                         "ssm:GetParameter", "ssm:GetParameters"], resources=["*"]),
            iam.PolicyStatement(sid="OwnMessages", actions=["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                            "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                                                            "sns:Publish"],
                                resources=[arn("sqs", f"{previews}*"), arn("sns", f"{previews}*")]),
        ])
        suppress(self.boundary, PREVIEW_ROLE_SCOPED_WILDCARDS)
        self.role = iam.Role(self, "Role", role_name=names.preview_role, max_session_duration=Duration.hours(1),
                             description=f"GitHub Actions manages {names.prefix}'s preview environments ({subject})",
                             assumed_by=github_principal(provider_arn, subject))
        statements = [
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="PushImages", resources=repository_arns, actions=[
                "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:BatchDeleteImage"]),
            iam.PolicyStatement(sid="PreviewStacks", resources=[arn("cloudformation", f"stack/{previews}*/*")], actions=[
                "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet", "cloudformation:DeleteStack", "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResources", "cloudformation:GetTemplate"]),
            iam.PolicyStatement(sid="BaseOutputs", actions=["cloudformation:DescribeStacks"],
                                resources=[arn("cloudformation", f"stack/{names.prefix}-*/*")]),
            iam.PolicyStatement(sid="NamedResources", actions=[
                "ecs:CreateCluster", "ecs:DeleteCluster", "ecs:DescribeClusters", "ecs:PutClusterCapacityProviders",
                "ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices", "ecs:TagResource",
                "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:TagQueue",
                "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
                "sns:Unsubscribe", "sns:TagResource", "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret", "secretsmanager:TagResource", "secretsmanager:GetRandomPassword",
                "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:TagResource",
                "iam:DeleteRole", "iam:GetRole", "iam:TagRole", "iam:GetRolePolicy"], resources=[
                arn("ecs", f"cluster/{previews}*"), arn("ecs", f"service/{previews}*/*"),
                arn("sqs", f"{previews}*"), arn("sns", f"{previews}*"), arn("secretsmanager", f"secret:{previews}*"),
                arn("logs", f"log-group:/shipyard/{names.app}/{names.environment}-{PREVIEW_INFIX}-*"),
                f"arn:{stack.partition}:iam::{account}:role/{previews}*"]),
            # A role it makes, and every policy it writes on one, stays inside the boundary: without it, a policy
            # written on a preview's role and passed to a task it runs would be a way past this role's own limits.
            iam.PolicyStatement(sid="RolesWithinTheBoundary", actions=["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
                                resources=[f"arn:{stack.partition}:iam::{account}:role/{previews}*"],
                                conditions={"StringEquals": {"iam:PermissionsBoundary": boundary_arn}}),
            iam.PolicyStatement(sid="PassTaskRoles", actions=["iam:PassRole"], resources=[f"arn:{stack.partition}:iam::{account}:role/{previews}*"],
                                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            # A preview's one-off tasks (its database's setup and teardown, its migrations), in its own cluster only.
            iam.PolicyStatement(sid="PreviewTasks", actions=["ecs:RunTask"], resources=[arn("ecs", f"task-definition/{previews}*:*")],
                                conditions={"ArnLike": {"ecs:cluster": arn("ecs", f"cluster/{previews}*")}}),
            iam.PolicyStatement(sid="WatchPreviewTasks", actions=["ecs:DescribeTasks", "ecs:StopTask"],
                                resources=[arn("ecs", f"task/{previews}*/*")]),
            iam.PolicyStatement(sid="ReadPreviewLogs", actions=["logs:GetLogEvents"], resources=[
                arn("logs", f"log-group:/shipyard/{names.app}/{names.environment}-{PREVIEW_INFIX}-*:log-stream:*")]),
            iam.PolicyStatement(sid="TaskDefinitions", actions=["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                                                                 "ecs:DescribeTaskDefinition"], resources=["*"]),
            iam.PolicyStatement(sid="CreateTagged", actions=[
                "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:CreateRule", "elasticloadbalancing:AddTags"],
                resources=["*"], conditions=TAGGED_REQUEST),
            iam.PolicyStatement(sid="ChangeTagged", actions=[
                "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
                # A preview's backends are containers of its task now; a preview made before that still has a
                # Service Connect namespace, which its next update or its destroy deletes.
                "servicediscovery:DeleteNamespace"], resources=["*"], conditions=TAGGED_RESOURCE),
            # Awake hours: a preview's services' scalable targets and their two scheduled actions. Application Auto
            # Scaling names a target by an id of its own, so by tag (Service Authorization Reference, "Application
            # Auto Scaling": aws:RequestTag on RegisterScalableTarget, aws:ResourceTag on the rest).
            iam.PolicyStatement(sid="CreateTaggedScaling", actions=["application-autoscaling:RegisterScalableTarget",
                                                                     "application-autoscaling:TagResource"],
                                resources=["*"], conditions=TAGGED_REQUEST),
            iam.PolicyStatement(sid="ChangeTaggedScaling", actions=[
                "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScheduledAction", "application-autoscaling:DeleteScheduledAction"],
                resources=["*"], conditions=TAGGED_RESOURCE),
            iam.PolicyStatement(sid="Reads", actions=[
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScheduledActions",
                "elasticloadbalancing:Describe*", "servicediscovery:GetOperation", "servicediscovery:GetNamespace",
                "ssm:GetParameters", "cloudformation:ListStacks"], resources=["*"]),
            iam.PolicyStatement(sid="PreviewSiteFiles", actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                                resources=[f"arn:{stack.partition}:s3:::{site_bucket}/pv/*"]),
            iam.PolicyStatement(sid="ListPreviewSiteFiles", actions=["s3:ListBucket", "s3:ListBucketVersions"],
                                resources=[f"arn:{stack.partition}:s3:::{site_bucket}"],
                                conditions={"StringLike": {"s3:prefix": ["pv/*", ""]}}),
            iam.PolicyStatement(sid="InvalidatePreviewFiles", actions=["cloudfront:CreateInvalidation", "cloudfront:GetDistribution"],
                                resources=[f"arn:{stack.partition}:cloudfront::{account}:distribution/{distribution}"]),
        ]
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], statements=statements,
                                   description=f"{names.preview_role} manages preview environments only")
        suppress(policy, PREVIEW_ROLE_SCOPED_WILDCARDS)
        # The scheduled prune's own identity: the default branch's runs, which may take previews away and make nothing.
        self.prune_role = iam.Role(self, "PruneRole", role_name=names.preview_prune_role, max_session_duration=Duration.hours(1),
                                   description=f"GitHub Actions destroys {names.prefix}'s expired previews ({prune_subject})",
                                   assumed_by=github_principal(provider_arn, prune_subject))
        pruning = iam.ManagedPolicy(self, "PrunePolicy", roles=[self.prune_role], statements=_taking_away(statements),
                                    description=f"{names.preview_prune_role} destroys preview environments only")
        suppress(pruning, PREVIEW_ROLE_SCOPED_WILDCARDS)


# What making or changing a preview needs and taking one away does not (the prune role's policy is the preview role's
# without them). CloudFormation deletes a service by scaling it to 0 first (UpdateService), so that one stays.
MAKING = frozenset({
    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
    "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "ecs:CreateCluster", "ecs:CreateService",
    "ecs:PutClusterCapacityProviders", "ecs:TagResource", "ecs:RegisterTaskDefinition", "sqs:CreateQueue", "sqs:SetQueueAttributes",
    "sqs:TagQueue", "sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "secretsmanager:CreateSecret",
    "secretsmanager:TagResource", "secretsmanager:GetRandomPassword", "logs:CreateLogGroup", "logs:PutRetentionPolicy",
    "logs:TagResource", "iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:CreateRule", "elasticloadbalancing:AddTags", "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:ModifyRule", "s3:PutObject",
    "application-autoscaling:TagResource", "application-autoscaling:PutScheduledAction", "application-autoscaling:RegisterScalableTarget"})


def _taking_away(statements: list[iam.PolicyStatement]) -> list[iam.PolicyStatement]:
    kept = []
    for statement in statements:
        document = statement.to_statement_json()
        actions = [a for a in ([document["Action"]] if isinstance(document["Action"], str) else document["Action"]) if a not in MAKING]
        if actions:
            kept.append(iam.PolicyStatement.from_json({**document, "Action": actions}))
    return kept
