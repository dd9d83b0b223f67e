"""`status`: what the environment runs and does right now, read from AWS."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.state import deployed_edge
from shipyard.release import awake, history
from shipyard.release.release import current_digest, target_health
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str
    rollout: str
    task_definition: str
    running: int
    desired: int
    pending: int
    failed: int


@dataclass(frozen=True)
class TargetState:
    id: str
    state: str
    reason: str


@dataclass(frozen=True)
class ReleaseLine:
    time: str
    kind: str
    verdict: str
    digest: str
    commit: str
    note: str
    schema: str = ""  # the schema version its migrations reported, and the contract migrations it applied


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
    deployments: list[Deployment]
    targets: list[TargetState]
    alarms_in_alarm: list[str]
    releases: list[ReleaseLine]
    endpoint: str | None
    schedule: str | None = None  # with awake hours: asleep or awake, until when


def read_service(aws: Aws, env: Environment) -> dict | None:
    """The environment's ECS service as DescribeServices reports it, or None when it does not exist."""
    try:
        services = aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster, services=[env.names.service])["services"]
    except AwsError as exc:
        if exc.not_found:
            return None
        raise
    return services[0] if services else None


def status(aws: Aws, assembly: EnvironmentAssembly) -> StatusReport:
    env = assembly.environment
    records = history.read(aws, env)
    lkg = history.last_known_good(records)
    current = current_digest(aws, env)
    service = read_service(aws, env) or {}
    targets = target_health(aws, env, service) if service else []
    alarms = aws.call("cloudwatch", "DescribeAlarms", env.region, StateValue="ALARM")["MetricAlarms"]
    edge = deployed_edge(aws, env)
    return StatusReport(
        environment=env.name, account=env.account, region=env.region,
        current=current, verified=_verified(current, records), last_known_good=lkg.digest if lkg else None,
        running=service.get("runningCount"), desired=service.get("desiredCount"), pending=service.get("pendingCount"),
        deployments=[Deployment(d.get("id", ""), d.get("status", ""), d.get("rolloutState", ""), d.get("taskDefinition", ""),
                                d.get("runningCount", 0), d.get("desiredCount", 0), d.get("pendingCount", 0), d.get("failedTasks", 0))
                     for d in service.get("deployments", [])],
        targets=[TargetState(t["Target"]["Id"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason", "")) for t in targets],
        alarms_in_alarm=[a["AlarmName"] for a in alarms if a["AlarmName"].startswith(env.names.prefix)],
        releases=[ReleaseLine(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.time)), r.kind, r.verdict, r.digest, r.commit, r.note,
                              r.schema + (f" (contract: {', '.join(r.contracts)})" if r.contracts else ""))
                  for r in records[:5]],
        endpoint=f"https://{edge.domain}" if edge else None,
        schedule=awake.describe(env, awake.asleep(aws, env)) if env.schedule else None,
    )


def _verified(current: str | None, records: list[history.ReleaseRecord]) -> bool:
    """An interrupted or failed release can leave a digest in place that no health gate ever passed."""
    if current is None:
        return True
    newest = next((r for r in records if r.digest == current), None)
    return newest is not None and newest.verdict == "released"
