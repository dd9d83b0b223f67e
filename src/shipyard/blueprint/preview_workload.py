"""One workload of a preview environment: its task definition, log group and roles, and (for a service) its ECS service.

A preview runs each workload once, on the smallest Fargate size, and deploys it rolling with the circuit breaker's
rollback: nothing of a preview has a bake, a blue/green pair or autoscaling, which is what makes it quick to create
and cheap to keep (docs/previews.md). Its task role may touch only resources tagged as this preview's: an explicit
deny on everything else outranks any allow added later (IAM user guide, "Policy evaluation logic").
"""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from shipyard.blueprint.service import container_health_check, fargate_task
from shipyard.blueprint.suppressions import EXECUTION_ROLE_STANDARD_GRANTS, PLAIN_SETTINGS_ONLY, suppress
from shipyard.naming import CONTAINER, PREVIEW_TAG, SERVICE_LOG_PREFIX, WorkloadNames
from shipyard.schedule import AwakeSchedule

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


def isolate(role: iam.IRole, preview: str) -> None:
    """Deny the role every isolated action on a resource not tagged as `preview`'s. StringNotEquals holds where the
    resource has no such tag at all (IAM user guide, "Condition operators": a missing key does not match), so the
    base environment's resources, which carry none, are out of reach."""
    role.add_to_principal_policy(iam.PolicyStatement(
        sid=ISOLATION_SID, effect=iam.Effect.DENY, actions=list(ISOLATED_ACTIONS), resources=["*"],
        conditions={"StringNotEquals": {f"aws:ResourceTag/{PREVIEW_TAG}": preview}}))


class PreviewWorkload(Construct):
    def __init__(self, scope: Construct, id: str, *, names: WorkloadNames, preview: str, cluster: str, image: str,
                 repository_name: str, architecture: str, cpu: int, memory: int, port: int | None,
                 environment: dict[str, str], secrets: dict[str, ecs.Secret], log_retention_days: int,
                 subnets: list[str], security_group: str, target_group_arn: str | None = None, service: bool = True,
                 spot: bool = False, service_connect: ecs.CfnService.ServiceConnectConfigurationProperty | None = None, container_health_path: str | None = None,
                 stop_timeout: int = 30, migrate: list[str] | None = None, awake: AwakeSchedule | None = None) -> None:
        """cluster: its name. image: repository@sha256:digest. subnets, security_group: the base environment's, which previews share.
        service=False: a job's task definition only (a preview's schedules are off; `shipyard run` starts it).
        service_connect: the ECS service's Service Connect settings.
        migrate: [release] migrate's command, run in a container of its own (the image, environment and secrets of
        this one, all phases at once) that the workload waits for to exit 0; self.migrations then.
        awake: [previews] awake's hours; outside them its service's scalable target holds it at 0 tasks."""
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=names.log_group, removal_policy=RemovalPolicy.DESTROY)
        self.log_group.node.default_child.retention_in_days = log_retention_days
        self.task_definition = fargate_task(self, names=names, cpu=cpu, memory=memory, architecture=architecture)
        isolate(self.task_definition.task_role, preview)
        logging = ecs.LogDriver.aws_logs(stream_prefix=SERVICE_LOG_PREFIX, log_group=self.log_group, mode=ecs.AwsLogDriverMode.NON_BLOCKING)
        environment = {**environment, "SHIPYARD_ENVIRONMENT": names.environment, "SHIPYARD_IMAGE": image}
        self.container = self.task_definition.add_container(
            CONTAINER, image=ecs.ContainerImage.from_registry(image), logging=logging, environment=environment,
            secrets=secrets or None, stop_timeout=Duration.seconds(stop_timeout), readonly_root_filesystem=True, essential=True,
            port_mappings=[ecs.PortMapping(container_port=port, name="http")] if port else None,
            health_check=container_health_check(port, container_health_path) if port and container_health_path else None)
        self.migrations = self.task_definition.add_container(
            MIGRATIONS_CONTAINER, image=ecs.ContainerImage.from_registry(image), command=migrate, logging=logging,
            environment=environment, secrets=secrets or None, readonly_root_filesystem=True, essential=False,
        ) if migrate else None
        if self.migrations:
            self.container.add_container_dependencies(ecs.ContainerDependency(container=self.migrations,
                                                                              condition=ecs.ContainerDependencyCondition.SUCCESS))
        # The images are the base environment's repositories' (the pipeline pushes a pull request's images there by
        # digest): the preview pulls them and nothing more.
        ecr.Repository.from_repository_name(self, "Repository", repository_name).grant_pull(self.task_definition.obtain_execution_role())
        suppress(self.task_definition.execution_role.node.find_child("DefaultPolicy"), EXECUTION_ROLE_STANDARD_GRANTS)
        suppress(self.task_definition, PLAIN_SETTINGS_ONLY)
        self.service = None
        if service:
            self.service = ecs.CfnService(
                self, "Service", service_name=names.service, cluster=cluster,
                task_definition=self.task_definition.task_definition_arn, desired_count=1,
                launch_type=None if spot else "FARGATE", platform_version="1.4.0",
                capacity_provider_strategy=[ecs.CfnService.CapacityProviderStrategyItemProperty(capacity_provider="FARGATE_SPOT", weight=1)]
                if spot else None,
                network_configuration=ecs.CfnService.NetworkConfigurationProperty(
                    awsvpc_configuration=ecs.CfnService.AwsVpcConfigurationProperty(
                        subnets=subnets, security_groups=[security_group], assign_public_ip="ENABLED")),
                deployment_configuration=ecs.CfnService.DeploymentConfigurationProperty(
                    minimum_healthy_percent=0, maximum_percent=200,
                    deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(enable=True, rollback=True)),
                load_balancers=[ecs.CfnService.LoadBalancerProperty(container_name=CONTAINER, container_port=port,
                                                                    target_group_arn=target_group_arn)]
                if target_group_arn and port else None,
                health_check_grace_period_seconds=30 if target_group_arn else None,
                service_connect_configuration=service_connect,
                propagate_tags="SERVICE", enable_ecs_managed_tags=True)
        if self.service is not None and awake is not None:
            self._sleep_outside(awake, cluster)

    def _sleep_outside(self, awake: AwakeSchedule, cluster: str) -> None:
        """Its one task in the awake hours, none outside them: two scheduled actions of Application Auto Scaling move
        the bounds, in the schedule's own time zone (the base environment's awake hours work the same way)."""
        stack = Stack.of(self)
        target = appscaling.ScalableTarget(
            self, "Awake", service_namespace=appscaling.ServiceNamespace.ECS, scalable_dimension="ecs:service:DesiredCount",
            resource_id=Fn.join("/", ["service", cluster, self.service.attr_name]), min_capacity=1, max_capacity=1,
            role=iam.Role.from_role_arn(self, "ScalingRole", f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
                                        "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"))
        target.node.add_dependency(self.service)
        zone = TimeZone.of(awake.zone)
        target.scale_on_schedule("Wake", schedule=appscaling.Schedule.expression(awake.wake_cron), time_zone=zone,
                                 min_capacity=1, max_capacity=1)
        target.scale_on_schedule("Sleep", schedule=appscaling.Schedule.expression(awake.sleep_cron), time_zone=zone,
                                 min_capacity=0, max_capacity=0)

