"""A preview environment's one ECS service: one task that runs every service workload of the app, each as a container.

One task is one Fargate charge and one public IPv4 address however many workloads the app has (a task of four
services costs four of each); it takes the size of the workloads it holds (PREVIEW_SIZES). Each web workload's target
group registers the task's container of that workload (a service may have several load balancer entries: ECS
developer guide, "Register multiple target groups with a service"); backends are reached on localhost, as a task's
containers share its network namespace. It deploys rolling with the circuit breaker's rollback: nothing of a
preview has a bake, a blue/green pair or autoscaling, which is what makes it quick to create (docs/previews.md).
"""

from __future__ import annotations

from aws_cdk import Fn, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from shipyard.schedule import AwakeSchedule

# Fargate's (cpu, memory) for a preview's task by the number of long-running containers in it: the smallest size for
# one or two, the next for more (four Python processes of the examples fit 0.5 GB, an app's own may not).
PREVIEW_SIZES = ((2, 256, 512), (1000, 512, 1024))


def preview_size(containers: int) -> tuple[int, int]:
    """(cpu units, memory MiB) of a preview task of `containers` long-running containers."""
    return next((cpu, memory) for most, cpu, memory in PREVIEW_SIZES if containers <= most)


class PreviewService(Construct):
    def __init__(self, scope: Construct, id: str, *, service_name: str, cluster: str, task_definition: ecs.FargateTaskDefinition,
                 subnets: list[str], security_group: str, spot: bool, routes: list[tuple[str, int, str]],
                 awake: AwakeSchedule | None = None) -> None:
        """cluster: its name. subnets, security_group: the base environment's, which previews share.
        routes: (container, port, target group ARN) of each web workload.
        awake: [previews] awake's hours; outside them its scalable target holds it at 0 tasks."""
        super().__init__(scope, id)
        self.service = ecs.CfnService(
            self, "Service", service_name=service_name, cluster=cluster,
            task_definition=task_definition.task_definition_arn, desired_count=1,
            launch_type=None if spot else "FARGATE", platform_version="1.4.0",
            capacity_provider_strategy=[ecs.CfnService.CapacityProviderStrategyItemProperty(capacity_provider="FARGATE_SPOT", weight=1)]
            if spot else None,
            network_configuration=ecs.CfnService.NetworkConfigurationProperty(
                awsvpc_configuration=ecs.CfnService.AwsVpcConfigurationProperty(
                    subnets=subnets, security_groups=[security_group], assign_public_ip="ENABLED")),
            deployment_configuration=ecs.CfnService.DeploymentConfigurationProperty(
                minimum_healthy_percent=0, maximum_percent=200,
                deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(enable=True, rollback=True)),
            load_balancers=[ecs.CfnService.LoadBalancerProperty(container_name=container, container_port=port, target_group_arn=group)
                            for container, port, group in routes] or None,
            health_check_grace_period_seconds=30 if routes else None,
            propagate_tags="SERVICE", enable_ecs_managed_tags=True)
        if awake is not None:
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
        zone = TimeZone.of(awake.zone)
        target.scale_on_schedule("Wake", schedule=appscaling.Schedule.expression(awake.wake_cron), time_zone=zone,
                                 min_capacity=1, max_capacity=1)
        target.scale_on_schedule("Sleep", schedule=appscaling.Schedule.expression(awake.sleep_cron), time_zone=zone,
                                 min_capacity=0, max_capacity=0)
