"""`status`: what the environment runs and does right now, read from AWS."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from shipyard.aws import Aws
from shipyard.aws.ecs import Deployment
from shipyard.deploy.state import deployed_edge
from shipyard.release import awake, history
from shipyard.release.attempt import Kind, Verdict
from shipyard.release.release import current_digest
from shipyard.release.rollout_watch import target_health
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class TargetState:
    id: str
    state: str
    reason: str


@dataclass(frozen=True)
class ReleaseLine:
    time: str
    kind: Kind
    verdict: Verdict
    digest: str
    commit: str
    note: str
    schema: str = ""  # the schema version its migrations reported, and the contract migrations it applied
    workloads: str = ""  # the rest of the set: "admin sha256:..."


@dataclass(frozen=True)
class WorkloadState:
    """A workload beside the primary service: the image its parameter names and its tasks; a worker's queues."""

    name: str
    image: str | None
    running: int | None
    desired: int | None
    queued: int | None = None  # a worker's messages waiting or being worked on
    dead_letters: int | None = None  # ... and in its dead-letter queue
    last_run: str | None = None  # a job's newest run: its name, how it ended, when
    schedule: str | None = None  # a job's schedule and its state (ENABLED / DISABLED)


@dataclass(frozen=True)
class StatusReport:
    environment: str
    account: str
    region: str
    current: str | None
    verified: bool  # the current digest passed the health gate in its newest release record
    last_known_good: str | None
    running: int | None
    desired: int | None
    pending: int | None
    deployments: list[Deployment]  # as ECS reports them
    targets: list[TargetState]
    alarms_in_alarm: list[str]
    releases: list[ReleaseLine]
    endpoint: str | None
    schedule: str | None = None  # with awake hours: asleep or awake, until when
    workloads: list[WorkloadState] = field(default_factory=list)


def status(aws: Aws, assembly: EnvironmentAssembly, workloads: tuple[str, ...] = (), jobs: tuple[str, ...] = ()) -> StatusReport:
    """workloads: the workloads beside the primary service, each shown with its image and tasks (a worker with its
    queues); jobs: those of them that are scheduled jobs, shown with their schedule and newest run instead."""
    env = assembly.environment
    records = history.read(aws, env)
    lkg = history.last_known_good(records)
    current = current_digest(aws, env)
    service = aws.ecs(env.region).service_of(env.names.cluster, env.names.service)
    targets = target_health(aws, env, service) if service else []
    edge = deployed_edge(aws, env)
    return StatusReport(
        environment=env.name, account=env.account, region=env.region,
        current=current, verified=_verified(current, records), last_known_good=lkg.digest if lkg else None,
        running=service.running if service else None, desired=service.desired if service else None,
        pending=service.pending if service else None,
        deployments=list(service.deployments if service else ()),
        targets=[TargetState(t.target, t.state, t.reason) for t in targets],
        alarms_in_alarm=[a.name for a in aws.cloudwatch(env.region).firing() if a.name.startswith(env.names.prefix)],
        releases=[ReleaseLine(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.time)), r.kind, r.verdict, r.digest, r.commit, r.note,
                              r.schema + (f" (contract: {', '.join(r.contracts)})" if r.contracts else ""),
                              ", ".join(f"{name} {digest[:19]}" for name, digest in r.workloads.items()))
                  for r in records[:5]],
        endpoint=f"https://{edge.domain}" if edge else None,
        schedule=_schedule(aws, env) if env.schedule else None,
        workloads=[_job(aws, env.workload_view(name)) if name in jobs else _workload(aws, env.workload_view(name)) for name in workloads],
    )


def _job(aws: Aws, view) -> WorkloadState:
    """A job has no service: its schedule and its newest run."""
    schedule = aws.scheduler(view.region).schedule(view.names.schedule)
    runs = aws.stepfunctions(view.region).executions(view.names.state_machine, newest=1)
    last = (f"{runs[0].name} {runs[0].status.lower()}" + (f" at {runs[0].started:%Y-%m-%d %H:%M}" if runs[0].started else "")
            if runs else "none yet")
    return WorkloadState(view.names.workload, current_digest(aws, view), None, None, last_run=last,
                         schedule=f"{schedule.expression} {schedule.timezone} ({schedule.state.lower()})" if schedule else "missing")


def _workload(aws: Aws, view) -> WorkloadState:
    service = aws.ecs(view.region).service_of(view.names.cluster, view.names.service)
    queue = dead = None
    if service is not None and not service.target_groups:  # a worker
        sqs = aws.sqs(view.region)
        queue, dead = sqs.queue(view.names.queue), sqs.queue(view.names.dead_letter_queue)
    return WorkloadState(view.names.workload, current_digest(aws, view), service.running if service else None,
                         service.desired if service else None, queue.visible + queue.in_flight if queue else None,
                         dead.visible + dead.in_flight if dead else None)


def _verified(current: str | None, records: list[history.ReleaseRecord]) -> bool:
    """An interrupted or failed release can leave a digest in place that no health gate ever passed."""
    if current is None:
        return True
    newest = next((r for r in records if r.digest == current), None)
    return newest is not None and newest.verdict is Verdict.RELEASED


def _schedule(aws: Aws, env) -> str | None:
    sleeping = awake.asleep(aws, env)
    return awake.describe(env, sleeping, woken_until=None if sleeping else awake.wake_ends(aws, env))
