"""AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy into moto's backend."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel

from shipyard.localaws.core import pace
from shipyard.localaws.core.base import Handler, patch, properties, wrap

# Application Auto Scaling's schedule forms (PutScheduledAction, "Schedule"): at(...), rate(...) and a six-field cron.
_SCHEDULE = re.compile(r"^(at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$")


def _validated_put_scheduled_action(original):
    """PutScheduledAction refuses a malformed schedule or a time zone that is not an IANA name; moto takes both."""
    def wrapper(self, service_namespace, schedule, timezone, *args, **kwargs):
        from moto.applicationautoscaling.exceptions import AWSValidationException

        if not _SCHEDULE.match(schedule or ""):
            raise AWSValidationException(f"Invalid schedule expression: {schedule!r}")
        try:
            ZoneInfo(timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise AWSValidationException(f"Invalid timezone: {timezone!r}") from None
        return original(self, service_namespace, schedule, timezone, *args, **kwargs)

    return wrapper


def _bounds(props: dict) -> tuple[int, int]:
    return int(props["MinCapacity"]), int(props["MaxCapacity"])


class ScalableTarget(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    def __init__(self, namespace: str, resource_id: str, dimension: str, bounds: tuple[int, int]) -> None:
        self.namespace, self.resource_id, self.dimension = namespace, resource_id, dimension
        self.bounds = bounds  # the template's (MinCapacity, MaxCapacity), which an update compares
        self.templated: set[str] = set()  # names of the scheduled actions the template declares
        # The same "resource|dimension|namespace" identifier CloudFormation returns.
        self.physical_id = f"{resource_id}|{dimension}|{namespace}"
        self.attributes = {"Id": self.physical_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        target = cls(props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"], _bounds(props))
        target._register(props, account_id, region_name)
        target._replace_scheduled_actions(props.get("ScheduledActions") or [], account_id, region_name)
        target._tag(props, account_id, region_name)
        return target

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        """CloudFormation replaces a scalable target only for a new namespace, resource or dimension; other changes are
        made in place, and its bounds are set only when the template changes them, so a stack update during a
        scheduled sleep leaves the service asleep (AWS::ApplicationAutoScaling::ScalableTarget, "Update requires").
        A replacement would deregister the target, and its scaling policies with it."""
        props = properties(cloudformation_json)
        same_target = (original_resource.namespace, original_resource.resource_id, original_resource.dimension) == (
            props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"])
        if not same_target:
            return super().update_from_cloudformation_json(original_resource, new_resource_name, cloudformation_json,
                                                            account_id, region_name)
        if _bounds(props) != original_resource.bounds:
            original_resource.bounds = _bounds(props)
            original_resource._register(props, account_id, region_name)
        original_resource._replace_scheduled_actions(props.get("ScheduledActions") or [], account_id, region_name)
        original_resource._tag(props, account_id, region_name)
        return original_resource

    def _register(self, props: dict, account_id: str, region_name: str) -> None:
        """RegisterScalableTarget with the template's bounds: it creates the target, or updates the one there."""
        minimum, maximum = self.bounds
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            namespace=self.namespace, r_id=self.resource_id, dimension=self.dimension,
            min_capacity=minimum, max_capacity=maximum,
            role_arn=props.get("RoleARN", ""), suspended_state=props.get("SuspendedState"))

    def _tag(self, props: dict, account_id: str, region_name: str) -> None:
        """The template's Tags become the target's (its resource schema: tagOnCreate, tagUpdatable)."""
        target = applicationautoscaling_backends[account_id][region_name].targets[self.dimension][self.resource_id]
        target.tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}

    def _replace_scheduled_actions(self, actions: list[dict], account_id: str, region_name: str) -> None:
        """The template's scheduled actions of this target become `actions` (none: they are gone with it); actions
        put through the API (a release's end of a wake) are not the template's and stay."""
        backend = applicationautoscaling_backends[account_id][region_name]
        templated = self.templated | {a["ScheduledActionName"] for a in actions}
        backend.scheduled_actions = [a for a in backend.scheduled_actions
                                     if a.resource_id != self.resource_id or a.scheduled_action_name not in templated]
        self.templated = {a["ScheduledActionName"] for a in actions}
        for action in actions:
            backend.put_scheduled_action(
                service_namespace=self.namespace, schedule=action["Schedule"], timezone=action.get("Timezone"),
                scheduled_action_name=action["ScheduledActionName"], resource_id=self.resource_id,
                scalable_dimension=self.dimension, start_time=action.get("StartTime"), end_time=action.get("EndTime"),
                scalable_target_action={k[0].lower() + k[1:]: int(v) for k, v in action.get("ScalableTargetAction", {}).items()})

    def delete(self, account_id: str, region_name: str) -> None:
        self._replace_scheduled_actions([], account_id, region_name)
        backend = applicationautoscaling_backends[account_id][region_name]
        if backend.targets.get(self.dimension, {}).get(self.resource_id):
            backend.deregister_scalable_target(self.namespace, self.resource_id, self.dimension)


class ScalingPolicy(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    def __init__(self, arn: str, name: str, namespace: str, resource_id: str, dimension: str) -> None:
        self.physical_id = arn
        self.name, self.namespace, self.resource_id, self.dimension = name, namespace, resource_id, dimension
        self.attributes = {"Arn": arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        if "ScalingTargetId" in props:
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=props["PolicyName"], service_namespace=namespace, resource_id=resource_id,
            scalable_dimension=dimension, policy_type=props["PolicyType"],
            policy_body=props.get("TargetTrackingScalingPolicyConfiguration") or props.get("StepScalingPolicyConfiguration"),
        )
        return cls(policy.policy_arn, props["PolicyName"], namespace, resource_id, dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        # The policy may already be gone with its scalable target.
        with contextlib.suppress(Exception):
            backend.delete_scaling_policy(self.name, self.namespace, self.resource_id, self.dimension)


def _register_scalable_target(original):
    """Application Auto Scaling keeps an ECS service's desired count within the target's bounds: a minimum above it
    raises it, a maximum below it (0 when a schedule puts the service to sleep) lowers it."""
    def wrapper(self, namespace, r_id, dimension, min_capacity=None, max_capacity=None, *args, **kwargs):
        result = original(self, namespace, r_id, dimension, min_capacity, max_capacity, *args, **kwargs)
        if namespace == "ecs" and dimension == "ecs:service:DesiredCount":
            target = self.targets[dimension][r_id]
            from shipyard.localaws.ecs.handlers import scale_service

            _, cluster, service = r_id.split("/")
            scale_service(self.account_id, self.region_name, cluster, service, target.min_capacity, target.max_capacity)
        return result

    return wrapper


_pending: list[threading.Event] = []  # set: the countdown stops


def _after(aws_seconds: float, run) -> None:
    """run() once `aws_seconds` of AWS's time have passed at the embedded AWS's pace, read as the time goes (a test
    that raises the pace mid-way fast-forwards the clock, as the emulator's other timers follow the pace too)."""
    stop = threading.Event()

    def count_down() -> None:
        left = aws_seconds
        while left > 0 and not stop.wait(0.05):
            left -= 0.05 * pace.factor()
        if not stop.is_set():
            run()

    _pending.append(stop)
    threading.Thread(target=count_down, daemon=True, name="scheduled-action").start()


def _one_time_actions_run_when_due(original):
    """A one-time scheduled action (at(...)) sets the target's bounds at its time, as Application Auto Scaling does
    ("Scheduled scaling"), that time compressed as every AWS timer of the embedded AWS (pace.py); replaced or deleted
    before then, it does nothing."""
    def wrapper(self, service_namespace, schedule, timezone, scheduled_action_name, resource_id, scalable_dimension,
                *args, **kwargs):
        result = original(self, service_namespace, schedule, timezone, scheduled_action_name, resource_id,
                          scalable_dimension, *args, **kwargs)
        if schedule.startswith("at("):
            due = datetime.strptime(schedule[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=ZoneInfo(timezone or "UTC"))
            wait = max(0.0, (due - datetime.now(UTC)).total_seconds())


            def run() -> None:
                action = next((a for a in self.scheduled_actions if a.scheduled_action_name == scheduled_action_name
                               and a.resource_id == resource_id), None)
                if action is None or action.schedule != schedule:
                    return
                # The API keeps the action as it was put (MinCapacity), a template's handler in moto's shape (minCapacity).
                bounds = {k.lower(): v for k, v in action.scalable_target_action.items()}
                self.register_scalable_target(namespace=service_namespace, r_id=resource_id, dimension=scalable_dimension,
                                              min_capacity=bounds.get("mincapacity"), max_capacity=bounds.get("maxcapacity"),
                                              role_arn=None, suspended_state=None)

            _after(wait, run)
        return result

    return wrapper


def _deregister_with_its_actions(original):
    """Deregistering a scalable target deletes its scaling policies and scheduled actions (Application Auto Scaling
    API reference, DeregisterScalableTarget); moto kept them, and a one-time action put through the API outlived
    its target (a preview's end of a wake, after `preview destroy`)."""
    def wrapper(self, namespace, r_id, dimension, *args, **kwargs):
        result = original(self, namespace, r_id, dimension, *args, **kwargs)
        self.scheduled_actions = [a for a in self.scheduled_actions if (a.resource_id, a.scalable_dimension) != (r_id, dimension)]
        self.policies = {key: policy for key, policy in self.policies.items()
                         if (policy.resource_id, policy.scalable_dimension) != (r_id, dimension)}
        return result

    return wrapper


def _tags_on_create(original):
    """RegisterScalableTarget's Tags tag the target it creates; an existing target keeps its tags (TagResource changes
    those). moto took no Tags at all."""
    def wrapper(self):
        request = json.loads(self.body or "{}")
        backend = self.applicationautoscaling_backend
        existing = backend.targets.get(request.get("ScalableDimension"), {}).get(request.get("ResourceId"))
        answer = original(self)
        if existing is None:
            target = backend.targets[request["ScalableDimension"]][request["ResourceId"]]
            target.tags = dict(request.get("Tags") or {})
        return answer

    return wrapper


def _target_by_arn(backend, arn: str):
    """The scalable target `arn` names; ResourceNotFoundException (which moto's Application Auto Scaling lacks) where
    none does."""
    from moto.applicationautoscaling.exceptions import AWSValidationException
    from moto.core.exceptions import JsonRESTError

    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    if ":scalable-target/" not in arn:
        raise AWSValidationException(f"Invalid ResourceARN: {arn!r}")
    raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")


def _list_tags_for_resource(self) -> str:
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    return json.dumps({"Tags": getattr(target, "tags", {})})


def _tag_resource(self) -> str:
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    target.tags = {**getattr(target, "tags", {}), **(self._get_param("Tags") or {})}
    return "{}"


def _untag_resource(self) -> str:
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    target.tags = {k: v for k, v in getattr(target, "tags", {}).items() if k not in (self._get_param("TagKeys") or [])}
    return "{}"


def reset() -> None:
    """Pending one-time actions go with the server."""
    while _pending:
        _pending.pop().set()


def install() -> None:
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend

    wrap(ApplicationAutoscalingBackend, "put_scheduled_action", _one_time_actions_run_when_due,
         corrects="a one-time scheduled action (at(...)) never runs")
    wrap(ApplicationAutoscalingBackend, "put_scheduled_action", _validated_put_scheduled_action,
         corrects="scheduled actions are stored with any schedule string and any time zone name")
    wrap(ApplicationAutoscalingBackend, "deregister_scalable_target", _deregister_with_its_actions,
         corrects="deregistering a scalable target keeps its scheduled actions and scaling policies")
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    wrap(ApplicationAutoScalingResponse, "register_scalable_target", _tags_on_create,
         corrects="RegisterScalableTarget ignores Tags")
    for name, operation in (("list_tags_for_resource", _list_tags_for_resource), ("tag_resource", _tag_resource),
                            ("untag_resource", _untag_resource)):
        patch(ApplicationAutoScalingResponse, name, operation, corrects="scalable targets cannot be tagged (no tagging API)")
    wrap(ApplicationAutoscalingBackend, "register_scalable_target", _register_scalable_target,
         corrects="registering a scalable target leaves the ECS service's desired count outside its new bounds")
