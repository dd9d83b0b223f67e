"""`status` and `explain`: what the environment is doing, and why it is unhealthy."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.explain import root_cause
from shipyard.deploy.state import read_stack, stack_events
from shipyard.release import health, history
from shipyard.release.release import current_digest, target_health
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class Finding:
    link: str  # stacks | edge | load balancer | targets | tasks | logs
    broken: bool
    detail: str
    cause: str = ""
    hint: str = ""


def _service(aws: Aws, env: Environment) -> dict | None:
    try:
        services = aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster, services=[env.names.service])["services"]
    except AwsError:
        return None
    return services[0] if services else None


def status(aws: Aws, assembly: EnvironmentAssembly) -> dict:
    env = assembly.environment
    records = history.read(aws, env)
    lkg = history.last_known_good(records)
    service = _service(aws, env) or {}
    targets = target_health(aws, env, service) if service else []
    alarms = aws.call("cloudwatch", "DescribeAlarms", env.region, StateValue="ALARM")["MetricAlarms"]
    edge = read_stack(aws, env.names.edge_stack, env.region)
    return {
        "environment": env.name, "account": env.account, "region": env.region,
        "current": current_digest(aws, env), "last_known_good": lkg.digest if lkg else None,
        "deployments": [{k: d.get(k) for k in ("id", "status", "rolloutState", "taskDefinition", "runningCount",
                                               "desiredCount", "pendingCount", "failedTasks")} for d in service.get("deployments", [])],
        "running": service.get("runningCount"), "desired": service.get("desiredCount"), "pending": service.get("pendingCount"),
        "targets": [{"id": t["Target"]["Id"], "state": t["TargetHealth"]["State"], "reason": t["TargetHealth"].get("Reason", "")}
                    for t in targets],
        "alarms_in_alarm": [a["AlarmName"] for a in alarms if a["AlarmName"].startswith(env.names.prefix)],
        "releases": [{"digest": r.digest, "verdict": r.verdict, "kind": r.kind, "time": time.strftime(
            "%Y-%m-%d %H:%M:%S", time.gmtime(r.time)), "commit": r.commit, "note": r.note} for r in records[:5]],
        "endpoint": f"https://{edge.outputs['DistributionDomain']}" if edge and "DistributionDomain" in edge.outputs else None,
    }


def explain(aws: Aws, assembly: EnvironmentAssembly, health_url: str | None) -> list[Finding]:
    """Walk the chain edge -> load balancer -> targets -> tasks; the first broken link is the likely cause."""
    env = assembly.environment
    findings: list[Finding] = [Finding("account", False, f"account {env.account}, region {env.region}")]
    for stack in assembly.stacks:
        state = read_stack(aws, stack.name, stack.region)
        if state is None:
            findings.append(Finding("stacks", True, f"{stack.name} does not exist", "never deployed or deleted",
                                    f"shipyard deploy {env.name}"))
        elif "ROLLBACK" in state.status or state.status.endswith("FAILED"):
            cause = root_cause(stack.name, stack_events(aws, stack.name, stack.region))
            findings.append(Finding("stacks", True, f"{stack.name} is {state.status}",
                                    cause.one_line() if cause else state.reason, cause.hint if cause else ""))
    if health_url:
        gate = health.gate(health_url, successes=1, timeout=5, interval=1)
        findings.append(Finding("edge", not gate.passed, f"{health_url} answered {gate.last}",
                                "" if gate.passed else "the edge or something behind it fails; see the links below"))
    try:
        lb = aws.call("elbv2", "DescribeLoadBalancers", env.region, Names=[env.names.load_balancer])["LoadBalancers"][0]
        state = lb.get("State", {}).get("Code", "active")
        findings.append(Finding("load balancer", state != "active", f"{lb['LoadBalancerName']} is {state}, scheme {lb['Scheme']}",
                                "" if state == "active" else "the load balancer is not active"))
    except AwsError as exc:
        findings.append(Finding("load balancer", True, exc.what, "the foundation stack is missing or broken"))
    service = _service(aws, env)
    if service is None:
        findings.append(Finding("tasks", True, "the ECS service does not exist", "", f"shipyard deploy {env.name}"))
        return findings
    targets = target_health(aws, env, service)
    bad = [t for t in targets if t["TargetHealth"]["State"] != "healthy"]
    if not targets:
        findings.append(Finding("targets", True, "no targets registered", "no task is running (see tasks)"))
    for target in bad:
        th = target["TargetHealth"]
        findings.append(Finding("targets", True, f"{target['Target']['Id']} is {th['State']} ({th.get('Reason', '')})",
                                th.get("Description", ""), _target_hint(th.get("Reason", ""))))
    if targets and not bad:
        findings.append(Finding("targets", False, f"{len(targets)} targets healthy"))
    for deployment in service.get("deployments", []):
        failed = deployment.get("rolloutState") == "FAILED"
        findings.append(Finding("tasks", failed, f"deployment {deployment['id']} {deployment['status']} {deployment.get('rolloutState')}: "
                                f"{deployment.get('runningCount')}/{deployment.get('desiredCount')} running, "
                                f"{deployment.get('failedTasks', 0)} failed ({deployment.get('taskDefinition', '').rsplit('/', 1)[-1]})",
                                deployment.get("rolloutStateReason", "") if failed else "",
                                "the circuit breaker stopped it: read the stopped tasks and logs below" if failed else ""))
    findings += _stopped_tasks(aws, env)
    breaker_events = [e["message"] for e in service.get("events", [])[:10] if "fail" in e.get("message", "").lower()
                      or "rolling back" in e.get("message", "").lower()]
    for message in reversed(breaker_events[:3]):  # oldest first: the failure, then what ECS did about it
        findings.append(Finding("tasks", True, message, "ECS service event"))
    findings += _log_tail(aws, env)
    return findings


def _target_hint(reason: str) -> str:
    return {
        "Target.FailedHealthChecks": "the app answers the health check with an error or too slowly: check /healthz and the logs",
        "Target.Timeout": "the health check timed out: the app listens on the wrong port, or the security group blocks it",
        "Elb.RegistrationInProgress": "the target is still registering; wait a few seconds",
        "Target.ResponseCodeMismatch": "the health path answers something other than 200",
    }.get(reason, "see the target group's health check settings")


def _stopped_tasks(aws: Aws, env: Environment) -> list[Finding]:
    try:
        arns = aws.call("ecs", "ListTasks", env.region, cluster=env.names.cluster, serviceName=env.names.service,
                        desiredStatus="STOPPED")["taskArns"][:5]
        tasks = aws.call("ecs", "DescribeTasks", env.region, cluster=env.names.cluster, tasks=arns)["tasks"] if arns else []
    except AwsError:
        return []
    findings = []
    for task in tasks:
        codes = ", ".join(f"{c.get('name')} exit {c.get('exitCode')}" for c in task.get("containers", []) if "exitCode" in c)
        findings.append(Finding("tasks", True, f"task {task['taskArn'].rsplit('/', 1)[-1]} stopped: {task.get('stoppedReason', '')}"
                                + (f" ({codes})" if codes else ""), "a task that exits is a crash at start"))
    return findings


def _log_tail(aws: Aws, env: Environment, lines: int = 8) -> list[Finding]:
    try:
        events = aws.call("logs", "FilterLogEvents", env.region, logGroupName=env.names.log_group, limit=200)["events"]
    except AwsError:
        return []
    tail = [e["message"] for e in sorted(events, key=lambda e: e["timestamp"])[-lines:]]
    if not tail:
        return []
    crashed = any("Traceback" in line or "exited with code" in line or "Error" in line for line in tail)
    return [Finding("logs", crashed, "last lines of " + env.names.log_group + ":\n    " + "\n    ".join(tail),
                    "the service crashed at start (see the traceback)" if crashed else "",
                    "fix the error in the code or its configuration, then release again" if crashed else "")]
