"""One workload of a preview environment: its container in the preview's one task (a job: a task definition of its
own), its log group and its pull of its image.

A preview runs every service workload as a container of one task (blueprint/preview_service.py): one task is one
Fargate charge and one public IPv4 address, which is what keeps a preview of an app of several workloads at a few
dollars a month (docs/previews.md). The task's role may touch only resources tagged as this preview's: an explicit
deny on everything else outranks any allow added later (IAM user guide, "Policy evaluation logic").
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from shipyard.blueprint.service import container_health_check, fargate_task
from shipyard.blueprint.suppressions import EXECUTION_ROLE_STANDARD_GRANTS, PLAIN_SETTINGS_ONLY, suppress
from shipyard.naming import PREVIEW_TAG, SERVICE_LOG_PREFIX, WorkloadNames

# What a preview's code may do only to its own resources: the data-plane actions on secrets, parameters, queues,
# topics and objects. Each of these services authorizes by the resource's tags (aws:ResourceTag; the services' pages
# in the Service Authorization Reference).
ISOLATED_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "ssm:GetParameter", "ssm:GetParameters",
                    "ssm:GetParametersByPath", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sns:Publish", "s3:GetObject",
                    "s3:PutObject", "s3:DeleteObject", "s3:ListBucket")
ISOLATION_SID = "OnlyThisPreviewsResources"
MIGRATIONS_CONTAINER = "migrate"
DATABASE_CONTAINER = "database"
PORT_VARIABLE = "PORT"  # where a preview tells each workload the port it listens on in the shared task


def isolate(role: iam.IRole, preview: str) -> None:
    """Deny the role every isolated action on a resource not tagged as `preview`'s. StringNotEquals holds where the
    resource has no such tag at all (IAM user guide, "Condition operators": a missing key does not match), so the
    base environment's resources, which carry none, are out of reach."""
    role.add_to_principal_policy(iam.PolicyStatement(
        sid=ISOLATION_SID, effect=iam.Effect.DENY, actions=list(ISOLATED_ACTIONS), resources=["*"],
        conditions={"StringNotEquals": {f"aws:ResourceTag/{PREVIEW_TAG}": preview}}))


def own_task(scope: Construct, *, names: WorkloadNames, preview: str, cpu: int, memory: int, architecture: str) -> ecs.FargateTaskDefinition:
    """A task definition with the preview's deny on its task role: the preview's one task, or a job's."""
    task_definition = fargate_task(scope, names=names, cpu=cpu, memory=memory, architecture=architecture)
    isolate(task_definition.task_role, preview)
    suppress(task_definition, PLAIN_SETTINGS_ONLY)
    return task_definition


class PreviewWorkload(Construct):
    def __init__(self, scope: Construct, id: str, *, names: WorkloadNames, task_definition: ecs.FargateTaskDefinition,
                 container_name: str, image: str, repository_name: str, port: int | None, environment: dict[str, str],
                 secrets: dict[str, ecs.Secret], log_retention_days: int, container_health_path: str | None = None,
                 stop_timeout: int = 30, migrate: list[str] | None = None) -> None:
        """task_definition: the preview's one task (or a job's own). image: repository@sha256:digest.
        port: where it listens in the task (Settings.preview_ports), told in PORT.
        migrate: [release] migrate's command, run in a container of its own (the image, environment and secrets of
        this one, all phases at once) that the workload waits for to exit 0; self.migrations then."""
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=names.log_group, removal_policy=RemovalPolicy.DESTROY)
        self.log_group.node.default_child.retention_in_days = log_retention_days
        logging = ecs.LogDriver.aws_logs(stream_prefix=SERVICE_LOG_PREFIX, log_group=self.log_group, mode=ecs.AwsLogDriverMode.NON_BLOCKING)
        environment = {**environment, "SHIPYARD_ENVIRONMENT": names.environment, "SHIPYARD_IMAGE": image,
                       **({PORT_VARIABLE: str(port)} if port else {})}
        self.container = task_definition.add_container(
            container_name, image=ecs.ContainerImage.from_registry(image), logging=logging, environment=environment,
            secrets=secrets or None, stop_timeout=Duration.seconds(stop_timeout), readonly_root_filesystem=True, essential=True,
            port_mappings=[ecs.PortMapping(container_port=port, name=container_name)] if port else None,
            health_check=container_health_check(port, container_health_path) if port and container_health_path else None)
        self.migrations = task_definition.add_container(
            MIGRATIONS_CONTAINER, image=ecs.ContainerImage.from_registry(image), command=migrate, logging=logging,
            environment=environment, secrets=secrets or None, readonly_root_filesystem=True, essential=False,
        ) if migrate else None
        if self.migrations:
            self.container.add_container_dependencies(ecs.ContainerDependency(container=self.migrations,
                                                                              condition=ecs.ContainerDependencyCondition.SUCCESS))
        # The images are the base environment's repositories' (the pipeline pushes a pull request's images there by
        # digest): the preview pulls them and nothing more.
        execution_role = task_definition.obtain_execution_role()
        ecr.Repository.from_repository_name(self, "Repository", repository_name).grant_pull(execution_role)
        suppress(task_definition.execution_role.node.find_child("DefaultPolicy"), EXECUTION_ROLE_STANDARD_GRANTS)
