"""Application Auto Scaling: the bounds of the service's scalable target (awake hours move them)."""

from __future__ import annotations

from shipyard.aws.session import ServiceApi

NAMESPACE, DIMENSION = "ecs", "ecs:service:DesiredCount"


class AutoScaling(ServiceApi):
    service = "application-autoscaling"

    def service_bounds(self, cluster: str, service: str) -> tuple[int, int] | None:
        """(minimum, maximum) tasks of the ECS service's scalable target, or None before it exists."""
        targets = self._call("DescribeScalableTargets", ServiceNamespace=NAMESPACE, ResourceIds=[f"service/{cluster}/{service}"],
                             ScalableDimension=DIMENSION)["ScalableTargets"]
        return (int(targets[0]["MinCapacity"]), int(targets[0]["MaxCapacity"])) if targets else None

    def set_service_bounds(self, cluster: str, service: str, minimum: int, maximum: int) -> None:
        self._call("RegisterScalableTarget", ServiceNamespace=NAMESPACE, ResourceId=f"service/{cluster}/{service}",
                   ScalableDimension=DIMENSION, MinCapacity=minimum, MaxCapacity=maximum)
