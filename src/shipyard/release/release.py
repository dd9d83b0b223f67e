"""release / promote / rollback: write a digest, update the service stack, and judge by what AWS reports.

The verdict is "released" only when the deployment with the new task
definition is PRIMARY and COMPLETED, running equals desired, every target is
healthy, and the health URL answers 200 N times in a row through the edge.
Anything else is "failed", whatever the stack status says; a failed release
rolls back to the last known good digest and never exits 0.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import NoReturn

from shipyard import ui
from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.apply import Interrupted, apply_stack, check_account, wait_for_stack
from shipyard.deploy.state import edge_url, read_stack, task_definition_of
from shipyard.errors import Refused, ShipyardError
from shipyard.release import awake, health, history, lock, migrations
from shipyard.release.images import BLOCKING_SEVERITIES, Image, resolve, scan_findings
from shipyard.release.one_off import TaskInterrupted
from shipyard.synth import EnvironmentAssembly


@dataclass
class ReleaseOptions:
    health_url: str | None = None
    rollout_timeout: float = 900.0
    health_timeout: float = 120.0
    health_successes: int = 3
    health_interval: float = 2.0
    auto_rollback: bool = True
    allow_vulnerable: str | None = None
    override_budget: str | None = None
    break_lock: bool = False  # break another release's lock once its lease has expired
    migrate: list[str] | None = None  # [release] migrate: run in one-off tasks of the new image (migrations.py)
    migrate_timeout: float = 600.0

    @property
    def lease(self) -> float:
        """The longest a release can hold the lock: its migrations, itself and its automatic rollback, with margin."""
        return 2 * (self.rollout_timeout + self.health_timeout) + (2 * self.migrate_timeout if self.migrate else 0) + 300


@dataclass
class Attempt:
    digest: str
    verdict: str  # released | failed | interrupted
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    step: str = "checks"  # checks | expand migrations | digest write | stack update | ECS rollout | health gate | contract migrations
    unreachable: bool = False  # the health URL itself could not be reached (DNS, connection, TLS)


@dataclass
class Outcome:
    environment: str
    attempt: Attempt
    rollback: Attempt | None = None
    rolled_back_to: str | None = None


class ReleaseFailed(ShipyardError):
    def __init__(self, where: str, what: str, hint: str, outcome: Outcome) -> None:
        super().__init__(where, what, hint)
        self.outcome = outcome


def health_url(aws: Aws, env: Environment, given: str | None, path: str) -> str:
    """The release gate's URL: the health path through the edge, as a viewer reaches it."""
    return given or edge_url(aws, env) + path


def budget_guard(aws: Aws, env: Environment, override: str | None) -> str | None:
    """Production releases wait while the budget alarm is in ALARM, unless overridden with a reason."""
    if not env.is_production:
        return None
    alarms = aws.call("cloudwatch", "DescribeAlarms", "us-east-1", AlarmNames=[env.names.budget_alarm])["MetricAlarms"]
    if not alarms or alarms[0]["StateValue"] != "ALARM":
        return None
    if override:
        return f"budget alarm in ALARM, overridden: {override}"
    raise Refused(f"environment {env.name}", f"budget alarm {env.names.budget_alarm} is in ALARM; nothing was released",
                  'look at `shipyard status` and the budget, or pass --override-budget "reason"')


def vulnerability_guard(aws: Aws, env: Environment, image: Image, allow: str | None) -> str | None:
    counts = scan_findings(aws, env, image)
    blocking = {severity: counts[severity] for severity in BLOCKING_SEVERITIES if counts.get(severity)}
    if not blocking:
        return None
    summary = ", ".join(f"{n} {severity}" for severity, n in blocking.items())
    if allow:
        return f"released with {summary} findings: {allow}"
    raise Refused(image.reference, f"the ECR scan found {summary}; nothing was released",
                  'fix the image, or pass --allow-vulnerable "reason" (the reason is recorded)')


def release(aws: Aws, assembly: EnvironmentAssembly, ref: str, options: ReleaseOptions, *, health_path: str,
            kind: str = "release") -> Outcome:
    """Release `ref` holding the environment's release lock; a failure rolls back, an interruption leaves a record."""
    env = assembly.environment
    check_account(aws, env.account, env.name)
    with lock.holding(aws, env, action=kind, lease=options.lease, break_expired=options.break_lock):
        return _release(aws, assembly, ref, options, health_path=health_path, kind=kind)


def _release(aws: Aws, assembly: EnvironmentAssembly, ref: str, options: ReleaseOptions, *, health_path: str,
             kind: str) -> Outcome:
    env = assembly.environment
    image = resolve(aws, env, ref)
    attempt = Attempt(image.digest, "failed")
    migrate = options.migrate if kind != "rollback" else None  # old code runs on the schema as it is
    phases: list[migrations.PhaseResult] = []
    try:
        notes = [n for n in (vulnerability_guard(aws, env, image, options.allow_vulnerable),
                             budget_guard(aws, env, options.override_budget)) if n]
        url = health_url(aws, env, options.health_url, health_path)
        lkg = history.last_known_good(history.read(aws, env))
        ui.info(f"{env.name}: releasing {image.reference}" + (f" (last known good {lkg.digest[:19]})" if lkg else ""))
        if awake.wake(aws, env):
            notes.append("woke the environment for the release")
            ui.info(f"{env.name}: it was asleep outside its awake hours ({env.awake}); woke it for the release "
                    f"({env.desired_count} tasks); the next scheduled sleep stops them again")
            unsettled = _settle_after_wake(aws, env, timeout=options.rollout_timeout)
            if unsettled:
                notes.append(f"the woken environment did not settle: {unsettled}")
                ui.info(f"{env.name}: released anyway, though the woken environment did not settle: {unsettled}")
        if migrate:
            attempt.step = "expand migrations"
            phases.append(migrations.run_phase(aws, assembly, image.reference, migrate, "expand", timeout=options.migrate_timeout))
            if not phases[-1].succeeded:
                attempt.reasons.append(f"{phases[-1].failure()}; nothing was rolled out")
        if not attempt.reasons:
            deploy_digest(aws, assembly, image, url, options, attempt)
        if migrate and attempt.verdict == "released" and phases[0].pending:  # nothing left for it otherwise
            attempt.step = "contract migrations"
            phases.append(migrations.run_phase(aws, assembly, image.reference, migrate, "contract", timeout=options.migrate_timeout))
    except (KeyboardInterrupt, Interrupted, TaskInterrupted) as exc:
        _interrupted(aws, env, kind, attempt, exc)
    contract_failed = bool(phases) and phases[-1].phase == "contract" and not phases[-1].succeeded
    if contract_failed:
        notes.append(phases[-1].failure())
    history.append(aws, env, _record(image.digest, attempt.verdict, kind, "; ".join(notes + attempt.reasons), phases))
    outcome = Outcome(env.name, attempt)
    if contract_failed:
        raise ShipyardError(f"release {env.name}", f"released {image.digest[:19]}, but {phases[-1].failure()}; the schema is "
                            "still the expanded one, which the new code runs on", "fix the migration and release again: "
                            "the expand phase finds nothing left to do and the contract phase runs")
    if attempt.verdict == "released":
        return outcome
    rolled_out = attempt.step not in ("checks", "expand migrations")
    if rolled_out and options.auto_rollback and lkg and lkg.digest != image.digest:
        try:
            migrations.guard_rollback(history.read(aws, env), lkg.digest, env.names.database)
        except Refused as refused:
            raise ReleaseFailed(f"release {env.name}", f"{_failure_summary(outcome)}; no automatic rollback: {refused.what}",
                                refused.hint, outcome) from None
        ui.info(f"{env.name}: release failed ({'; '.join(attempt.reasons)}); rolling back to {lkg.digest}")
        outcome.rollback = Attempt(lkg.digest, "failed")
        outcome.rolled_back_to = lkg.digest
        try:
            deploy_digest(aws, assembly, Image(image.repository_uri, lkg.digest, ()), url, options, outcome.rollback,
                          judge_without_url=attempt.unreachable)
        except (KeyboardInterrupt, Interrupted) as exc:
            _interrupted(aws, env, "rollback", outcome.rollback, exc)
        history.append(aws, env, _record(lkg.digest, outcome.rollback.verdict, "rollback",
                                         "; ".join([f"automatic rollback after {image.digest[:19]} failed", *outcome.rollback.reasons])))
    raise ReleaseFailed(f"release {env.name}", _failure_summary(outcome), "run `shipyard explain "
                        f"{env.name}` for the chain edge -> load balancer -> targets -> tasks", outcome)


def _interrupted(aws: Aws, env: Environment, kind: str, attempt: Attempt, cause: BaseException) -> NoReturn:
    """Ctrl-C or SIGTERM: record what was interrupted and say what state it left; exit 130."""
    attempt.verdict = "interrupted"
    history.append(aws, env, _record(attempt.digest, "interrupted", kind, f"interrupted during {attempt.step}"))
    if attempt.step == "checks":
        left = "nothing was changed"
    elif attempt.step == "expand migrations":
        left = "the migration task was stopped; migrations it finished stay applied, and nothing was rolled out"
    elif attempt.step == "contract migrations":
        left = (f"{attempt.digest[:19]} is released; the contract migration task was stopped, and migrations it finished "
                "stay applied")
    else:
        left = (f"the image parameter names {attempt.digest[:19]}, which never passed the health gate "
                "(`shipyard status` marks it UNVERIFIED)")
        if isinstance(cause, Interrupted):
            left += "; CloudFormation goes on updating the service stack"
    raise Interrupted(f"{kind} {env.name}", f"interrupted during {attempt.step} of {attempt.digest[:19]}; {left}",
                      f"release again, or `shipyard rollback {env.name}` to return to the last known good image") from None


def _failure_summary(outcome: Outcome) -> str:
    text = f"failed: {'; '.join(outcome.attempt.reasons)}"
    if outcome.attempt.step == "expand migrations":
        return text
    if outcome.rollback is None:
        return text + "; no automatic rollback (no last known good digest, or --no-rollback)"
    state = "healthy again" if outcome.rollback.verdict == "released" else f"ALSO FAILED: {'; '.join(outcome.rollback.reasons)}"
    return text + f"; rolled back to {outcome.rolled_back_to}: {state}"


def _record(digest: str, verdict: str, kind: str, note: str, phases: list[migrations.PhaseResult] | None = None) -> history.ReleaseRecord:
    phases = phases or []
    schema = next((p.schema_version for p in reversed(phases) if p.schema_version), "")
    contracts = tuple(name for p in phases for name in p.applied if migrations.is_contract(name))
    return history.ReleaseRecord(digest=digest, time=history.now(), verdict=verdict, kind=kind,
                                 commit=os.environ.get("GITHUB_SHA", ""), actor=os.environ.get("GITHUB_ACTOR", ""), note=note[:300],
                                 schema=schema, contracts=contracts)


BAKE_MARGIN = 15.0  # seconds of the bake left for StopServiceDeployment after a failed gate


class BakeGate:
    """The health gate during a blue/green deployment's bake time, while the previous revision still runs.

    Called on every poll of the stack update (CloudFormation waits for the whole deployment). Once ECS reports
    the deployment in BAKE_TIME, production traffic is on the new revision: the gate judges it through the edge.
    If it fails, StopServiceDeployment with ROLLBACK moves traffic back to the previous revision at once, ECS
    fails the deployment and CloudFormation rolls the stack back. A service without blue/green never reaches
    BAKE_TIME, and the gate runs after the stack update instead.
    """

    def __init__(self, aws: Aws, env: Environment, url: str, options: ReleaseOptions, attempt: Attempt,
                 judge_without_url: bool) -> None:
        self.aws, self.env, self.url, self.options, self.attempt = aws, env, url, options, attempt
        self.judge_without_url = judge_without_url
        self.result: health.GateResult | None = None
        self.started = time.monotonic()

    def __call__(self, stack_status: str) -> None:
        if self.result is not None:
            return
        env = self.env
        listed = self.aws.call("ecs", "ListServiceDeployments", env.region, cluster=env.names.cluster,
                               service=env.names.service, status=["IN_PROGRESS"])["serviceDeployments"]
        if not listed:
            return
        newest = max(listed, key=lambda d: d.get("createdAt") or 0)["serviceDeploymentArn"]
        deployment = self.aws.call("ecs", "DescribeServiceDeployments", env.region,
                                   serviceDeploymentArns=[newest])["serviceDeployments"][0]
        if deployment.get("lifecycleStage") != "BAKE_TIME":
            return
        self.attempt.step = "health gate"
        service = self.aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                                services=[env.names.service])["services"][0]
        bake = 60.0 * float(service.get("deploymentConfiguration", {}).get("bakeTimeInMinutes", 0))
        # The verdict must land while the previous revision still runs, or going back means new tasks.
        timeout = min(self.options.health_timeout, max(bake - BAKE_MARGIN, self.options.health_successes * self.options.health_interval))
        self.result = run_gate(self.url, self.options, f"{env.name}: health gate during the bake on {self.url}", timeout=timeout)
        self.attempt.timings["verdict"] = time.monotonic() - self.started
        unreachable_again = self.judge_without_url and self.result.last.startswith("unreachable")
        if not self.result.passed and not unreachable_again:
            ui.info(f"{env.name}: health gate failed ({self.result.last}); moving traffic back to the previous revision "
                    "(StopServiceDeployment, ROLLBACK)")
            try:
                self.aws.call("ecs", "StopServiceDeployment", env.region, serviceDeploymentArn=newest, stopType="ROLLBACK")
            except AwsError as exc:  # the bake ended first: the normal failure path rolls back with a new deployment
                ui.info(f"{env.name}: could not stop the deployment ({exc.what}); rolling back with a new one")
        self.attempt.step = "stack update"


def run_gate(url: str, options: ReleaseOptions, what: str, *, timeout: float | None = None) -> health.GateResult:
    with ui.waiting(what) as show:
        return health.gate(url, successes=options.health_successes, timeout=options.health_timeout if timeout is None else timeout,
                           interval=options.health_interval, on_answer=lambda streak, last: show(
                               f"{streak}/{options.health_successes} answers 200 in a row, last {last}"))


def deploy_digest(aws: Aws, assembly: EnvironmentAssembly, image: Image, url: str, options: ReleaseOptions,
                  attempt: Attempt, *, judge_without_url: bool = False) -> Attempt:
    """Write the digest, update the service stack, then judge the rollout and the health gate; fills `attempt`.

    judge_without_url: the health URL was unreachable before (a rollback after such a failure); if it still is,
    the URL says nothing about the image, and ECS and the load balancer's target health alone decide.
    """
    env = assembly.environment
    stack = assembly.stack(env.names.service_stack)
    started = time.monotonic()
    busy = read_stack(aws, stack.name, stack.region)
    if busy is not None and busy.status.endswith("_IN_PROGRESS"):  # e.g. an interrupted release: CloudFormation went on
        ui.info(f"{stack.name}: {busy.status}; waiting for it to finish before releasing")
        wait_for_stack(aws, stack, timeout=options.rollout_timeout)
    attempt.step = "digest write"
    aws.call("ssm", "PutParameter", env.region, Name=env.names.image_parameter, Value=image.reference, Type="String",
             Overwrite=True)
    # Same template, re-resolved: only the SSM-resolved image (and what depends on it) changes.
    attempt.step = "stack update"
    # CloudFormation waits for the ECS deployment; one that runs past the bound is cancelled and rolled back.
    bake_gate = BakeGate(aws, env, url, options, attempt, judge_without_url)
    applied = apply_stack(aws, stack, change_set_type="UPDATE", parameters=[], timeout=options.rollout_timeout,
                          use_previous_template=True, cancel_after_timeout=True, on_wait=bake_gate)
    gate = bake_gate.result
    if gate is not None and not gate.passed:
        attempt.timings["stack update"] = time.monotonic() - started
        return _gate_failed(attempt, gate, url, options, judge_without_url)
    if applied.cancelled_after is not None:
        attempt.reasons.append(f"the stack update did not complete within {applied.cancelled_after:.0f}s; cancelled, "
                               f"CloudFormation rolled it back ({applied.status})")
    elif not applied.succeeded:
        attempt.reasons.append(f"stack {applied.status}" + (f": {applied.cause.one_line()}" if applied.cause else ""))
    attempt.timings["stack update"] = time.monotonic() - started
    if attempt.reasons:
        return attempt

    mark = time.monotonic()
    attempt.step = "ECS rollout"
    task_definition = _task_definition(aws, env)
    rollout = wait_for_rollout(aws, env, task_definition, timeout=options.rollout_timeout)
    attempt.timings["ECS rollout"] = time.monotonic() - mark
    if rollout:
        attempt.reasons.extend(rollout)
        return attempt

    if gate is None:  # no bake to run it in (a rolling service): the gate follows the rollout
        mark = time.monotonic()
        attempt.step = "health gate"
        gate = run_gate(url, options, f"{env.name}: health gate on {url}")
        attempt.timings["health gate"] = time.monotonic() - mark
        attempt.timings["verdict"] = time.monotonic() - started
        if not gate.passed:
            return _gate_failed(attempt, gate, url, options, judge_without_url)
    attempt.verdict = "released"
    return attempt


def _gate_failed(attempt: Attempt, gate: health.GateResult, url: str, options: ReleaseOptions,
                 judge_without_url: bool) -> Attempt:
    attempt.unreachable = gate.last.startswith("unreachable")
    if attempt.unreachable and judge_without_url:
        attempt.reasons.append(f"health URL unreachable before and after ({gate.last}); judged by ECS and target health alone")
        attempt.verdict = "released"
        return attempt
    attempt.reasons.append(f"health URL {url} did not answer 200 {options.health_successes} times in a row "
                           f"within {gate.timeout:.0f}s (last answer: {gate.last})")
    return attempt


def _task_definition(aws: Aws, env: Environment) -> str:
    return task_definition_of(aws, env, env.names.task_family)


def judge_rollout(service: dict, task_definition: str, targets: list[dict]) -> tuple[bool, list[str]]:
    """(finished, problems): pure verdict over what ECS and the load balancer report."""
    deployments = service.get("deployments", [])
    ours = next((d for d in deployments if d.get("taskDefinition") == task_definition), None)
    if ours is None:
        return True, [f"no deployment runs {task_definition}"]
    if ours.get("rolloutState") == "FAILED":
        return True, [f"ECS deployment {ours['id']} FAILED: {ours.get('rolloutStateReason', '')}"]
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is not None and primary.get("taskDefinition") != task_definition:
        return True, [f"ECS rolled the service back to {primary['taskDefinition']}"]
    problems = []
    if ours.get("status") != "PRIMARY" or ours.get("rolloutState") != "COMPLETED":
        problems.append(f"deployment {ours['id']} is {ours.get('status')} {ours.get('rolloutState')}")
    if service.get("runningCount") != service.get("desiredCount"):
        problems.append(f"{service.get('runningCount')} of {service.get('desiredCount')} tasks running")
    unhealthy = [t for t in targets if t["TargetHealth"]["State"] != "healthy"]
    if unhealthy or not targets:
        problems.append(f"{len(unhealthy)} of {len(targets)} targets not healthy" if targets else "no registered targets")
    return not problems, problems


def wait_for_rollout(aws: Aws, env: Environment, task_definition: str, *, timeout: float) -> list[str]:
    """Problems that remained when the rollout ended or the wait ran out; empty when it completed healthy."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    with ui.waiting(f"{env.name}: ECS rollout of {task_definition.rsplit('/', 1)[-1]}") as show:
        while True:
            service = aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                               services=[env.names.service])["services"][0]
            targets = target_health(aws, env, service)
            finished, problems = judge_rollout(service, task_definition, targets)
            if finished:
                return problems
            if time.monotonic() > deadline:
                return [f"rollout did not complete within {timeout:.0f}s: " + "; ".join(problems)]
            healthy = sum(1 for t in targets if t["TargetHealth"]["State"] == "healthy")
            ours = next((d for d in service.get("deployments", []) if d.get("taskDefinition") == task_definition), {})
            show(f"{healthy}/{service.get('desiredCount')} targets healthy, deployment {ours.get('rolloutState', 'not started')}")
            time.sleep(delay)
            delay = min(delay * 1.5, 10)


def _settle_after_wake(aws: Aws, env: Environment, *, timeout: float) -> str:
    """Wait until a woken service runs healthy and its deployment alarms are out of ALARM; what remained, if not.

    While it slept, the load balancer answered the API with 503, and those count in the deployment alarm. ECS fails a
    deployment whose alarm goes into ALARM (ECS developer guide, "How CloudWatch alarms detect Amazon ECS deployment
    failures"), so the release's rollout starts only once the woken tasks serve and the alarm has seen them do it.
    """
    deadline = time.monotonic() + timeout
    problems = wait_for_rollout(aws, env, _task_definition(aws, env), timeout=timeout)
    if problems:
        return "; ".join(problems)
    service = aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                       services=[env.names.service])["services"][0]
    names = ((service.get("deploymentConfiguration") or {}).get("alarms") or {}).get("alarmNames") or []
    with ui.waiting(f"{env.name}: deployment alarms of the woken service") as show:
        while names:
            alarms = aws.call("cloudwatch", "DescribeAlarms", env.region, AlarmNames=names)["MetricAlarms"]
            firing = [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
            if not firing:
                return ""
            if time.monotonic() > deadline:
                return f"{', '.join(firing)} still in ALARM after {timeout:.0f}s"
            show(f"{', '.join(firing)} in ALARM")
            time.sleep(2)
    return ""


def target_health(aws: Aws, env: Environment, service: dict) -> list[dict]:
    """Targets of the service in its target group and, blue/green, its alternate group (revisions alternate)."""
    groups = [arn for lb in service.get("loadBalancers", [])
              for arn in (lb.get("targetGroupArn"), (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")) if arn]
    health_ = []
    for group in groups:
        health_ += aws.call("elbv2", "DescribeTargetHealth", env.region, TargetGroupArn=group)["TargetHealthDescriptions"]
    return health_


def rollback(aws: Aws, assembly: EnvironmentAssembly, options: ReleaseOptions, *, health_path: str,
             to: str | None = None, steps: int = 1) -> Outcome:
    """Release a previous good digest from the history."""
    env = assembly.environment
    records = history.read(aws, env)
    good = history.good_digests(records)
    current = current_digest(aws, env)
    candidates = [d for d in good if d != current]
    if to:
        if to not in good:
            raise Refused(f"environment {env.name}", f"{to} was never released successfully here; known good: "
                          f"{', '.join(d[:19] for d in good) or 'none'}")
        target = to
    elif len(candidates) >= steps:
        target = candidates[steps - 1]
    else:
        raise Refused(f"environment {env.name}", "has no earlier good release to roll back to",
                      "release a known good image with `shipyard release`")
    migrations.guard_rollback(records, target, env.names.database)
    return release(aws, assembly, target, options, health_path=health_path, kind="rollback")


def current_digest(aws: Aws, env: Environment) -> str | None:
    value = aws.parameter(env.names.image_parameter, env.region)
    return value.split("@", 1)[1] if value and "@" in value else None


def promote(source_aws: Aws, source: EnvironmentAssembly, target_aws: Aws, target: EnvironmentAssembly,
            options: ReleaseOptions, *, health_path: str, digest: str | None = None) -> Outcome:
    """Release to TARGET the exact digest that is last known good in SOURCE (or DIGEST), copied registry to registry."""
    from shipyard.release.copy import copy_image

    src, dst = source.environment, target.environment
    if digest is None:
        # SOURCE's release history is an SSM parameter of its own account, which no other account can read: CI's
        # production job (production's deploy role) passes --digest, and reads staging only through its registry.
        check_account(source_aws, src.account, src.name)
        lkg = history.last_known_good(history.read(source_aws, src))
        if lkg is None:
            raise Refused(f"environment {src.name}", "has no successful release to promote",
                          f"release to {src.name} first, or pass --digest")
        digest = lkg.digest
    image = copy_image(source_aws, src, target_aws, dst, digest)
    ui.info(f"{dst.name}: {image.reference} matches {src.name}'s digest byte for byte")
    return release(target_aws, target, image.reference, options, health_path=health_path, kind="promote")
