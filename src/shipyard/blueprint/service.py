"""ECS cluster, Fargate task definition and service, with CPU autoscaling.

The image is not part of the blueprint: the task definition reads it from the
environment's SSM image parameter through a CloudFormation parameter, which
CloudFormation resolves again on every stack update. Deploying infrastructure
therefore never reverts a release, and a release is a parameter write plus a
stack update. Until the first release the parameter holds naming.NO_IMAGE and
the service runs zero tasks, so a fresh environment deploys before any image
exists.

A second task definition, the one-off family, is the same container with the
image from its own SSM parameter and no port: `shipyard run --digest` and a
release's migrations run a new image there before any service task runs it,
without the deploy role registering task definitions itself.

Every environment runs on Fargate platform 1.4.0, named rather than LATEST, because Fargate Spot runs ARM64 tasks
from that version on (ECS API reference, CapacityProviderStrategyItem). An environment with awake hours scales to
zero outside them through two Application Auto Scaling scheduled actions in its own time zone. Where ECS Exec is
on, the task role gets the SSM messages channel permissions and the cluster logs every session to its own group.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, Fn, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shipyard.blueprint.suppressions import (
    CONTAINER_INSIGHTS_OPTIONAL,
    EXEC_CHANNELS,
    EXECUTION_ROLE_STANDARD_GRANTS,
    PLAIN_SETTINGS_ONLY,
    TRAFFIC_SHIFT_READS,
    suppress,
)
from shipyard.config.models import secret_in
from shipyard.naming import CONTAINER, NO_IMAGE, ONE_OFF_LOG_PREFIX, SERVICE_LOG_PREFIX, Names, WorkloadNames
from shipyard.schedule import AwakeSchedule


@dataclass(frozen=True)
class Backlog:
    """A worker's scaling: target tracking on its queue's backlog per task (Application Auto Scaling user guide,
    "Create a target tracking scaling policy for Application Auto Scaling using metric math", example "Amazon SQS
    queue backlog per task"): visible messages divided by running tasks (Container Insights' RunningTaskCount, so the
    worker's cluster has it on). With no task running there is no RunningTaskCount at all (ECS reports nothing for a
    service without running tasks), so FILL counts one: the whole backlog then stands for one task, and a worker
    scaled to zero scales out when work arrives."""

    queue_name: str
    per_task: int

    def track(self, scaling: ecs.ScalableTaskCount, *, cluster_name: str, service_name: str) -> None:
        target = scaling.node.find_child("Target")

        def stat(id: str, namespace: str, metric: str, dimensions: dict[str, str], statistic: str):
            return appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
                id=id, return_data=False, metric_stat=appscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
                    stat=statistic, metric=appscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                        namespace=namespace, metric_name=metric,
                        dimensions=[appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name=k, value=v)
                                    for k, v in dimensions.items()])))

        appscaling.CfnScalingPolicy(
            scaling, "Backlog", policy_name=f"{service_name}-backlog-per-task", policy_type="TargetTrackingScaling",
            scaling_target_id=target.scalable_target_id,
            target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=self.per_task, scale_out_cooldown=60, scale_in_cooldown=300,
                customized_metric_specification=appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(metrics=[
                    stat("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": self.queue_name}, "Sum"),
                    stat("tasks", "ECS/ContainerInsights", "RunningTaskCount",
                         {"ClusterName": cluster_name, "ServiceName": service_name}, "Average"),
                    appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
                        id="backlog", expression="visible / FILL(tasks, 1)", label="Messages per running task", return_data=True),
                ])))


ARCHITECTURES = {"x86_64": ecs.CpuArchitecture.X86_64, "arm64": ecs.CpuArchitecture.ARM64}
# How long the previous revision keeps running after traffic moved: shipyard's health gate runs in this window
# (ECS takes whole minutes); the deployment alarm watches it too.
BAKE_TIME = Duration.minutes(1)


class Service(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        target_group: elbv2.IApplicationTargetGroup | None,
        alternate_target_group: elbv2.IApplicationTargetGroup | None,
        production_rule: elbv2.ApplicationListenerRule | None,
        repository: ecr.IRepository,
        names: Names | WorkloadNames,
        log_retention_days: int,
        architecture: str,
        cpu: int,
        memory: int,
        port: int | None,
        desired_count: int,
        max_count: int,
        cpu_target: int,
        stop_timeout: int,
        health_check_grace_seconds: int,
        environment: dict[str, str],
        secrets: dict[str, str],
        container_insights: bool,
        granted_secrets: dict[str, ecs.Secret] | None = None,
        retain_logs: bool,
        spot: bool = False,
        awake: AwakeSchedule | None = None,
        ecs_exec: bool = False,
        cluster: ecs.Cluster | None = None,
        backlog: Backlog | None = None,
        service_connect: ecs.ServiceConnectProps | None = None,
        container_health_path: str | None = None,
    ) -> None:
        """cluster: the environment's, for a workload beside the primary service, which creates it (and the one-off
        task family that migrations and `shipyard run` use).
        target_group, alternate_target_group, production_rule and port: None for a workload nothing routes to (a
        worker, a backend), which deploys rolling (ECS's blue/green needs a load balancer); a worker scales on `backlog`
        instead of CPU. container_health_path: a backend's, which no load balancer checks: the container checks itself
        (ECS runs the command in the container; `python` is what a Python image has, where curl may be missing)."""
        super().__init__(scope, id)
        primary = cluster is None
        cluster_name, service_name = names.cluster, names.service
        self.image = CfnParameter(
            self, "Image",
            type="AWS::SSM::Parameter::Value<String>",
            default=names.image_parameter,
            description="SSM parameter holding the released image (repository@sha256:digest)",
        )
        self.has_image = CfnCondition(
            self, "HasImage", expression=Fn.condition_not(Fn.condition_equals(self.image.value_as_string, NO_IMAGE)),
        )

        def log_group(id: str, name: str) -> logs.LogGroup:
            group = logs.LogGroup(self, id, log_group_name=name,
                                  removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY)
            # RetentionDays is an enum of names; config.py has already checked the
            # number against the values CloudWatch Logs accepts.
            group.node.default_child.retention_in_days = log_retention_days
            return group

        # With ECS Exec on, CDK grants the task role the SSM messages channels and writes to this group.
        if cluster is None:
            exec_logging = ecs.ExecuteCommandConfiguration(
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(cloud_watch_log_group=log_group("ExecLogs", names.exec_log_group)),
            ) if ecs_exec else None
            cluster = ecs.Cluster(
                self, "Cluster", cluster_name=cluster_name, vpc=vpc,
                container_insights_v2=ecs.ContainerInsights.ENABLED if container_insights else ecs.ContainerInsights.DISABLED,
                enable_fargate_capacity_providers=spot, execute_command_configuration=exec_logging,
            )
            if not container_insights:
                suppress(cluster, CONTAINER_INSIGHTS_OPTIONAL)
        self.cluster = cluster
        self.log_group = log_group("Logs", names.log_group)
        stack = Stack.of(self)
        # Named roles, so the deploy role passes exactly these two.
        self.task_definition = fargate_task(self, names=names, cpu=cpu, memory=memory, architecture=architecture)
        container_secrets = {**{name: container_secret(self, name, ref, names.environment) for name, ref in secrets.items()},
                             **(granted_secrets or {})}

        def container(definition: ecs.FargateTaskDefinition, image: str, stream_prefix: str, **options: object) -> ecs.ContainerDefinition:
            return definition.add_container(
                CONTAINER,
                image=ecs.ContainerImage.from_registry(image),
                logging=ecs.LogDriver.aws_logs(stream_prefix=stream_prefix, log_group=self.log_group,
                                                mode=ecs.AwsLogDriverMode.NON_BLOCKING),
                # The service can say what it runs: the released image and the environment, as ECS hands them over.
                environment={**environment, "SHIPYARD_ENVIRONMENT": names.environment, "SHIPYARD_IMAGE": image},
                secrets=container_secrets,
                stop_timeout=Duration.seconds(stop_timeout),
                # The image runs as its own non-root user and writes only to stdout.
                readonly_root_filesystem=True,
                essential=True,
                **options,
            )

        self.container = container(self.task_definition, self.image.value_as_string, SERVICE_LOG_PREFIX,
                                   port_mappings=[ecs.PortMapping(container_port=port, name="http")] if port else None,
                                   health_check=container_health_check(port, container_health_path)
                                   if port and container_health_path else None)
        if primary:
            self.one_off_image = CfnParameter(
                self, "OneOffImage", type="AWS::SSM::Parameter::Value<String>", default=names.one_off_image_parameter,
                description="SSM parameter holding the image one-off tasks run (repository@sha256:digest)")
            self.one_off_task_definition = ecs.FargateTaskDefinition(
                self, "OneOffTask", cpu=cpu, memory_limit_mib=memory, family=names.one_off_family,
                task_role=self.task_definition.task_role, execution_role=self.task_definition.execution_role,
                runtime_platform=ecs.RuntimePlatform(cpu_architecture=ARCHITECTURES[architecture],
                                                     operating_system_family=ecs.OperatingSystemFamily.LINUX))
            container(self.one_off_task_definition, self.one_off_image.value_as_string, ONE_OFF_LOG_PREFIX)
            if environment:
                suppress(self.one_off_task_definition, PLAIN_SETTINGS_ONLY)
        routed = target_group is not None and alternate_target_group is not None and production_rule is not None and port is not None
        execution_role = self.task_definition.obtain_execution_role()
        repository.grant_pull(execution_role)
        suppress(self.task_definition.execution_role.node.find_child("DefaultPolicy"), EXECUTION_ROLE_STANDARD_GRANTS)
        if environment or not primary:  # a workload's container always has SHIPYARD_ENVIRONMENT and SHIPYARD_IMAGE
            suppress(self.task_definition, PLAIN_SETTINGS_ONLY)

        self.service = ecs.FargateService(
            self, "Service",
            service_name=service_name,
            platform_version=ecs.FargatePlatformVersion.VERSION1_4,
            enable_execute_command=ecs_exec,
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            vpc_subnets=subnets,
            # Tasks pull images through the internet gateway: no NAT gateway to pay for.
            assign_public_ip=True,
            security_groups=[security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            # Blue/green (docs/decisions.md §18): the new revision starts beside the running one, traffic moves
            # by the production rule's weights, and during the bake the old revision keeps running, so a
            # failed health gate moves traffic back instead of starting tasks again.
            deployment_strategy=ecs.DeploymentStrategy.BLUE_GREEN if routed else None,
            bake_time=BAKE_TIME if routed else None,
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(health_check_grace_seconds),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
            # Spot for environments that can take a two-minute reclaim: about 70% off compute, x86_64 or ARM64.
            capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)]
            if spot else None,
            service_connect_configuration=service_connect,
        )
        if routed:
            self._route(names, service_name, stack, target_group, alternate_target_group, production_rule, port)
        running = Fn.condition_if(self.has_image.logical_id, desired_count, 0)
        self.running_target = running
        # Before the first release the service runs nothing. After it, the template names no desired count: with one,
        # every stack update that touches the service (each release) would set it back to the template's number,
        # undoing autoscaling under load and waking a sleeping environment; without one, CloudFormation's
        # UpdateService omits it (AWS::ECS::Service, DesiredCount) and the scalable target's bounds own the count.
        # The first release raises the target's minimum from 0, and Application Auto Scaling starts the tasks.
        self.service.node.default_child.add_property_override(
            "DesiredCount", Fn.condition_if(self.has_image.logical_id, Aws.NO_VALUE, 0))

        self.scaling = self.service.auto_scale_task_count(min_capacity=desired_count, max_capacity=max_count)
        if backlog is None:
            self.scaling.scale_on_cpu_utilization(
                "Cpu", target_utilization_percent=cpu_target,
                scale_out_cooldown=Duration.seconds(60), scale_in_cooldown=Duration.seconds(300),
            )
        else:
            backlog.track(self.scaling, cluster_name=cluster_name, service_name=service_name)
        scalable_target = self.scaling.node.find_child("Target").node.default_child
        scalable_target.add_property_override("MinCapacity", running)
        if awake:
            zone = TimeZone.of(awake.zone)
            self.scaling.scale_on_schedule("Wake", schedule=appscaling.Schedule.expression(awake.wake_cron), time_zone=zone,
                                           min_capacity=desired_count, max_capacity=max_count)
            self.scaling.scale_on_schedule("Sleep", schedule=appscaling.Schedule.expression(awake.sleep_cron), time_zone=zone,
                                           min_capacity=0, max_capacity=0)
            # Before the first release there is nothing to wake: the morning action keeps it at zero too.
            scalable_target.add_property_override("ScheduledActions.0.ScalableTargetAction.MinCapacity", running)
        if ecs_exec:
            suppress(self.task_definition.task_role.node.find_child("DefaultPolicy"), EXEC_CHANNELS)

    def _route(self, names: Names | WorkloadNames, service_name: str, stack: Stack, target_group: elbv2.IApplicationTargetGroup,
               alternate_target_group: elbv2.IApplicationTargetGroup, production_rule: elbv2.ApplicationListenerRule,
               port: int) -> None:
        # The role ECS uses to move traffic: writes on the production rule and the two target groups only
        # (instead of the broader AWS-managed AmazonECSInfrastructureRolePolicyForLoadBalancers).
        traffic_role = iam.Role(self, "TrafficShiftRole", role_name=names.traffic_role,
                                assumed_by=iam.ServicePrincipal("ecs.amazonaws.com",
                                                                conditions=_this_account_only(stack, if_exists=True)),
                                description=f"ECS moves {service_name} traffic between its blue and green target groups")
        traffic_role.add_to_policy(iam.PolicyStatement(actions=["elasticloadbalancing:ModifyRule"],
                                                       resources=[production_rule.listener_rule_arn]))
        traffic_role.add_to_policy(iam.PolicyStatement(
            actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            resources=[target_group.target_group_arn, alternate_target_group.target_group_arn]))
        traffic_role.add_to_policy(iam.PolicyStatement(actions=["elasticloadbalancing:Describe*"], resources=["*"]))
        suppress(traffic_role.node.find_child("DefaultPolicy"), TRAFFIC_SHIFT_READS)
        self.service.load_balancer_target(
            container_name=CONTAINER, container_port=port,
            alternate_target=ecs.AlternateTarget("AlternateTarget", alternate_target_group=alternate_target_group,
                                                 production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                                                     production_rule), role=traffic_role),
        ).attach_to_application_target_group(target_group)


def container_health_check(port: int, path: str) -> ecs.HealthCheck:
    """A request to the health path from inside the container; healthy on 2xx/3xx (urlopen raises otherwise). ECS stops
    a task whose essential container turns UNHEALTHY and counts it against the deployment (ECS developer guide,
    "Determine Amazon ECS task health using container health checks")."""
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=4)"
    return ecs.HealthCheck(command=["CMD", "python", "-c", probe], interval=Duration.seconds(10), timeout=Duration.seconds(5),
                           retries=2, start_period=Duration.seconds(10))


def fargate_task(scope: Construct, *, names: Names | WorkloadNames, cpu: int, memory: int, architecture: str) -> ecs.FargateTaskDefinition:
    """A task definition of the family's name, with its named task and execution roles (which ECS assumes for this
    account's tasks only), on Linux of the architecture."""
    stack = Stack.of(scope)
    return ecs.FargateTaskDefinition(
        scope, "Task", cpu=cpu, memory_limit_mib=memory, family=names.task_family,
        task_role=task_service_role(scope, "TaskRole", names.task_role, stack),
        execution_role=task_service_role(scope, "ExecutionRole", names.execution_role, stack),
        runtime_platform=ecs.RuntimePlatform(cpu_architecture=ARCHITECTURES[architecture],
                                             operating_system_family=ecs.OperatingSystemFamily.LINUX))


def task_service_role(scope: Construct, id: str, name: str, stack: Stack) -> iam.Role:
    """A role ECS assumes for this account's tasks only: aws:SourceAccount and aws:SourceArn stop another account's
    ECS from being made to act as it (the cross-service confused deputy; ECS developer guide, "Task IAM role")."""
    return iam.Role(scope, id, role_name=name,
                    assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com", conditions=_this_account_only(stack)))


def _this_account_only(stack: Stack, *, if_exists: bool = False) -> dict[str, dict[str, str]]:
    """Trust conditions naming this account and its ECS resources as the only source of the request.

    if_exists: the condition holds where the request carries no source (IAM user guide, "...IfExists condition
    operators"). ECS documents the source keys for the task roles but not for its infrastructure role for load
    balancers (ECS developer guide, "Amazon ECS infrastructure IAM role for load balancers"), whose documented trust
    has no condition; requiring keys ECS may not send would refuse every traffic shift (docs/decisions.md §18).
    """
    suffix = "IfExists" if if_exists else ""
    return {f"StringEquals{suffix}": {"aws:SourceAccount": stack.account},
            f"ArnLike{suffix}": {"aws:SourceArn": f"arn:{stack.partition}:ecs:{stack.region}:{stack.account}:*"}}


def container_secret(scope: Construct, name: str, ref: str, environment: str) -> ecs.Secret:
    """An ECS secret from a shipyard.toml reference, as `environment` reads it."""
    kind, _, target = secret_in(ref, environment).partition(":")
    if kind == "ssm":
        parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
            scope, f"Secret{name}", parameter_name=target,
        )
        return ecs.Secret.from_ssm_parameter(parameter)
    if target.startswith("arn:"):
        secret = secretsmanager.Secret.from_secret_complete_arn(scope, f"Secret{name}", target)
    else:
        secret = secretsmanager.Secret.from_secret_name_v2(scope, f"Secret{name}", target)
    return ecs.Secret.from_secrets_manager(secret)
