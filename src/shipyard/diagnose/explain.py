"""`explain`: walk edge -> load balancer -> targets -> tasks and name the first broken link."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shipyard.aws import Aws, AwsError
from shipyard.aws.ecs import Task
from shipyard.config import Environment
from shipyard.deploy.root_cause import root_cause
from shipyard.diagnose import service_logs
from shipyard.errors import UsageError
from shipyard.release import awake, health
from shipyard.release.rollout_watch import target_health
from shipyard.synth import EnvironmentAssembly

TAIL_WINDOW = timedelta(minutes=15)  # how far back explain's log tail looks


@dataclass(frozen=True)
class Link:
    """One link of the chain and what was found there."""

    link: str  # account | stacks | edge | load balancer | targets | tasks | logs
    broken: bool  # broken now
    detail: str
    cause: str = ""
    hint: str = ""
    past: bool = False  # a failure that is history: an earlier deployment's, not the running one's


def explain(aws: Aws, assembly: EnvironmentAssembly, health_url: str | None, *, workload: str | None = None,
            job: bool = False) -> list[Link]:
    """Walk the chain edge -> load balancer -> targets -> tasks; the first broken link is the likely cause.
    workload: a workload beside [service], whose own service, tasks and logs are walked (a worker's queues in place of
    the load balancer's targets); job: it is a scheduled job, whose schedule, newest runs and logs are walked."""
    env = assembly.environment
    findings: list[Link] = [Link("account", False, f"account {env.account}, region {env.region}")]
    for stack in assembly.stacks:
        cloudformation = aws.cloudformation(stack.region)
        state = cloudformation.stack(stack.name)
        if state is None:
            findings.append(Link("stacks", True, f"{stack.name} does not exist", "never deployed or deleted",
                                    f"shipyard deploy {env.name}"))
        elif "ROLLBACK" in state.status or state.status.endswith("FAILED"):
            cause = root_cause(stack.name, cloudformation.events(stack.name))
            # UPDATE_ROLLBACK_COMPLETE: the last update failed and was undone; the stack itself works.
            usable = state.status == "UPDATE_ROLLBACK_COMPLETE"
            findings.append(Link("stacks", not usable, f"{stack.name} is {state.status}", cause.one_line() if cause else state.reason,
                                 "" if usable else cause.hint if cause else "", past=usable))
    if env.schedule is not None and awake.asleep(aws, env):
        # Asleep by design: the links below fail because of it, so it is the first broken one.
        findings.append(Link("schedule", True, f"{env.name} is {awake.describe(env, True)}",
                             "its scheduled action scaled the service to zero outside the awake hours",
                             f"a release wakes it (shipyard release {env.name} --image <current digest>), or wait"))
    if health_url:
        gate = health.gate(health_url, successes=1, timeout=5, interval=1)
        findings.append(Link("edge", not gate.passed, f"{health_url} answered {gate.last}",
                                "" if gate.passed else "the edge or something behind it fails; see the links below"))
    lb = aws.elbv2(env.region).load_balancer(env.names.load_balancer)
    if lb is None:
        findings.append(Link("load balancer", True, f"{env.names.load_balancer} does not exist", "the foundation stack is missing or broken"))
    else:
        findings.append(Link("load balancer", lb.state != "active", f"{lb.name} is {lb.state}, scheme {lb.scheme}",
                             "" if lb.state == "active" else "the load balancer is not active"))
    env = env.workload_view(workload) if workload else env
    if job:
        return [*findings, *_job_links(aws, env), *_log_tail(aws, env)]
    service = aws.ecs(env.region).service_of(env.names.cluster, env.names.service)
    if service is None:
        findings.append(Link("tasks", True, f"the ECS service {env.names.service} does not exist", "", f"shipyard deploy {env.name}"))
        return findings
    targets = target_health(aws, env, service)
    bad = [t for t in targets if t.state != "healthy"]
    if not service.target_groups:  # a worker: nothing routes to it; its queues say how its work goes
        findings += _queue_links(aws, env)
    elif not targets:
        findings.append(Link("targets", True, "no targets registered", "no task is running (see tasks)"))
    for target in bad:
        findings.append(Link("targets", True, f"{target.target} is {target.state} ({target.reason})", target.description,
                             _target_hint(target.reason)))
    if targets and not bad:
        findings.append(Link("targets", False, f"{len(targets)} targets healthy"))
    primary = service.primary
    # Broken now: the running deployment failed, or its tasks are not all serving (a worker's: not all running).
    idle = (not targets and bool(service.desired)) if service.target_groups else service.running < service.desired
    now_broken = primary is None or primary.rollout_state == "FAILED" or bool(bad) or idle
    revision = {d.task_definition: d.id for d in service.deployments}
    for deployment in service.deployments:
        failed = deployment.rollout_state == "FAILED"
        current = deployment is primary
        findings.append(Link("tasks", failed and current,
                             f"deployment {deployment.id} {deployment.status} {deployment.rollout_state}: "
                             f"{deployment.running}/{deployment.desired} running, "
                             f"{deployment.failed} failed ({deployment.task_definition.rsplit('/', 1)[-1]})",
                             deployment.rollout_reason if failed else "",
                             "the circuit breaker stopped it: read the stopped tasks and logs below" if failed and current else "",
                             past=failed and not current))
    for link in _stopped_tasks(aws, env, revision):
        ours = primary is not None and primary.id in link.detail
        findings.append(_as_history(link) if not (now_broken and ours) else link)
    breaker_events = [m for m in service.events[:10] if "fail" in m.lower() or "rolling back" in m.lower()]
    for message in reversed(breaker_events[:3]):  # oldest first: the failure, then what ECS did about it
        findings.append(Link("tasks", now_broken, message, "ECS service event", past=not now_broken))
    findings += [link if now_broken else _as_history(link) for link in _log_tail(aws, env)]
    return _edge_alone(findings)


def _job_links(aws: Aws, env: Environment) -> list[Link]:
    """A job: its schedule (disabled until its first release), and its newest runs, the newest one's outcome first."""
    names = env.names
    schedule = aws.scheduler(env.region).schedule(names.schedule)
    if schedule is None:
        return [Link("schedule", True, f"the schedule {names.schedule} does not exist", "the service stack is missing or broken",
                     f"shipyard deploy {env.name}")]
    links = [Link("schedule", schedule.state != "ENABLED", f"{names.schedule}: {schedule.expression} {schedule.timezone}, "
                  f"{schedule.state.lower()}", "" if schedule.state == "ENABLED" else "no image released yet",
                  "" if schedule.state == "ENABLED" else f"shipyard release {env.name} --service {names.workload} --image REF")]
    machines = aws.stepfunctions(env.region)
    runs = machines.executions(names.state_machine, newest=3)
    if not runs:
        return [*links, Link("runs", False, "no run yet", hint=f"shipyard run {env.name} --job {names.workload} runs it now")]
    newest = machines.execution(runs[0].arn)
    failed = newest.status in ("FAILED", "TIMED_OUT", "ABORTED")
    links.append(Link("runs", failed, f"newest run {newest.name}: {newest.status.lower()}"
                      + (f" ({newest.error})" if newest.error else ""), newest.cause if failed else "",
                      "read the run's log below, fix the job, release it, then run it again" if failed else ""))
    links += [Link("runs", False, f"earlier run {run.name}: {run.status.lower()}", past=True) for run in runs[1:]]
    return links


def _queue_links(aws: Aws, env: Environment) -> list[Link]:
    """A worker's queue and dead-letter queue: a message in the dead-letter queue failed every delivery SQS allowed."""
    sqs, names = aws.sqs(env.region), env.names
    queue, dead = sqs.queue(names.queue), sqs.queue(names.dead_letter_queue)
    if queue is None or dead is None:
        return [Link("queue", True, f"{names.queue if queue is None else names.dead_letter_queue} does not exist",
                     "the foundation stack is missing or broken", f"shipyard deploy {env.name}")]
    waiting = dead.visible + dead.in_flight
    return [Link("queue", False, f"{names.queue}: {queue.visible} waiting, {queue.in_flight} being worked on"),
            Link("queue", waiting > 0, f"{names.dead_letter_queue}: {waiting} message(s)",
                 "the worker failed these messages on every delivery" if waiting else "",
                 "read them (aws sqs receive-message), fix the worker, then redrive them (aws sqs start-message-move-task)"
                 if waiting else "")]


def _edge_alone(findings: list[Link]) -> list[Link]:
    """A failing edge whose every other link is healthy is itself the cause: say so, instead of pointing below."""
    edge = next((link for link in findings if link.link == "edge" and link.broken), None)
    if edge is None or any(link.broken for link in findings if link is not edge):
        return findings
    alone = replace(edge, cause="the edge fails while every link behind it is healthy: the distribution, its origin or its "
                                "web ACL answers for them", hint="run shipyard verify for the edge's settings, and check the "
                                "health path and the WAF's blocked requests")
    return [alone if link is edge else link for link in findings]


def _as_history(link: Link) -> Link:
    return replace(link, broken=False, past=link.broken or link.past, hint="")


def _target_hint(reason: str) -> str:
    return {
        "Target.FailedHealthChecks": "the app answers the health check with an error or too slowly: check /healthz and the logs",
        "Target.Timeout": "the health check timed out: the app listens on the wrong port, or the security group blocks it",
        "Elb.RegistrationInProgress": "the target is still registering; wait a few seconds",
        "Target.ResponseCodeMismatch": "the health path answers something other than 200",
    }.get(reason, "see the target group's health check settings")


def _stopped_tasks(aws: Aws, env: Environment, revision: dict[str, str]) -> list[Link]:
    """The newest stopped tasks, each named with the deployment (task definition) it belonged to, its exit code and the
    line of its own log stream that says why (the awslogs driver writes one stream per task)."""
    ecs = aws.ecs(env.region)
    try:
        # ECS keeps stopped tasks visible for a while and lists them in no particular order: the newest five.
        tasks = ecs.tasks(env.names.cluster, ecs.task_arns(env.names.cluster, env.names.service, "STOPPED"))
    except AwsError as exc:
        return [Link("tasks", False, f"stopped tasks unreadable: {exc.what}")]
    findings = []
    for task in sorted(tasks, key=lambda t: t.stopped_at, reverse=True)[:5]:
        codes = ", ".join(f"{c.name} exit {c.exit_code}" for c in task.containers if c.exit_code is not None)
        owner = (f"deployment {revision[task.task_definition]}" if task.task_definition in revision
                 else f"task definition {task.task_definition.rsplit('/', 1)[-1]}")
        cause = _cause_in_log(aws, env, task)
        exited = any(c.exit_code not in (None, 0) for c in task.containers)
        findings.append(Link("tasks", True, f"task {task.id} of {owner} stopped: {task.stopped_reason}"
                             + (f" ({codes})" if codes else "") + (f"; its log says: {cause}" if cause else ""),
                             "a task that exits is a crash at start" if exited else "ECS stopped it (see the reason)"))
    return findings


def _cause_in_log(aws: Aws, env: Environment, task: Task) -> str:
    """The line of the task's own log stream that explains its end: the last error, else its last line."""
    try:
        container = aws.ecs(env.region).task_definition(task.task_definition).containers[0]
        page = aws.logs(env.region).stream(container.log_group or env.names.log_group,
                                           f"{container.log_stream_prefix}/{container.name}/{task.id}", from_head=False, limit=50)
    except (AwsError, IndexError):
        return ""
    lines = [e.message for e in (page.events if page else ()) if e.message.strip()]
    errors = [line for line in lines if re.search(r"\b\w*(Error|Exception)\b", line) and "Traceback" not in line]
    return (errors or lines or [""])[-1].strip()


def _log_tail(aws: Aws, env: Environment, lines: int = 8) -> list[Link]:
    """The service's last lines of the past TAIL_WINDOW (FilterLogEvents reads oldest first: a window, not a limit)."""
    start = datetime.now(UTC) - TAIL_WINDOW
    try:
        tail = [e.message for e in service_logs.read(aws, env, start=start)][-lines:]
    except UsageError:  # no log group yet
        return []
    except AwsError as exc:
        return [Link("logs", False, f"log group unreadable: {exc.what}")]
    if not tail:
        return []
    crashed = any("Traceback" in line or re.search(r"\b\w*(Error|Exception)\b", line) for line in tail)
    return [Link("logs", crashed, f"last lines of {env.names.log_group} (past {TAIL_WINDOW.seconds // 60} min):\n    "
                 + "\n    ".join(tail),
                 "the service crashed at start (see the traceback)" if crashed else "",
                 "fix the error in the code or its configuration, then release again" if crashed else "")]
