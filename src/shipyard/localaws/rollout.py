"""ECS rollout simulator for the embedded AWS, which runs no containers.

It follows ECS's documented behaviour for a rolling deployment with the
circuit breaker on: after a service update, tasks of the new task definition
start, reach RUNNING, register as targets, turn healthy, and the deployment
COMPLETES while the old one drains. The state advances with wall time (one
step every SHIPYARD_LOCAL_STEP seconds, default 1) whenever the ECS or ELB
APIs are asked about the service.

Faults come from the image: an image that also carries a tag `fault-crash[-x]`,
`fault-unhealthy[-x]` or `fault-stuck[-x]` in ECR behaves so. `crash`: tasks exit with
code 1 and write a traceback to the log group; `unhealthy`: tasks run but fail
the target group's health checks. Both trip the circuit breaker after 3 failed
tasks, and ECS rolls back to the previous task definition. `stuck`: tasks
never leave PENDING and the deployment never completes.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from shipyard.localaws import pace

FAULT_TAG_PREFIX = "fault-"
FAULTS = ("crash", "unhealthy", "stuck")
CIRCUIT_BREAKER_THRESHOLD = 3  # ECS: max(3, min(200, 0.5 x desired)) failed tasks, for our sizes


def step() -> float:
    return float(os.environ.get("SHIPYARD_LOCAL_STEP", "1.0"))


def _steps(rollout: _Rollout, seconds: float) -> float:
    """Simulation steps since the deployment started: 1 = tasks running, 2 = targets healthy, 3 = completed.

    Uniform (SHIPYARD_LOCAL_STEP seconds each) by default; at AWS's pace (pace.py) each step lasts as long as the
    phase it stands for, from the target group's and alarms' own settings, compressed by the pace factor.
    """
    if not pace.aws_pace():
        return seconds / step()
    if rollout.phases is None:
        rollout.phases = _phases(rollout)
    bounds = [0.0, rollout.phases.task_start, rollout.phases.steady, rollout.phases.completed]
    at = seconds * pace.factor()
    for index in range(3):
        if at < bounds[index + 1]:
            return index + (at - bounds[index]) / max(bounds[index + 1] - bounds[index], 1e-9)
    return 3 + (at - bounds[3]) / max(bounds[3] - bounds[2], 1e-9)


def _window(alarm: Any) -> float:
    """Period x evaluation periods; a metric-math alarm keeps its period on its queries."""
    periods = [alarm.period] if alarm.period else [
        q.period or getattr(q.metric_stat, "period", None) for q in alarm.metric_data_queries or []]
    return max((float(p) for p in periods if p), default=60.0) * float(alarm.evaluation_periods or 1)


def _phases(rollout: _Rollout) -> pace.RolloutPhases:
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends

    group = elbv2_backends[rollout.account][rollout.region].target_groups.get(rollout.target_group or "")
    service = ecs_backends[rollout.account][rollout.region].services.get(f"{rollout.cluster}:{rollout.service}")
    names = ((getattr(service, "deployment_configuration", None) or {}).get("alarms") or {}).get("alarmNames", [])
    alarms = cloudwatch_backends[rollout.account][rollout.region].alarms
    windows = [_window(alarms[n]) for n in names if n in alarms]
    return pace.rollout_phases(interval=float(getattr(group, "healthcheck_interval_seconds", 30) or 30),
                               healthy_threshold=float(getattr(group, "healthy_threshold_count", 5) or 5),
                               drain=float((getattr(group, "attributes", {}) or {}).get("deregistration_delay.timeout_seconds", 300)),
                               alarm_windows=windows)


@dataclass
class _Deployment:
    id: str
    task_definition: str
    started: float
    fault: str | None
    status: str = "PRIMARY"
    rollout: str = "IN_PROGRESS"
    reason: str = ""
    running: int = 0
    pending: int = 0
    failed: int = 0
    created: float = field(default_factory=time.time)


@dataclass
class _Rollout:
    account: str
    region: str
    cluster: str
    service: str
    desired: int
    deployments: list[_Deployment]
    target_group: str | None
    log_group: str | None
    logged: bool = False
    phases: pace.RolloutPhases | None = None


_lock = threading.Lock()
_rollouts: dict[tuple[str, str, str, str], _Rollout] = {}


def reset() -> None:
    with _lock:
        _rollouts.clear()


def _image_fault(account: str, region: str, task_definition_arn: str) -> tuple[str | None, str | None]:
    """The fault tag of the task definition's image, and its log group."""
    from moto.ecr.models import ecr_backends
    from moto.ecs.models import ecs_backends

    try:
        definition = ecs_backends[account][region].describe_task_definition(task_definition_arn)
    except Exception:
        return None, None
    container = (definition.container_definitions or [{}])[0]
    image = container.get("image") or container.get("Image") or ""
    log_options = (container.get("logConfiguration") or container.get("LogConfiguration") or {})
    log_group = (log_options.get("options") or log_options.get("Options") or {}).get("awslogs-group")
    if "@sha256:" not in image:
        return None, log_group
    repository_uri, digest = image.split("@", 1)
    name = repository_uri.split("/", 1)[1] if "/" in repository_uri else repository_uri
    try:
        repo = ecr_backends[account][region]._get_repository(name, None)
    except Exception:
        return None, log_group
    tags = {tag for image_ in repo.images if image_.image_digest == digest for tag in [image_.image_tag] if tag}
    for fault in FAULTS:
        if any(t == f"{FAULT_TAG_PREFIX}{fault}" or t.startswith(f"{FAULT_TAG_PREFIX}{fault}-") for t in tags):
            return fault, log_group
    return None, log_group


def begin(service: Any, previous_task_definition: str | None, target_group: str | None) -> None:
    """A service update to a new task definition (or from zero tasks) starts a deployment."""
    account, region = service._account_id, service.region_name
    fault, log_group = _image_fault(account, region, service.task_definition)
    key = (account, region, service.cluster_name, service.name)
    new = _Deployment(f"ecs-svc/{uuid.uuid4().int % 10**19}", service.task_definition, time.monotonic(), fault,
                      pending=service.desired_count)
    with _lock:
        old = [d for d in (_rollouts[key].deployments if key in _rollouts else []) if d.rollout == "COMPLETED"]
        for deployment in old:
            deployment.status = "ACTIVE"
        if not old and previous_task_definition and service.running_count:
            old = [_Deployment("ecs-svc/initial", previous_task_definition, 0, None, status="ACTIVE", rollout="COMPLETED",
                               running=service.running_count)]
        _rollouts[key] = _Rollout(account, region, service.cluster_name, service.name, service.desired_count,
                                  [new, *old], target_group, log_group)
    advance(service)


def _event(service: Any, message: str) -> None:
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": time.time(), "message": f"(service {service.name}) {message}"})


def advance(service: Any) -> None:
    """Bring the moto service's deployments, counts and events up to date with the clock."""
    key = (service._account_id, service.region_name, service.cluster_name, service.name)
    with _lock:
        rollout = _rollouts.get(key)
        if rollout is None:
            return
        primary = rollout.deployments[0]
        elapsed = _steps(rollout, time.monotonic() - primary.started)
        desired = rollout.desired
        if primary.rollout == "IN_PROGRESS":
            _progress(service, rollout, primary, elapsed, desired)
        service.deployments = [_describe(d, service) for d in rollout.deployments]
        live = [d for d in rollout.deployments if d.rollout != "FAILED" or d.running]
        service.running_count = sum(d.running for d in live)
        service.pending_count = sum(d.pending for d in live)
        service.task_definition = primary.task_definition


def _progress(service: Any, rollout: _Rollout, primary: _Deployment, elapsed: float, desired: int) -> None:
    fault = primary.fault
    if fault == "stuck":
        primary.pending, primary.running = desired, 0
        return
    if elapsed < 1:
        primary.pending, primary.running = desired, 0
        return
    if fault == "crash":
        primary.failed = min(CIRCUIT_BREAKER_THRESHOLD, int(elapsed) * desired)
        primary.running, primary.pending = 0, desired
        if not rollout.logged:
            _write_crash_logs(rollout)
            rollout.logged = True
    elif fault == "unhealthy":
        primary.running, primary.pending = desired, 0
        primary.failed = min(CIRCUIT_BREAKER_THRESHOLD, max(0, int(elapsed) - 1) * desired)
    else:
        primary.running, primary.pending = desired, 0
        if elapsed >= 3:
            primary.rollout, primary.reason = "COMPLETED", f"ECS deployment {primary.id} completed."
            for old in rollout.deployments[1:]:
                old.running = 0
            rollout.deployments = [primary]
            _event(service, "has reached a steady state.")
            return
    if primary.failed >= CIRCUIT_BREAKER_THRESHOLD:
        primary.rollout = "FAILED"
        primary.reason = "ECS deployment circuit breaker: tasks failed to start."
        primary.running, primary.pending, primary.status = 0, 0, "ACTIVE"
        _event(service, f"deployment {primary.id} deployment failed: tasks failed to start.")
        previous = next((d for d in rollout.deployments[1:] if d.task_definition != primary.task_definition), None)
        if previous is not None:
            back = _Deployment(f"ecs-svc/{uuid.uuid4().int % 10**19}", previous.task_definition, time.monotonic(), None,
                               pending=desired)
            _event(service, f"rolling back to deployment {previous.id} (task definition {previous.task_definition}).")
            rollout.deployments = [back, primary, *[d for d in rollout.deployments[1:] if d is not previous]]
            # The previous tasks keep serving until the rollback's tasks replace them.
            back.running = 0


def _describe(deployment: _Deployment, service: Any) -> dict[str, Any]:
    return {
        "id": deployment.id, "status": deployment.status, "taskDefinition": deployment.task_definition,
        "desiredCount": service.desired_count if deployment.status == "PRIMARY" else 0,
        "pendingCount": deployment.pending, "runningCount": deployment.running, "failedTasks": deployment.failed,
        "createdAt": deployment.created, "updatedAt": time.time(), "launchType": "FARGATE",
        "rolloutState": deployment.rollout, "rolloutStateReason": deployment.reason or f"ECS deployment {deployment.id} in progress.",
    }


def target_health(account: str, region: str, target_group_arn: str) -> list[dict[str, Any]] | None:
    """Simulated health of the service's targets in this target group, or None when no rollout owns it."""
    with _lock:
        rollout = next((r for r in _rollouts.values() if (r.account, r.region, r.target_group) == (account, region, target_group_arn)), None)
        if rollout is None:
            return None
        elapsed = _steps(rollout, time.monotonic() - rollout.deployments[0].started)
        health = []
        for index, deployment in enumerate(rollout.deployments):
            for task in range(deployment.running):
                target = {"Id": f"10.0.{index}.{10 + task}", "Port": 8000}
                if deployment.fault == "unhealthy" or (deployment.rollout == "IN_PROGRESS" and elapsed < 2):
                    state = {"State": "unhealthy" if deployment.fault == "unhealthy" else "initial",
                             "Reason": "Target.FailedHealthChecks" if deployment.fault == "unhealthy" else "Elb.RegistrationInProgress",
                             "Description": "Health checks failed with these codes: [503]" if deployment.fault == "unhealthy"
                             else "Target registration is in progress"}
                else:
                    state = {"State": "healthy"}
                health.append({"Target": target, "HealthCheckPort": "8000", "TargetHealth": state})
        return health


def _write_crash_logs(rollout: _Rollout) -> None:
    if not rollout.log_group:
        return
    from moto.logs.models import logs_backends

    backend = logs_backends[rollout.account][rollout.region]
    stream = f"web/web/{uuid.uuid4().hex}"
    try:
        backend.create_log_stream(rollout.log_group, stream)
        now = int(time.time() * 1000)
        lines = ['{"level": "info", "message": "starting webapp"}',
                 "Traceback (most recent call last):",
                 '  File "/app/app.py", line 12, in <module>',
                 "    settings = load_settings()",
                 "KeyError: 'DATABASE_URL'",
                 "container web exited with code 1"]
        backend.put_log_events(rollout.log_group, stream, [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
    except Exception:  # the log group may be gone; the simulation goes on without logs
        pass


def deployment_state(service: Any, task_definition: str) -> tuple[str, str] | None:
    """(rolloutState, reason) of the service's newest deployment of `task_definition`, brought up to date first."""
    advance(service)
    key = (service._account_id, service.region_name, service.cluster_name, service.name)
    with _lock:
        rollout = _rollouts.get(key)
        if rollout is None:
            return None
        ours = next((d for d in rollout.deployments if d.task_definition == task_definition), None)
        return None if ours is None else (ours.rollout, ours.reason)
