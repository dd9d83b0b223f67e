"""The rollout watch: wait until ECS and the load balancer say a deployment is done, and judge what they report.

judge_rollout is pure: the deployment running the new task definition must be PRIMARY and COMPLETED, running
must equal desired, and every target of the service's target groups must be healthy. ECS rolling the service
back, or the deployment FAILED (circuit breaker), ends the watch at once.
"""

from __future__ import annotations

import time

from shipyard import ui
from shipyard.aws import Aws
from shipyard.aws.ecs import Service
from shipyard.aws.elbv2 import TargetHealth
from shipyard.config import Environment


def judge_rollout(service: Service, task_definition: str, targets: list[TargetHealth]) -> tuple[bool, list[str]]:
    """(finished, problems): pure verdict over what ECS and the load balancer report."""
    ours = service.deployment_of(task_definition)
    if ours is None:
        return True, [f"no deployment runs {task_definition}"]
    if ours.rollout_state == "FAILED":
        return True, [f"ECS deployment {ours.id} FAILED: {ours.rollout_reason}"]
    primary = service.primary
    if primary is not None and primary.task_definition != task_definition:
        return True, [f"ECS rolled the service back to {primary.task_definition}"]
    if not service.target_groups and ours.status == "PRIMARY" and ours.rollout_state == "COMPLETED":
        # A worker: ECS completed its deployment once the tasks ran. What they do next (keep running, or crash and be
        # replaced) is its bake's to judge (worker_watch.py), not a reason to wait here.
        return True, []
    problems = []
    if ours.status != "PRIMARY" or ours.rollout_state != "COMPLETED":
        problems.append(f"deployment {ours.id} is {ours.status} {ours.rollout_state}")
    if service.running != service.desired:
        problems.append(f"{service.running} of {service.desired} tasks running")
    unhealthy = [t for t in targets if t.state != "healthy"]
    if service.target_groups and (unhealthy or not targets):  # a worker has no target group: ECS's counts judge it
        problems.append(f"{len(unhealthy)} of {len(targets)} targets not healthy" if targets else "no registered targets")
    return not problems, problems


def target_health(aws: Aws, env: Environment, service: Service) -> list[TargetHealth]:
    """Targets of the service in its target group and, blue/green, its alternate group (revisions alternate)."""
    elbv2 = aws.elbv2(env.region)
    return [target for group in service.target_groups for target in elbv2.target_health(group)]


def wait_for_rollout(aws: Aws, env: Environment, task_definition: str, *, timeout: float) -> list[str]:
    """Problems that remained when the rollout ended or the wait ran out; empty when it completed healthy."""
    deadline = time.monotonic() + timeout
    longest = aws.target.lasts(10, at_least=0.25)
    delay = min(0.5, longest)
    ecs = aws.ecs(env.region)
    with ui.waiting(f"{env.name}: ECS rollout of {task_definition.rsplit('/', 1)[-1]}") as show:
        while True:
            service = ecs.service_of(env.names.cluster, env.names.service)
            if service is None:
                return [f"service {env.names.service} does not exist"]
            targets = target_health(aws, env, service)
            finished, problems = judge_rollout(service, task_definition, targets)
            if finished:
                return problems
            if time.monotonic() > deadline:
                return [f"rollout did not complete within {timeout:.0f}s: " + "; ".join(problems)]
            healthy = sum(1 for t in targets if t.state == "healthy") if service.target_groups else service.running
            ours = service.deployment_of(task_definition)
            show(f"{healthy}/{service.desired} {'targets healthy' if service.target_groups else 'tasks running'}, "
                 f"deployment {ours.rollout_state if ours else 'not started'}")
            time.sleep(delay)
            delay = min(delay * 1.5, longest)


def settle_after_wake(aws: Aws, env: Environment, task_definition: str, *, timeout: float) -> str:
    """Wait until a woken service runs healthy and its deployment alarms are out of ALARM; what remained, if not.

    While it slept, the load balancer answered the API with 503, and those count in the deployment alarm. ECS fails a
    deployment whose alarm goes into ALARM (ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment
    failures"), so the release's rollout starts only once the woken tasks serve and the alarm has seen them do it.
    """
    deadline = time.monotonic() + timeout
    problems = wait_for_rollout(aws, env, task_definition, timeout=timeout)
    if problems:
        return "; ".join(problems)
    service = aws.ecs(env.region).service_of(env.names.cluster, env.names.service)
    names = list(service.deployment_alarms) if service else []
    cloudwatch = aws.cloudwatch(env.region)
    with ui.waiting(f"{env.name}: deployment alarms of the woken service") as show:
        while names:
            firing = [alarm.name for alarm in cloudwatch.alarms(names) if alarm.firing]
            if not firing:
                return ""
            if time.monotonic() > deadline:
                return f"{', '.join(firing)} still in ALARM after {timeout:.0f}s"
            show(f"{', '.join(firing)} in ALARM")
            time.sleep(aws.target.lasts(2, at_least=0.25))
    return ""
