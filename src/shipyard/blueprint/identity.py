"""GitHub Actions OIDC trust and the least-privilege deploy role of one environment.

The role can push to this environment's repository, write its image parameter
and release history, update its service stack (and only that stack), publish
the site and read what a release verdict needs. It cannot create or change
infrastructure: the other stacks are deployed with administrator credentials.

CloudFormation performs a release's stack update with the caller's session,
so the deploy role itself holds what the update of a release touches (a new
task definition revision, the service, on the first release the scalable
target and the running-below-desired alarm), each scoped to this environment.
A CloudFormation service role would have to be passed on every release, and
CloudFormation keeps using a stack's last role for every later update, also an
administrator's infrastructure deploy (CloudFormation API reference,
UpdateStack, RoleARN), which the narrow role could not perform
(docs/decisions.md §20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from shipyard.blueprint.suppressions import DEPLOY_ROLE_SCOPED_WILDCARDS, ECR_LOGIN_TOKEN, suppress
from shipyard.naming import Names, WorkloadNames

# What a release does to each service it releases; the primary service's statements and each workload's use them.
ECR_PUSH_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                 "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:DescribeImageScanFindings",
                 "ecr:StartImageScan", "ecr:GetDownloadUrlForLayer"]
RELEASE_PARAMETER = ["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:GetParameterHistory"]
SERVICE_UPDATE = ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:ListTagsForResource"]
RELEASE_VERDICT = ["ecs:DescribeServices", "ecs:DescribeTasks", "ecs:ListTasks"]
BLUE_GREEN_GATE = ["ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"]
WORKER_VERDICT = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"]  # a worker's bake reads its dead-letter queue (worker_watch.py)
READ_LOGS = ["logs:FilterLogEvents", "logs:GetLogEvents"]
PROMOTE_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages",
                "ecr:DescribeImageScanFindings"]
# The writes a release's stack update makes are allowed only through CloudFormation (aws:CalledVia, IAM user guide,
# "AWS global condition context keys"): the role cannot register a task definition or pass a task role by calling
# ECS itself, only by updating its one stack.
THROUGH_CLOUDFORMATION = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}

@dataclass(frozen=True)
class WorkloadGrant:
    """A workload beside the primary service, as its environment's roles are granted it."""

    names: WorkloadNames
    repository_arn: str
    source_repository_arn: str | None  # the previous environment's repository of it, which promote copies from
    routed: bool = True  # a web service (blue/green, with a traffic-shift role); a worker deploys rolling
    queued: bool = False  # a worker: the release verdict reads its queues' depth
    scheduled: bool = False  # a job: no ECS service; a state machine and a schedule, which run --job starts


GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"

# Actions that support no resource-level permissions (Service Authorization Reference for each service:
# the Resource types column is empty), so "*" is the narrowest resource they take. checks and tests read this.
NO_RESOURCE_SCOPE = {
    "ecr:GetAuthorizationToken": "ECR: the registry login token is account-wide",
    "ecs:RegisterTaskDefinition": "ECS: a task definition revision has no ARN before it exists",
    "ecs:DeregisterTaskDefinition": "ECS: supports no resource-level permissions",
    "ecs:DescribeTaskDefinition": "ECS: supports no resource-level permissions",
    "elasticloadbalancing:DescribeTargetHealth": "ELB: Describe* support no resource-level permissions",
    "elasticloadbalancing:DescribeTargetGroups": "ELB: Describe* support no resource-level permissions",
    "application-autoscaling:DescribeScalableTargets": "Application Auto Scaling: Describe* support no resource-level permissions",
    "application-autoscaling:DescribeScheduledActions": "Application Auto Scaling: Describe* support no resource-level permissions",
    **{f"application-autoscaling:{action}": "Application Auto Scaling: a scalable target's ARN carries an id that "
                                            "exists only after registration"
       for action in ("RegisterScalableTarget", "PutScheduledAction", "DeleteScheduledAction", "TagResource",
                      "UntagResource", "ListTagsForResource")},
}


class Identity(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        subject: str,
        names: Names,
        repository_arn: str,
        existing_provider_arn: str | None,
        source_repository_arn: str | None = None,
        push_subject: str | None = None,
        wakes: bool = False,
        workloads: tuple[WorkloadGrant, ...] = (),
    ) -> None:
        """workloads: each web workload beside [service] with its repository's ARN, which a release changes too."""
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
        self.subject = subject

        self.deploy_role = iam.Role(
            self, "DeployRole",
            role_name=names.deploy_role,
            description=f"GitHub Actions deploys to the {names.environment} environment ({subject})",
            max_session_duration=Duration.hours(1),
            assumed_by=github_principal(provider_arn, subject),
        )
        for statement in _statements(Stack.of(self), names, repository_arn, source_repository_arn, wakes):
            self.deploy_role.add_to_policy(statement)
        suppress(self.deploy_role.node.find_child("DefaultPolicy"), DEPLOY_ROLE_SCOPED_WILDCARDS)
        if workloads:
            # A policy of its own (managed: a role's inline policies share one size limit, which the primary's fills):
            # the primary service's policy stays as it was, so adding a workload changes no statement of it.
            releases = iam.ManagedPolicy(self, "WorkloadReleases", roles=[self.deploy_role],
                                         description=f"{names.deploy_role} releases the workloads beside the primary service",
                                         statements=_workload_statements(Stack.of(self), workloads))
            suppress(releases, DEPLOY_ROLE_SCOPED_WILDCARDS)

        # CI's image jobs push the image they built and scanned, and nothing else: they run outside any GitHub
        # environment (their token's subject names the branch), so they get a role of their own instead of the
        # deploy role, which only the environment's jobs can assume (docs/decisions.md §23).
        self.push_role = None
        if push_subject:
            self.push_role = iam.Role(
                self, "ImagePushRole", role_name=names.push_role, max_session_duration=Duration.hours(1),
                description=f"GitHub Actions image pushes to {names.repository} ({push_subject})",
                assumed_by=github_principal(provider_arn, push_subject),
            )
            self.push_role.add_to_policy(iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
            self.push_role.add_to_policy(iam.PolicyStatement(
                sid="PushImages",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                         "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[repository_arn, *(w.repository_arn for w in workloads)],
            ))
            suppress(self.push_role.node.find_child("DefaultPolicy"), ECR_LOGIN_TOKEN)


def github_principal(provider_arn: str, subject: str) -> iam.FederatedPrincipal:
    """GitHub's OIDC tokens whose audience is STS and whose subject is exactly `subject`."""
    return iam.FederatedPrincipal(
        provider_arn,
        conditions={
            # Exact matches only: a wildcard or ForAllValues here would let
            # other repositories, branches or environments assume the role.
            "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com", f"{GITHUB_OIDC_HOST}:sub": subject},
        },
        assume_role_action="sts:AssumeRoleWithWebIdentity",
    )


def _statements(stack: Stack, names: Names, repository_arn: str, source_repository_arn: str | None,
                wakes: bool) -> list[iam.PolicyStatement]:
    partition, region, account = Aws.PARTITION, stack.region, stack.account

    def arn(service: str, resource: str, *, region_: str = region) -> str:
        return f"arn:{partition}:{service}:{region_}:{account}:{resource}"

    def role(name: str) -> str:
        return f"arn:{partition}:iam::{account}:role/{name}"

    through_cloudformation = THROUGH_CLOUDFORMATION
    own_stacks = [arn("cloudformation", f"stack/{names.prefix}-*/*"),
                  arn("cloudformation", f"stack/{names.prefix}-*/*", region_="us-east-1")]
    service_stack = arn("cloudformation", f"stack/{names.service_stack}/*")
    service = arn("ecs", f"service/{names.cluster}/{names.service}")
    alarms = arn("cloudwatch", f"alarm:{names.prefix}-*")
    statements = [
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            sid="EcrPushPull",
            actions=ECR_PUSH_PULL,
            resources=[repository_arn],
        ),
        iam.PolicyStatement(
            # GetParameters: CloudFormation resolves the service stack's SSM parameter with the caller's session.
            sid="ReleaseParameters",
            actions=RELEASE_PARAMETER,
            resources=[arn("ssm", f"parameter{names.image_parameter}"), arn("ssm", f"parameter{names.release_history_parameter}"),
                       arn("ssm", f"parameter{names.one_off_image_parameter}")],
        ),
        iam.PolicyStatement(
            # One release at a time: created without overwrite, deleted by its holder.
            sid="ReleaseLock",
            actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
            resources=[arn("ssm", f"parameter{names.release_lock_parameter}")],
        ),
        iam.PolicyStatement(
            sid="ReadOwnStacks",
            actions=["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                     "cloudformation:DescribeStackResources", "cloudformation:GetTemplate"],
            resources=own_stacks,
        ),
        iam.PolicyStatement(
            # A release changes the service stack alone; foundation, edge and global are an administrator's.
            sid="ReleaseServiceStack",
            actions=["cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
                     "cloudformation:DeleteChangeSet", "cloudformation:CancelUpdateStack"],
            resources=[service_stack],
        ),
        # What CloudFormation calls with this session for the resources a release changes: the handler
        # permissions of AWS::ECS::TaskDefinition, AWS::ECS::Service, AWS::ApplicationAutoScaling::ScalableTarget
        # and AWS::CloudWatch::Alarm in the CloudFormation resource schemas.
        iam.PolicyStatement(
            sid="TaskDefinitionRevisions",
            actions=["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
            resources=["*"],
            conditions=through_cloudformation,
        ),
        iam.PolicyStatement(
            sid="ServiceUpdate",
            actions=SERVICE_UPDATE,
            resources=[service, arn("ecs", f"task-definition/{names.task_family}:*"),
                       arn("ecs", f"task-definition/{names.one_off_family}:*")],
            conditions=through_cloudformation,
        ),
        iam.PolicyStatement(
            # shipyard run and a release's migrations: a task of this environment's two families, in its cluster only.
            sid="OneOffTasks",
            actions=["ecs:RunTask"],
            resources=[arn("ecs", f"task-definition/{names.task_family}:*"), arn("ecs", f"task-definition/{names.one_off_family}:*")],
            conditions={"ArnEquals": {"ecs:cluster": arn("ecs", f"cluster/{names.cluster}")}},
        ),
        iam.PolicyStatement(
            sid="StopOneOffTasks",
            actions=["ecs:StopTask"],
            resources=[arn("ecs", f"task/{names.cluster}/*")],
        ),
        iam.PolicyStatement(
            # The task's two roles, passed only to ECS tasks: by CloudFormation for a new task definition revision and
            # by RunTask for a one-off task (which takes no other roles: RegisterTaskDefinition is CloudFormation's only).
            sid="PassTaskRoles",
            actions=["iam:PassRole"],
            resources=[role(names.task_role), role(names.execution_role)],
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            sid="PassTrafficShiftRole",
            actions=["iam:PassRole"],
            resources=[role(names.traffic_role)],
            conditions={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}, **through_cloudformation},
        ),
        iam.PolicyStatement(
            sid="ReadServiceRoles",
            actions=["iam:GetRole"],
            resources=[role(names.task_role), role(names.execution_role), role(names.traffic_role)],
            conditions=through_cloudformation,
        ),
        iam.PolicyStatement(
            # On the first release the running count goes from 0 to desired: scalable target and alarm follow.
            sid="FirstReleaseScaling",
            actions=["application-autoscaling:RegisterScalableTarget", "application-autoscaling:DescribeScalableTargets",
                     "application-autoscaling:DescribeScheduledActions", "application-autoscaling:PutScheduledAction",
                     "application-autoscaling:DeleteScheduledAction", "application-autoscaling:TagResource",
                     "application-autoscaling:UntagResource", "application-autoscaling:ListTagsForResource"],
            resources=["*"],
            conditions=through_cloudformation,
        ),
        iam.PolicyStatement(
            sid="ServiceAlarms",
            actions=["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource",
                     "cloudwatch:ListTagsForResource"],
            resources=[alarms],
            conditions=through_cloudformation,
        ),
        iam.PolicyStatement(
            # status lists this environment's alarms; the production release guard reads the budget alarm, which lives
            # in us-east-1 with billing metrics.
            sid="ReadAlarms",
            actions=["cloudwatch:DescribeAlarms"],
            resources=[alarms, arn("cloudwatch", f"alarm:{names.budget_alarm}", region_="us-east-1")],
        ),
        iam.PolicyStatement(
            sid="ReleaseVerdict",
            actions=RELEASE_VERDICT,
            resources=[service, arn("ecs", f"task/{names.cluster}/*"), arn("ecs", f"container-instance/{names.cluster}/*")],
        ),
        iam.PolicyStatement(
            # The health gate runs during a blue/green deployment's bake; a failure stops it with rollback.
            sid="BlueGreenGate",
            actions=BLUE_GREEN_GATE,
            resources=[service, arn("ecs", f"service-deployment/{names.cluster}/{names.service}/*")],
        ),
        iam.PolicyStatement(
            sid="PublishSite",
            actions=["s3:ListBucket", "s3:PutObject", "s3:DeleteObject"],
            resources=[f"arn:{partition}:s3:::{names.site_bucket}", f"arn:{partition}:s3:::{names.site_bucket}/*"],
        ),
        iam.PolicyStatement(
            sid="ReadServiceLogs",
            actions=READ_LOGS,
            resources=[arn("logs", f"log-group:{names.log_group}:*")],
        ),
        iam.PolicyStatement(
            sid="ReadTargetHealth",
            actions=["elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTargetGroups"],
            resources=["*"],
        ),
    ]
    if source_repository_arn:
        statements.append(iam.PolicyStatement(sid="PromoteFromPreviousEnvironment", actions=PROMOTE_PULL,
                                              resources=[source_repository_arn]))
    if wakes:
        # An environment with awake hours: a release reads the scalable target's bounds and wakes a sleeping service
        # itself (release/awake.py), on this environment's target only (its tag; Application Auto Scaling authorizes
        # RegisterScalableTarget by the target's tags). Before it changes anything, Application Auto Scaling checks
        # with the caller's own permissions that the caller may update the target service (Application Auto Scaling
        # user guide, "Permissions validation for Application Auto Scaling API calls on target resources"; for ECS,
        # ecs:DescribeServices and ecs:UpdateService). That check is a forward access session, so aws:ViaAWSService
        # holds and aws:CalledVia does not name CloudFormation: the role may update its service only through an AWS
        # service acting for it, never by calling ECS itself.
        statements += [
            iam.PolicyStatement(sid="ReadScalingBounds", actions=["application-autoscaling:DescribeScalableTargets",
                                                                   "application-autoscaling:DescribeScheduledActions"],
                                resources=["*"]),
            # ... and bounds the wake: a one-time scheduled action on the same target puts it to sleep again.
            iam.PolicyStatement(sid="WakeForRelease", actions=["application-autoscaling:RegisterScalableTarget",
                                                                "application-autoscaling:PutScheduledAction",
                                                                "application-autoscaling:DeleteScheduledAction"],
                                resources=["*"],
                                conditions={"StringEquals": {"aws:ResourceTag/shipyard:environment": names.environment}}),
            iam.PolicyStatement(sid="WakeValidatedByAutoScaling", actions=["ecs:UpdateService"], resources=[service],
                                conditions={"Bool": {"aws:ViaAWSService": "true"}}),
        ]
    return statements


def grant_invalidation(scope: Construct, id: str, *, deploy_role_name: str, distribution_arn: str) -> iam.Policy:
    """publish-site's invalidation of exactly this distribution: attached to the deploy role from the edge stack,
    where the distribution's ARN exists (the role is made first, in the foundation stack)."""
    return iam.Policy(scope, id, roles=[iam.Role.from_role_name(scope, f"{id}Role", deploy_role_name)], statements=[
        iam.PolicyStatement(actions=["cloudfront:CreateInvalidation"], resources=[distribution_arn]),
    ])


def _workload_statements(stack: Stack, workloads: tuple[WorkloadGrant, ...]) -> list[iam.PolicyStatement]:
    """What a release does to each workload beside the primary service, on that workload's resources only."""
    partition, region, account = Aws.PARTITION, stack.region, stack.account

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    def role(name: str) -> str:
        return f"arn:{partition}:iam::{account}:role/{name}"

    names = [w.names for w in workloads]
    routed = [w.names for w in workloads if w.routed]
    jobs = [w.names for w in workloads if w.scheduled]
    queues = [arn("sqs", q) for w in workloads if w.queued for q in (w.names.queue, w.names.dead_letter_queue)]
    services = [arn("ecs", f"service/{n.cluster}/{n.service}") for w in workloads if not w.scheduled for n in (w.names,)]
    sources = [w.source_repository_arn for w in workloads if w.source_repository_arn]
    return [
        iam.PolicyStatement(sid="WorkloadImages", actions=ECR_PUSH_PULL, resources=[w.repository_arn for w in workloads]),
        *([iam.PolicyStatement(sid="PromoteWorkloadsFromPreviousEnvironment", actions=PROMOTE_PULL, resources=sources)]
          if sources else []),
        iam.PolicyStatement(sid="WorkloadImageParameters", actions=RELEASE_PARAMETER,
                            resources=[arn("ssm", f"parameter{n.image_parameter}") for n in names]),
        iam.PolicyStatement(sid="WorkloadServiceUpdate", actions=SERVICE_UPDATE, conditions=THROUGH_CLOUDFORMATION,
                            resources=[*services, *(arn("ecs", f"task-definition/{n.task_family}:*") for n in names)]),
        iam.PolicyStatement(sid="PassWorkloadTaskRoles", actions=["iam:PassRole"],
                            resources=[role(r) for n in names for r in (n.task_role, n.execution_role)],
                            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        *([iam.PolicyStatement(sid="PassWorkloadTrafficShiftRoles", actions=["iam:PassRole"],
                               resources=[role(n.traffic_role) for n in routed],
                               conditions={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}, **THROUGH_CLOUDFORMATION})]
          if routed else []),
        iam.PolicyStatement(sid="ReadWorkloadRoles", actions=["iam:GetRole"], conditions=THROUGH_CLOUDFORMATION,
                            resources=[role(r) for w in workloads
                                       for r in (w.names.task_role, w.names.execution_role, *([w.names.traffic_role] if w.routed else []),
                                                 *([w.names.run_role, w.names.scheduler_role] if w.scheduled else []))]),
        *([iam.PolicyStatement(sid="WorkerQueueDepth", actions=WORKER_VERDICT, resources=queues)] if queues else []),
        *(_job_statements(arn, role, jobs) if jobs else []),
        *([iam.PolicyStatement(sid="WorkloadVerdict", actions=RELEASE_VERDICT, resources=services),
           iam.PolicyStatement(sid="WorkloadBlueGreenGate", actions=BLUE_GREEN_GATE, resources=[
               *services, *(arn("ecs", f"service-deployment/{w.names.cluster}/{w.names.service}/*") for w in workloads if not w.scheduled)])]
          if services else []),
        iam.PolicyStatement(sid="ReadWorkloadLogs", actions=READ_LOGS, resources=[arn("logs", f"log-group:{n.log_group}:*") for n in names]),
    ]


# What a release changes of a job through CloudFormation (its task definition's new revision reaches the state machine
# and the schedule), and what `shipyard run --job` and a release's --smoke run do: start one execution and follow it.
JOB_UPDATE = ["states:UpdateStateMachine", "states:ListTagsForResource", "scheduler:UpdateSchedule"]
# Read by CloudFormation too, and directly by the release verdict (judge_job) and `status`.
JOB_READ = ["states:DescribeStateMachine", "scheduler:GetSchedule"]
JOB_RUN = ["states:StartExecution", "states:ListExecutions"]
JOB_EXECUTION = ["states:DescribeExecution", "states:StopExecution", "states:GetExecutionHistory"]


def _job_statements(arn: Callable[[str, str], str], role: Callable[[str], str], jobs: list[WorkloadNames]) -> list[iam.PolicyStatement]:
    machines = [arn("states", f"stateMachine:{n.state_machine}") for n in jobs]
    schedules = [arn("scheduler", f"schedule/default/{n.schedule}") for n in jobs]
    return [
        iam.PolicyStatement(sid="JobUpdate", actions=JOB_UPDATE, conditions=THROUGH_CLOUDFORMATION, resources=[*machines, *schedules]),
        iam.PolicyStatement(sid="ReadJobs", actions=JOB_READ, resources=[*machines, *schedules]),
        iam.PolicyStatement(sid="PassJobRoles", actions=["iam:PassRole"], conditions=THROUGH_CLOUDFORMATION,
                            resources=[role(r) for n in jobs for r in (n.run_role, n.scheduler_role)]),
        iam.PolicyStatement(sid="RunJob", actions=JOB_RUN, resources=machines),
        iam.PolicyStatement(sid="FollowJobRuns", actions=JOB_EXECUTION,
                            resources=[arn("states", f"execution:{n.state_machine}:*") for n in jobs]),
    ]
