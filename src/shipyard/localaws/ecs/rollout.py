"""ECS service deployments of the embedded AWS, on real task processes (task_runtime.py) and real health checks.

It follows ECS's documented behaviour with the circuit breaker on. Rolling: the new task definition's tasks
start, register with the target group and pass its health checks; then the old tasks are deregistered, drained
for the deregistration delay and stopped, and the deployment COMPLETES. Blue/green (ECS developer guide,
"Amazon ECS blue/green deployments"): the green tasks start behind the target group blue is not in; once they are
healthy the production listener rule's weights move traffic to them; blue keeps running through the bake time
and is stopped when the deployment COMPLETES; a failure, or StopServiceDeployment with ROLLBACK, during the bake
moves traffic back to blue at once.

What fails a task is what fails it on AWS: its process exits (the essential container exited), or, after the
service's health-check grace period, its target fails the target group's health checks (ECS stops it). ECS
replaces failed tasks; the circuit breaker fails the deployment after 3 of them (max(3, min(200, desired / 2)))
and rolls back. A task that never answers is replaced again and again until the breaker trips.

AWS's timers (health-check interval and timeout, grace period, deregistration delay, bake time) run compressed by
SHIPYARD_LOCAL_PACE_FACTOR (pace.py; a bake lasts pace.BAKE_AT_LEAST real seconds at least); the processes themselves start and answer at their own speed. So an app's
own start is not held to compressed timers alone: until its port first accepts a connection, a refused connection is
no miss for APP_START_SECONDS at least (never longer than AWS gives it in real seconds: the grace period plus the
unhealthy threshold's checks). An app that never listens fails after that. With SHIPYARD_LOCAL_PACE=aws a task also waits, before its
process starts, as long as Fargate takes to start one.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from shipyard.localaws.core import pace
from shipyard.localaws.ecs import task_runtime
from shipyard.localaws.ecs.task_runtime import Task

TICK = 0.1  # seconds between two looks of the scheduler at every service
# Real seconds an app may take to listen before refused health checks count, whatever the compression: the example
# listens after 0.2 s (0.5 s on two busy cores); AWS gives it 40 s.
APP_START_SECONDS = 5.0


local_seconds = pace.local


def breaker_threshold(desired: int) -> int:
    return max(3, min(200, desired // 2))


@dataclass
class _Target:
    """One task's registration in a target group and what its health checks found."""

    task: Task
    group: str
    port: int  # the loopback port of the container the service's load balancer entry names
    registered: float = field(default_factory=time.monotonic)
    state: str = "initial"  # initial | healthy | unhealthy | draining
    reason: str = "Elb.RegistrationInProgress"
    description: str = "Target registration is in progress"
    passes: int = 0
    misses: int = 0
    drained_at: float | None = None
    answered: bool = False  # its port has accepted a connection once: the app has started


@dataclass
class _Deployment:
    id: str
    task_definition: str
    group: str | None  # the target group its tasks register with
    status: str = "PRIMARY"
    rollout: str = "IN_PROGRESS"
    reason: str = ""
    failed: int = 0
    tasks: list[Task] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float = field(default_factory=time.monotonic)
    stage: str = "SCALE_UP"
    bake_started: float | None = None

    def live(self) -> list[Task]:
        return [t for t in self.tasks if t.desired_status == "RUNNING" and t.last_status != "STOPPED"]


@dataclass
class _Rollout:
    account: str
    region: str
    cluster: str
    service: str
    desired: int
    grace_on_aws: float  # the service's health-check grace period, in AWS's seconds
    deployments: list[_Deployment]
    target_group: str | None
    strategy: str = "ROLLING"  # or BLUE_GREEN
    rule: str | None = None  # blue/green: the production listener rule whose weights move traffic
    alternate_group: str | None = None
    # Rolling: the service's other load balancer entries' target groups, which each task also joins (a service may
    # have several: ECS developer guide, "Register multiple target groups with a service").
    more_groups: list[str] = field(default_factory=list)
    containers: dict[str, str] = field(default_factory=dict)  # target group ARN -> the container its entry names
    bake: float = 0.0  # blue/green: seconds (on AWS) blue keeps running after the traffic shift
    events: list[str] = field(default_factory=list)
    replaced: int = 0  # tasks the scheduler started in place of stopped ones since the deployment completed
    replace_after: float = 0.0  # monotonic time before which no replacement starts (the throttle)


_lock = threading.RLock()
_rollouts: dict[tuple[str, str, str, str], _Rollout] = {}
_targets: dict[str, dict[str, _Target]] = {}  # task ARN -> target group ARN -> its registration
_scheduler: threading.Thread | None = None
_stopping = threading.Event()


def reset() -> None:
    global _scheduler
    _stopping.set()
    if _scheduler is not None:
        _scheduler.join(timeout=5)
    _scheduler = None
    task_runtime.reset()
    with _lock:
        _rollouts.clear()
        _targets.clear()
    _stopping.clear()


def remove(account: str, region: str, cluster: str, service: str) -> None:
    """A deleted service: its tasks stop and it leaves the scheduler. Services of one name in other clusters are
    other services (a preview's `web` beside its base's)."""
    with _lock:
        removed = _rollouts.pop((account, region, cluster, service), None)
        for deployment in removed.deployments if removed else []:
            for task in deployment.live():
                task_runtime.stop(task, "Service deleted")


def _ensure_scheduler() -> None:
    global _scheduler
    if _scheduler is None or not _scheduler.is_alive():
        _scheduler = threading.Thread(target=_schedule, daemon=True, name="ecs-scheduler")
        _scheduler.start()


def _schedule() -> None:
    while not _stopping.wait(TICK):
        with _lock:
            rollouts = list(_rollouts.values())
            _drained(time.monotonic())
        for rollout in rollouts:
            try:
                with _lock:
                    _tick(rollout)
            except Exception as exc:  # one broken service must not stop the others
                _note(rollout, f"scheduler error: {exc!r}")


def _backend(account: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account][region]


def _group(rollout: _Rollout, arn: str | None) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[rollout.account][rollout.region].target_groups.get(arn or "")


def _note(rollout: _Rollout, message: str) -> None:
    rollout.events.insert(0, message)
    service = _backend(rollout.account, rollout.region).services.get(f"{rollout.cluster}:{rollout.service}")
    if service is not None:
        service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": time.time(), "message": f"(service {rollout.service}) {message}"})


def begin(service: Any, previous_task_definition: str | None, target_group: str | None, previous_count: int = 0) -> None:
    """A service update to a new task definition (or from zero tasks) starts a deployment."""
    account, region = service._account_id, service.region_name
    key = (account, region, service.cluster_name, service.name)
    configuration = getattr(service, "deployment_configuration", None) or {}
    advanced = next((lb.get("advancedConfiguration") for lb in service.load_balancers or [] if lb.get("advancedConfiguration")), {})
    with _lock:
        existing = _rollouts.get(key)
        old = [d for d in (existing.deployments if existing else []) if d.rollout == "COMPLETED" and d.live()]
        for deployment in old:
            deployment.status = "ACTIVE"
        for abandoned in [d for d in (existing.deployments if existing else []) if d.rollout == "IN_PROGRESS"]:
            abandoned.rollout, abandoned.reason, abandoned.status = "STOPPED", "superseded by a new deployment", "INACTIVE"
            for task in abandoned.live():
                _retire(existing, task, "Task stopped by a newer deployment")
        rollout = _Rollout(account, region, service.cluster_name, service.name, service.desired_count,
                           float(getattr(service, "health_check_grace_period_seconds", 0) or 0), old, target_group)
        if existing is not None:
            rollout.events = existing.events
        entries = [lb for lb in service.load_balancers or [] if lb.get("targetGroupArn")]
        rollout.more_groups = [lb["targetGroupArn"] for lb in entries[1:]]
        rollout.containers = {lb["targetGroupArn"]: lb.get("containerName") for lb in entries if lb.get("containerName")}
        new_group = target_group
        if configuration.get("strategy") == "BLUE_GREEN" and advanced:
            rollout.strategy, rollout.rule = "BLUE_GREEN", advanced.get("productionListenerRule")
            rollout.alternate_group = advanced.get("alternateTargetGroupArn")
            rollout.bake = 60.0 * float(configuration.get("bakeTimeInMinutes", 0))
            live = next((d.group for d in old if d.live()), None)
            if live is not None:  # green starts behind whichever group blue is not in
                new_group = rollout.alternate_group if live == target_group else target_group
        deployment = _Deployment(f"ecs-svc/{uuid.uuid4().int % 10**19}", service.task_definition, new_group)
        rollout.deployments.insert(0, deployment)
        _rollouts[key] = rollout
        _note(rollout, f"started deployment {deployment.id} of {service.task_definition.rsplit('/', 1)[-1]}")
    _ensure_scheduler()
    advance(service)


def scale(service: Any, previous_count: int) -> None:
    """A desired-count change without a new task definition (Application Auto Scaling, a schedule) is no deployment:
    ECS starts or stops tasks of the current one. A service that had no tasks, or no deployment yet, deploys."""
    key = (service._account_id, service.region_name, service.cluster_name, service.name)
    with _lock:
        rollout = _rollouts.get(key)
        primary = rollout.deployments[0] if rollout else None
        live = primary.live() if primary is not None else []
        if primary is not None and primary.rollout == "COMPLETED" and live:
            rollout.desired = service.desired_count
            for task in live[service.desired_count:]:
                _retire(rollout, task, "Scaling activity initiated by (deployment " + primary.id + ")")
            if len(live) < service.desired_count:
                _start_tasks(rollout, primary, service.desired_count - len(live))
            _note(rollout, f"has a desired count of {service.desired_count} (was {previous_count}).")
            return
    if service.desired_count > 0:
        target_group = next((lb.get("targetGroupArn") for lb in service.load_balancers or [] if lb.get("targetGroupArn")), None)
        begin(service, None, target_group, previous_count)
    elif rollout is not None and primary is not None:
        with _lock:
            rollout.desired = 0
            for task in primary.live():
                _retire(rollout, task, "Scaling activity initiated by a scheduled action")


def _start_tasks(rollout: _Rollout, deployment: _Deployment, count: int) -> None:
    definition = _backend(rollout.account, rollout.region).describe_task_definition(deployment.task_definition)
    started = []
    for _ in range(count):
        service = _backend(rollout.account, rollout.region).services.get(f"{rollout.cluster}:{rollout.service}")
        task = task_runtime.start(account=rollout.account, region=rollout.region, cluster=rollout.cluster,
                                  service=rollout.service, task_definition=definition, started_by=deployment.id,
                                  exec_enabled=bool(getattr(service, "enable_execute_command", False)))
        deployment.tasks.append(task)
        started.append(task.id)
        for container in task.checked:
            threading.Thread(target=_container_checks, args=(rollout, deployment, task, container), daemon=True,
                             name=f"container-health-{task.id}").start()
        for group in [deployment.group, *rollout.more_groups] if deployment.group and task.last_status != "STOPPED" else []:
            target = _Target(task, group, task.host_port_of(rollout.containers.get(group)))
            if pace.aws_pace():  # Fargate's start (ENI, image pull) before the first health check
                target.registered += local_seconds(pace.LATENCIES["fargate task start"].seconds)
            _targets.setdefault(task.arn, {})[group] = target
            threading.Thread(target=_health_checks, args=(rollout, target), daemon=True, name=f"health-{task.id}").start()
    _note(rollout, f"has started {len(started)} tasks: {', '.join(f'(task {t})' for t in started)}.")


def _health_checks(rollout: _Rollout, target: _Target) -> None:
    """The target group's health checks against one target: real HTTP requests on its path, interval and timeout."""
    group = _group(rollout, target.group)
    path = getattr(group, "health_check_path", None) or "/"
    interval_on_aws = float(getattr(group, "health_check_interval_seconds", 30) or 30)
    interval = max(0.2, local_seconds(interval_on_aws))
    timeout = max(1.0, local_seconds(float(getattr(group, "health_check_timeout_seconds", 5) or 5)))
    healthy_after = int(getattr(group, "healthy_threshold_count", 5) or 5)
    unhealthy_after = int(getattr(group, "unhealthy_threshold_count", 2) or 2)
    matcher = str((getattr(group, "matcher", None) or {}).get("HttpCode", "200"))
    codes = {int(c) for part in matcher.split(",") for c in (range(int(part.split("-")[0]), int(part.split("-")[1]) + 1)
                                                          if "-" in part else [part])}
    on_aws = rollout.grace_on_aws + unhealthy_after * interval_on_aws
    start_budget = min(on_aws, max(local_seconds(on_aws), APP_START_SECONDS))
    while not _stopping.is_set() and target.state != "draining" and target.task.last_status != "STOPPED":
        time.sleep(interval)
        if time.monotonic() < target.registered or target.task.last_status != "RUNNING":
            continue
        url = f"http://127.0.0.1:{target.port}{path}"
        refused = False
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except (OSError, ValueError) as exc:
            code, failure = None, exc
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            if refused and not target.answered and time.time() - (target.task.started or time.time()) < start_budget:
                continue  # the app is still starting, in its own time
        with _lock:
            if target.state == "draining":
                return
            target.answered = target.answered or not refused
            if code in codes:
                target.passes, target.misses = target.passes + 1, 0
                if target.passes >= healthy_after and target.state != "healthy":
                    target.state, target.reason, target.description = "healthy", "", ""
            else:
                target.misses, target.passes = target.misses + 1, 0
                if target.misses >= unhealthy_after and target.state != "unhealthy":
                    timed_out = code is None and "timed out" in str(failure)
                    target.state = "unhealthy"
                    target.reason = "Target.ResponseCodeMismatch" if code is not None else (
                        "Target.Timeout" if timed_out else "Target.FailedHealthChecks")
                    target.description = (f"Health checks failed with these codes: [{code}]" if code is not None else
                                          "Request timed out" if timed_out else "Health checks failed")


def _container_checks(rollout: _Rollout, deployment: _Deployment, task: Task, container: Any) -> None:
    """A container's own health check (the task's first container is the task itself), as ECS runs it: every
    interval, failing after `retries` misses in a row once the start period is over; an UNHEALTHY essential container
    stops the task, which counts against the deployment (ECS developer guide, "Determine Amazon ECS task health using
    container health checks"). The app starts at its own speed: until its port first accepts a connection, misses
    before APP_START_SECONDS of real time count as the start period's."""
    check = container.health_check or {}
    interval = max(0.2, local_seconds(float(check.get("interval", 30))))
    timeout = max(1.0, local_seconds(float(check.get("timeout", 5))))
    retries, start_period = int(check.get("retries", 3)), max(local_seconds(float(check.get("startPeriod", 0))), APP_START_SECONDS)
    misses, listening = 0, False
    while not _stopping.is_set() and task.desired_status == "RUNNING" and task.last_status != "STOPPED":
        time.sleep(interval)
        if task.last_status != "RUNNING":
            continue
        if task_runtime.check_health(task, timeout, container):
            misses, container.health = 0, "HEALTHY"
            continue
        listening = listening or (container.host_port is not None and _accepts(container.host_port))
        if not listening and time.time() - (task.started or time.time()) < start_period:
            continue
        misses += 1
        if misses >= retries:
            container.health = "UNHEALTHY"
            with _lock:
                if deployment.rollout == "IN_PROGRESS":
                    deployment.failed += 1
                _note(rollout, f"(task {task.id}) failed container health checks.")
                task_runtime.stop(task, "Task failed container health checks")
            return


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _retire(rollout: _Rollout, task: Task, reason: str) -> None:
    """Deregister (draining for the deregistration delay) and stop one task."""
    targets = [t for t in _registrations(task) if t.state != "draining"]
    if not targets:
        task_runtime.stop(task, reason)
        return
    for target in targets:
        target.state, target.reason, target.description = "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"
        target.drained_at = time.monotonic() + local_seconds(_deregistration_delay(rollout, target.group))
    # ECS has decided: the task's desired status is STOPPED at once, while it drains (it no longer counts as running
    # for the service, so a scale-up in the meantime starts new tasks instead of counting these).
    task.desired_status = "STOPPED"
    task.stopped_reason = reason


def _registrations(task: Task) -> list[_Target]:
    """The task's registrations, one per target group of its service."""
    return list(_targets.get(task.arn, {}).values())


def _every_target() -> list[_Target]:
    return [t for registrations in _targets.values() for t in registrations.values()]


def _deregistration_delay(rollout: _Rollout, group_arn: str) -> float:
    group = _group(rollout, group_arn)
    return float((getattr(group, "attributes", {}) or {}).get("deregistration_delay.timeout_seconds", 300))


def _shift(rollout: _Rollout, group: str | None) -> None:
    """All production traffic to `group`: the listener rule's forward weights, as ECS sets them."""
    from moto.elbv2.models import elbv2_backends

    if not rollout.rule or not group:
        return
    for rule in elbv2_backends[rollout.account][rollout.region].describe_rules(None, [rollout.rule]):
        for action in rule.actions:
            for target in action.data.get("ForwardConfig", {}).get("TargetGroups", []):
                target["Weight"] = 100 if target["TargetGroupArn"] == group else 0


def _drained(now: float) -> None:
    """Targets whose deregistration delay is over: their task stops once it has drained from every group it was in.
    A stopped task's registrations go (DescribeTargetHealth no longer lists them), so each tick looks at live ones only."""
    for arn, registrations in list(_targets.items()):
        targets = registrations.values()
        for target in targets:
            if target.state == "draining" and target.drained_at is not None and now >= target.drained_at:
                target.drained_at = None
                if all(t.drained_at is None for t in targets):
                    task_runtime.stop(target.task, target.task.stopped_reason or "Task stopped by ECS")
        if all(t.task.last_status == "STOPPED" and t.drained_at is None for t in targets):
            del _targets[arn]


def _tick(rollout: _Rollout) -> None:
    now = time.monotonic()
    primary = rollout.deployments[0]
    if primary.rollout == "COMPLETED":
        _replace_stopped(rollout, primary, now)
    if primary.rollout != "IN_PROGRESS":
        return
    threshold = breaker_threshold(rollout.desired)
    for task in list(primary.live()):
        target = next((t for t in _registrations(task) if t.state == "unhealthy"), None)
        started = task.started or time.time()
        if task.last_status == "STOPPED":
            continue
        if target is not None and time.time() - started >= local_seconds(rollout.grace_on_aws):
            primary.failed += 1
            _note(rollout, f"(task {task.id}) failed ELB health checks in (target-group {target.group}).")
            for registration in _registrations(task):
                registration.state = "draining"
            task_runtime.stop(task, f"Task failed ELB health checks in (target-group {target.group})")
    exited = [t for t in primary.tasks if t.last_status == "STOPPED" and t.desired_status == "STOPPED"
              and t.stop_code in ("EssentialContainerExited", "TaskFailedToStart") and not getattr(t, "counted", False)]
    for task in exited:
        task.counted = True  # type: ignore[attr-defined]
        primary.failed += 1
        _note(rollout, f"(task {task.id}) stopped: {task.stopped_reason}"
                       + (f" (exit code {task.exit_code})" if task.exit_code is not None else ""))
    if primary.failed >= threshold:
        _fail(rollout, primary, "ECS deployment circuit breaker: tasks failed to start.")
        return
    missing = rollout.desired - len(primary.live())
    if missing > 0:
        _start_tasks(rollout, primary, missing)
    healthy = [t for t in primary.live() if (_registrations(t) and all(r.state == "healthy" for r in _registrations(t)))
               or (primary.group is None and t.alive and t.healthy)]
    if len(healthy) < rollout.desired:
        primary.stage = "SCALE_UP" if len(primary.live()) < rollout.desired else "POST_SCALE_UP"
        return
    if rollout.strategy == "BLUE_GREEN":
        if primary.bake_started is None:
            _shift(rollout, primary.group)
            primary.bake_started, primary.stage = now, "BAKE_TIME"
            _note(rollout, f"deployment {primary.id} shifted production traffic to {primary.group}; baking for {rollout.bake:.0f}s.")
            return
        if now - primary.bake_started < pace.local_bake(rollout.bake):
            return
    _complete(rollout, primary)


def _replace_stopped(rollout: _Rollout, primary: _Deployment, now: float) -> None:
    """A task of a steady service stopped (its process exited): the service scheduler starts another, as ECS does for
    every service below its desired count. Tasks that keep stopping are started again after growing delays (ECS
    developer guide, "Amazon ECS service throttle logic": up to 27 minutes), here from 10 s of AWS's time, doubled."""
    missing = rollout.desired - len(primary.live())
    if missing <= 0 or now < rollout.replace_after:
        return
    for task in [t for t in primary.tasks if t.last_status == "STOPPED" and not getattr(t, "counted", False)]:
        task.counted = True  # type: ignore[attr-defined]
        _note(rollout, f"(task {task.id}) stopped: {task.stopped_reason}"
                       + (f" (exit code {task.exit_code})" if task.exit_code is not None else ""))
    rollout.replace_after = now + local_seconds(min(10.0 * 2 ** rollout.replaced, 27 * 60.0))
    rollout.replaced += 1
    _start_tasks(rollout, primary, missing)


def _complete(rollout: _Rollout, primary: _Deployment) -> None:
    primary.rollout, primary.reason, primary.stage = "COMPLETED", f"ECS deployment {primary.id} completed.", "CLEAN_UP"
    for old in rollout.deployments[1:]:
        for task in old.live():
            _retire(rollout, task, f"Task stopped: deployment {primary.id} replaced it")
    rollout.deployments = [primary]
    _note(rollout, "has reached a steady state.")


def _fail(rollout: _Rollout, green: _Deployment, reason: str) -> None:
    """Circuit breaker or stop: the new tasks stop; blue/green moves traffic back at once, rolling starts the old revision."""
    green.rollout, green.reason, green.status, green.stage = "FAILED", reason, "ACTIVE", "CLEAN_UP"
    _note(rollout, f"deployment {green.id} deployment failed: " + ("tasks failed to start." if "circuit breaker" in reason else reason))
    for task in green.live():
        _retire(rollout, task, "Task stopped: its deployment failed")
    previous = next((d for d in rollout.deployments[1:] if d.rollout == "COMPLETED"), None)
    if rollout.strategy == "BLUE_GREEN" and previous is not None:
        _shift(rollout, previous.group)
        previous.status = "PRIMARY"
        rollout.deployments = [previous, green, *[d for d in rollout.deployments[1:] if d is not previous]]
        _note(rollout, f"rolled back to deployment {previous.id}: production traffic on {previous.group}.")
        return
    if previous is None:
        previous = next((d for d in rollout.deployments[1:] if d.task_definition != green.task_definition), None)
    if previous is not None:
        back = _Deployment(f"ecs-svc/{uuid.uuid4().int % 10**19}", previous.task_definition, previous.group)
        _note(rollout, f"rolling back to deployment {previous.id} (task definition {previous.task_definition}).")
        rollout.deployments = [back, green, *[d for d in rollout.deployments[1:]]]


def advance(service: Any) -> None:
    """Bring the moto service's deployments and counts up to date with the scheduler's state."""
    key = (service._account_id, service.region_name, service.cluster_name, service.name)
    with _lock:
        rollout = _rollouts.get(key)
        if rollout is None:
            return
        primary = rollout.deployments[0]
        service.deployments = [_describe(d, service) for d in rollout.deployments]
        service.running_count = sum(len([t for t in d.live() if t.last_status == "RUNNING"]) for d in rollout.deployments)
        service.pending_count = sum(len([t for t in d.live() if t.last_status != "RUNNING"]) for d in rollout.deployments)
        service.task_definition = primary.task_definition


def stop(account: str, region: str, deployment_arn: str, reason: str) -> bool:
    """StopServiceDeployment (ROLLBACK) of an in-progress deployment; False if there is none to stop."""
    with _lock:
        for rollout in _rollouts.values():
            green = rollout.deployments[0]
            if (rollout.account, rollout.region) == (account, region) and _deployment_arn(rollout, green) == deployment_arn \
                    and green.rollout == "IN_PROGRESS":
                _fail(rollout, green, reason)
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
        found = []
        for deployment in sorted(rollout.deployments, key=lambda d: d.started, reverse=True):
            status = {"IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESSFUL", "FAILED": "ROLLBACK_SUCCESSFUL",
                      "STOPPED": "STOPPED"}[deployment.rollout]
            running = len([t for t in deployment.live() if t.last_status == "RUNNING"])
            found.append({
                "serviceDeploymentArn": _deployment_arn(rollout, deployment),
                "serviceArn": f"arn:aws:ecs:{region}:{account}:service/{rollout.cluster}/{rollout.service}",
                "clusterArn": f"arn:aws:ecs:{region}:{account}:cluster/{rollout.cluster}",
                "targetServiceRevision": {"arn": deployment.task_definition, "requestedTaskCount": rollout.desired,
                                          "runningTaskCount": running, "pendingTaskCount": len(deployment.live()) - running},
                "status": status, "statusReason": deployment.reason, "lifecycleStage": deployment.stage,
                "createdAt": deployment.created, "startedAt": deployment.created,
            })
        return found


def _describe(deployment: _Deployment, service: Any) -> dict[str, Any]:
    live = deployment.live()
    running = len([t for t in live if t.last_status == "RUNNING"])
    return {
        "id": deployment.id, "status": deployment.status, "taskDefinition": deployment.task_definition,
        "desiredCount": service.desired_count if deployment.status == "PRIMARY" else 0,
        "pendingCount": len(live) - running, "runningCount": running, "failedTasks": deployment.failed,
        "createdAt": deployment.created, "updatedAt": time.time(), "launchType": "FARGATE",
        "rolloutState": deployment.rollout if deployment.rollout != "STOPPED" else "FAILED",
        "rolloutStateReason": deployment.reason or f"ECS deployment {deployment.id} in progress.",
    }


def target_health(account: str, region: str, target_group_arn: str) -> list[dict[str, Any]] | None:
    """Health of the service tasks registered in this target group, or None when no service owns it."""
    with _lock:
        owned = any((r.account, r.region) == (account, region)
                    and target_group_arn in (r.target_group, r.alternate_group, *r.more_groups)
                    for r in _rollouts.values())
        if not owned:
            return None
        return [{"Target": {"Id": "127.0.0.1", "Port": t.port}, "HealthCheckPort": str(t.port),
                 "TargetHealth": {"State": t.state, **({"Reason": t.reason, "Description": t.description} if t.reason else {})}}
                for t in _every_target() if t.group == target_group_arn and t.task.last_status != "STOPPED"
                and (t.task.account, t.task.region) == (account, region)]


def healthy_targets(account: str, region: str, target_group_arn: str) -> list[int]:
    """Loopback ports of this target group's healthy targets (the local edge routes to them)."""
    with _lock:
        return [t.port for t in _every_target()
                if t.group == target_group_arn and t.state == "healthy" and (t.task.account, t.task.region) == (account, region)]


def deployment_state(service: Any, task_definition: str) -> tuple[str, str] | None:
    """(rolloutState, reason) of the service's newest deployment of `task_definition`."""
    advance(service)
    key = (service._account_id, service.region_name, service.cluster_name, service.name)
    with _lock:
        rollout = _rollouts.get(key)
        if rollout is None:
            return None
        ours = next((d for d in rollout.deployments if d.task_definition == task_definition), None)
        return None if ours is None else (ours.rollout if ours.rollout != "STOPPED" else "FAILED", ours.reason)
