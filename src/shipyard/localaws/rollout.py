"""ECS rollout simulator for the embedded AWS, which runs no containers.

It follows ECS's documented behaviour with the circuit breaker on. Rolling:
after a service update, tasks of the new task definition start, reach
RUNNING, register as targets, turn healthy, and the deployment COMPLETES while
the old one drains. Blue/green (ECS developer guide, "Amazon ECS blue/green
deployments"): the green revision starts behind the alternate target group
while blue keeps serving, the production listener rule's weights move traffic
to green, blue keeps running through the bake time, and the deployment
COMPLETES when the bake ends; a failure, or StopServiceDeployment with
ROLLBACK, during the bake moves traffic back to blue at once. The state advances with wall time (one
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
        if rollout.strategy != "BLUE_GREEN":
            return seconds / step()
        # The bake is where shipyard's health gate runs: it keeps its AWS length, compressed by the pace factor.
        bounds, at = [0.0, step(), 2 * step(), 2 * step() + rollout.bake / pace.factor()], seconds
    else:
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
                               alarm_windows=windows, blue_green_bake=rollout.bake if rollout.strategy == "BLUE_GREEN" else None)


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
    group: str | None = None  # the target group its tasks register with


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
    strategy: str = "ROLLING"  # or BLUE_GREEN
    rule: str | None = None  # blue/green: the production listener rule whose weights move traffic
    bake: float = 0.0  # blue/green: seconds (on AWS) blue keeps running after the traffic shift
    shifted: bool = False


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


def begin(service: Any, previous_task_definition: str | None, target_group: str | None, previous_count: int = 0) -> None:
    """A service update to a new task definition (or from zero tasks) starts a deployment.

    previous_count: the tasks the previous task definition ran (moto's own running count follows the desired count).
    """
    account, region = service._account_id, service.region_name
    fault, log_group = _image_fault(account, region, service.task_definition)
    key = (account, region, service.cluster_name, service.name)
    new = _Deployment(f"ecs-svc/{uuid.uuid4().int % 10**19}", service.task_definition, time.monotonic(), fault,
                      pending=service.desired_count)
    configuration = getattr(service, "deployment_configuration", None) or {}
    advanced = next((lb.get("advancedConfiguration") for lb in service.load_balancers or [] if lb.get("advancedConfiguration")), {})
    with _lock:
        old = [d for d in (_rollouts[key].deployments if key in _rollouts else []) if d.rollout == "COMPLETED"]
        for deployment in old:
            deployment.status = "ACTIVE"
        if not old and previous_task_definition and previous_count:
            old = [_Deployment("ecs-svc/initial", previous_task_definition, 0, None, status="ACTIVE", rollout="COMPLETED",
                               running=previous_count, group=target_group)]
        rollout = _Rollout(account, region, service.cluster_name, service.name, service.desired_count,
                           [new, *old], target_group, log_group)
        new.group = target_group
        if configuration.get("strategy") == "BLUE_GREEN" and advanced:
            rollout.strategy, rollout.rule = "BLUE_GREEN", advanced.get("productionListenerRule")
            rollout.bake = 60.0 * float(configuration.get("bakeTimeInMinutes", 0))
            live = next((d.group for d in old if d.running), None)
            if live is not None:  # green starts behind whichever group blue is not in
                new.group = advanced.get("alternateTargetGroupArn") if live == target_group else target_group
            rollout.shifted = live is None  # a first deployment has no blue to move traffic from
            if live is None:
                _shift(rollout, new.group)
        _rollouts[key] = rollout
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


def _shift(rollout: _Rollout, group: str | None) -> None:
    """All production traffic to `group`: the listener rule's forward weights, as ECS sets them."""
    from moto.elbv2.models import elbv2_backends

    if not rollout.rule or not group:
        return
    for rule in elbv2_backends[rollout.account][rollout.region].describe_rules(None, [rollout.rule]):
        for action in rule.actions:
            for target in action.data.get("ForwardConfig", {}).get("TargetGroups", []):
                target["Weight"] = 100 if target["TargetGroupArn"] == group else 0


def _count_failures(rollout: _Rollout, primary: _Deployment, elapsed: float, desired: int) -> None:
    """crash: tasks exit (and log a traceback); unhealthy: tasks run but fail health checks. Both count toward the breaker."""
    if primary.fault == "crash":
        primary.failed = min(CIRCUIT_BREAKER_THRESHOLD, int(elapsed) * desired)
        primary.running, primary.pending = 0, desired
        if not rollout.logged:
            _write_crash_logs(rollout)
            rollout.logged = True
    else:
        primary.running, primary.pending = desired, 0
        primary.failed = min(CIRCUIT_BREAKER_THRESHOLD, max(0, int(elapsed) - 1) * desired)


def _progress_blue_green(service: Any, rollout: _Rollout, green: _Deployment, elapsed: float, desired: int) -> None:
    if green.fault == "stuck" or elapsed < 1:
        green.pending, green.running = desired, 0
        return
    if green.fault in ("crash", "unhealthy"):
        _count_failures(rollout, green, elapsed, desired)
        if green.failed >= CIRCUIT_BREAKER_THRESHOLD:
            roll_back(service, rollout, green, "ECS deployment circuit breaker: tasks failed to start.")
        return
    green.running, green.pending = desired, 0
    if elapsed >= 2 and not rollout.shifted:
        _shift(rollout, green.group)
        rollout.shifted = True
        _event(service, f"deployment {green.id} shifted production traffic to {green.group}; baking for {rollout.bake:.0f}s.")
    if elapsed >= 3:
        green.rollout, green.reason = "COMPLETED", f"ECS deployment {green.id} completed."
        for blue in rollout.deployments[1:]:
            blue.running = 0
        rollout.deployments = [green]
        _event(service, "has reached a steady state.")


def roll_back(service: Any, rollout: _Rollout, green: _Deployment, reason: str) -> None:
    """Blue/green failure or stop: traffic back to blue at once, green's tasks stop; blue was never stopped."""
    green.rollout, green.reason = "FAILED", reason
    green.running, green.pending, green.status = 0, 0, "ACTIVE"
    blue = next((d for d in rollout.deployments[1:] if d.rollout == "COMPLETED"), None)
    # ECS's own wording for a breaker trip; a stop request is named as such.
    _event(service, f"deployment {green.id} deployment failed: "
                    + ("tasks failed to start." if "circuit breaker" in reason else reason))
    if blue is None:
        return
    if rollout.shifted:
        _shift(rollout, blue.group)
    blue.status = "PRIMARY"
    rollout.deployments = [blue, green, *[d for d in rollout.deployments[1:] if d is not blue]]
    service.task_definition = blue.task_definition
    _event(service, f"rolled back to deployment {blue.id}: production traffic on {blue.group}.")


def stop(account: str, region: str, deployment_arn: str, reason: str) -> bool:
    """StopServiceDeployment (ROLLBACK) of an in-progress blue/green deployment; False if there is none to stop."""
    from moto.ecs.models import ecs_backends

    with _lock:
        for (acc, reg, cluster, name), rollout in _rollouts.items():
            green = rollout.deployments[0]
            if (acc, reg) == (account, region) and _deployment_arn(rollout, green) == deployment_arn and green.rollout == "IN_PROGRESS":
                service = ecs_backends[account][region].services.get(f"{cluster}:{name}")
                roll_back(service, rollout, green, reason)
                return True
    return False


def _deployment_arn(rollout: _Rollout, deployment: _Deployment) -> str:
    return (f"arn:aws:ecs:{rollout.region}:{rollout.account}:service-deployment/{rollout.cluster}/{rollout.service}/"
            f"{deployment.id.split('/')[-1]}")


def service_deployments(account: str, region: str, cluster: str, service: str) -> list[dict[str, Any]]:
    """ListServiceDeployments / DescribeServiceDeployments: the current rollout's deployments, newest first."""
    with _lock:
        rollout = next((r for (acc, reg, c, n), r in _rollouts.items()
                        if (acc, reg, n) == (account, region, service) and cluster in (c, "")), None)
        if rollout is None:
            return []
        green = max(rollout.deployments, key=lambda d: d.started)
        elapsed = _steps(rollout, time.monotonic() - green.started)
        found = []
        for deployment in sorted(rollout.deployments, key=lambda d: d.started, reverse=True):
            status = {"IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESSFUL", "FAILED": "ROLLBACK_SUCCESSFUL"}[deployment.rollout]
            stage = ("CLEAN_UP" if deployment.rollout != "IN_PROGRESS" else "SCALE_UP" if elapsed < 1 else
                     "POST_SCALE_UP" if elapsed < 2 else "BAKE_TIME" if rollout.strategy == "BLUE_GREEN" else "CLEAN_UP")
            found.append({
                "serviceDeploymentArn": _deployment_arn(rollout, deployment),
                "serviceArn": f"arn:aws:ecs:{region}:{account}:service/{rollout.cluster}/{rollout.service}",
                "clusterArn": f"arn:aws:ecs:{region}:{account}:cluster/{rollout.cluster}",
                "targetServiceRevision": {"arn": deployment.task_definition, "requestedTaskCount": rollout.desired,
                                          "runningTaskCount": deployment.running, "pendingTaskCount": deployment.pending},
                "status": status, "statusReason": deployment.reason, "lifecycleStage": stage,
                "createdAt": deployment.created, "startedAt": deployment.created,
            })
        return found


def _progress(service: Any, rollout: _Rollout, primary: _Deployment, elapsed: float, desired: int) -> None:
    if rollout.strategy == "BLUE_GREEN":
        _progress_blue_green(service, rollout, primary, elapsed, desired)
        return
    fault = primary.fault
    if fault == "stuck":
        primary.pending, primary.running = desired, 0
        return
    if elapsed < 1:
        primary.pending, primary.running = desired, 0
        return
    if fault in ("crash", "unhealthy"):
        _count_failures(rollout, primary, elapsed, desired)
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
        rollout = next((r for r in _rollouts.values() if (r.account, r.region) == (account, region)
                        and target_group_arn in {d.group for d in r.deployments} | {r.target_group}), None)
        if rollout is None:
            return None
        elapsed = _steps(rollout, time.monotonic() - max(d.started for d in rollout.deployments))
        health = []
        for index, deployment in enumerate(rollout.deployments):
            if (deployment.group or rollout.target_group) != target_group_arn:
                continue
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
