"""Application Auto Scaling: the bounds of the service's scalable target (awake hours move them), and one-time
scheduled bounds (the end of a wake for a release)."""

from __future__ import annotations

from datetime import UTC, datetime

from shipyard.aws.session import AwsError, ServiceApi

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

    def set_service_bounds_at(self, cluster: str, service: str, *, name: str, at: datetime, minimum: int, maximum: int) -> None:
        """A one-time scheduled action (at(...), in UTC) that sets the bounds then; one of the same name is replaced."""
        self._call("PutScheduledAction", ServiceNamespace=NAMESPACE, ScheduledActionName=name,
                   ResourceId=f"service/{cluster}/{service}", ScalableDimension=DIMENSION,
                   Schedule=f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})", Timezone="UTC",
                   ScalableTargetAction={"MinCapacity": minimum, "MaxCapacity": maximum})

    def clear_one_time_action(self, cluster: str, service: str, name: str) -> None:
        """Deletes the scheduled action `name` of the service, where it exists."""
        try:
            self._call("DeleteScheduledAction", ServiceNamespace=NAMESPACE, ScheduledActionName=name,
                       ResourceId=f"service/{cluster}/{service}", ScalableDimension=DIMENSION)
        except AwsError as exc:
            if exc.code != "ObjectNotFoundException":
                raise

    def one_time_action(self, cluster: str, service: str, name: str) -> datetime | None:
        """When the one-time scheduled action `name` of the service runs, or None where there is none."""
        actions = self._pages("DescribeScheduledActions", "ScheduledActions", ServiceNamespace=NAMESPACE,
                              ResourceId=f"service/{cluster}/{service}", ScalableDimension=DIMENSION,
                              ScheduledActionNames=[name])
        schedule = actions[0]["Schedule"] if actions else ""
        if not schedule.startswith("at("):
            return None
        return datetime.strptime(schedule[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
