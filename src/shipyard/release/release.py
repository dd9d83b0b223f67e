"""release / promote / rollback: move an Attempt through its steps (attempt.py) and judge it by what AWS reports.

The verdict is RELEASED only when the deployment with the new task definition is PRIMARY and COMPLETED, running
equals desired, every target is healthy (rollout_watch.py), and the health URL answers 200 N times in a row through
the edge (bake_gate.py). Anything else is FAILED, whatever the stack status says; a failed release rolls back to
the last known good digest and never exits 0. The workloads beside [service] move in the same stack update, each
judged by what is true of its kind (set_judge.py), and a failure of any returns the whole set. The guards (guards.py)
and migrations (migrations.py) run in their own steps; this module only orchestrates them and records every attempt
in the history.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import replace
from typing import NoReturn

from shipyard import ui
from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.apply import Interrupted, apply_stack, check_account, wait_for_stack
from shipyard.deploy.state import health_url, task_definition_of
from shipyard.errors import Refused, ShipyardError, UsageError
from shipyard.naming import NO_IMAGE
from shipyard.release import awake, history, lock, migrations
from shipyard.release.attempt import Attempt, Kind, Outcome, ReleaseFailed, ReleaseOptions, Step, Verdict, Workload
from shipyard.release.bake_gate import BakeGate, gate_failed, run_gate
from shipyard.release.guards import budget_guard, vulnerability_guard
from shipyard.release.images import Image, resolve
from shipyard.release.migrations import Phase, PhaseResult
from shipyard.release.one_off import TaskInterrupted
from shipyard.release.rollout_watch import settle_after_wake, wait_for_rollout
from shipyard.release.set_judge import SetJudge, WorkloadImages
from shipyard.synth import EnvironmentAssembly, StackArtifact


def release(aws: Aws, assembly: EnvironmentAssembly, ref: str, options: ReleaseOptions, *, health_path: str,
            kind: Kind = Kind.RELEASE, workloads: tuple[Workload, ...] = ()) -> Outcome:
    """Release `ref` (and with it the set: each web workload's image) holding the environment's release lock; a
    failure rolls the set back, an interruption leaves a record."""
    env = assembly.environment
    check_account(aws, env.account, env.name)
    with lock.holding(aws, env, action=kind, lease=options.lease, break_expired=options.break_lock):
        try:
            return _release(aws, assembly, ref, options, health_path=health_path, kind=kind, workloads=workloads)
        finally:
            _end_wake(aws, env)


def _end_wake(aws: Aws, env: Environment) -> None:
    """A woken environment sleeps again wake_hours after the release ends, whatever its verdict."""
    try:
        woken = awake.end_wake_after_release(aws, env)
    except AwsError as exc:
        ui.info(f"{env.name}: could not move the end of its wake ({exc.what}); it ends as set when the release began")
        return
    if woken is not None and woken.sleeps_at is not None:
        ui.info(f"{env.name}: {woken.text(env)}")


def _release(aws: Aws, assembly: EnvironmentAssembly, ref: str, options: ReleaseOptions, *, health_path: str, kind: Kind,
             workloads: tuple[Workload, ...]) -> Outcome:
    env = assembly.environment
    image = resolve(aws, env, ref)
    others = workload_images(aws, env, workloads)
    attempt = Attempt(image.digest, workloads=_digests(others))
    migrate = options.migrate if kind is not Kind.ROLLBACK else None  # old code runs on the schema as it is
    phases: list[PhaseResult] = []
    lkg = history.last_known_good(history.read(aws, env))
    notes: list[str] = []
    try:
        notes += _checks(aws, env, image, options, lkg, others)
        url = health_url(aws, env, options.health_url, health_path)
        if migrate:
            attempt.step = Step.EXPAND_MIGRATIONS
            phases.append(migrations.run_phase(aws, assembly, image.reference, migrate, Phase.EXPAND, timeout=options.migrate_timeout))
            if not phases[-1].succeeded:
                attempt.reasons.append(f"{phases[-1].failure()}; nothing was rolled out")
        if not attempt.reasons:
            deploy_digest(aws, assembly, image, url, options, attempt, workloads=others)
        if migrate and attempt.released and phases[0].pending:  # nothing left for it otherwise
            attempt.step = Step.CONTRACT_MIGRATIONS
            phases.append(migrations.run_phase(aws, assembly, image.reference, migrate, Phase.CONTRACT, timeout=options.migrate_timeout))
    except (KeyboardInterrupt, Interrupted, TaskInterrupted) as exc:
        _interrupted(aws, env, kind, attempt, exc)
    contract_failed = bool(phases) and phases[-1].phase is Phase.CONTRACT and not phases[-1].succeeded
    if contract_failed:
        notes.append(phases[-1].failure())
    history.append(aws, env, _record(image.digest, attempt.verdict, kind, "; ".join(notes + attempt.reasons), phases,
                                     workloads=attempt.workloads))
    outcome = Outcome(env.name, attempt)
    if contract_failed:
        raise ShipyardError(f"release {env.name}", f"released {image.digest[:19]}, but {phases[-1].failure()}; the schema is "
                            "still the expanded one, which the new code runs on", "fix the migration and release again: "
                            "the expand phase finds nothing left to do and the contract phase runs")
    if attempt.released:
        return outcome
    if attempt.step.rolled_out and options.auto_rollback and lkg and (lkg.digest, lkg.workloads) != (image.digest, attempt.workloads):
        good = workload_images(aws, env, _as_released(workloads, lkg))
        _roll_back(aws, assembly, outcome, Image(image.repository_uri, lkg.digest, ()), url, options, good)
    elif attempt.step.rolled_out:
        outcome.no_rollback = _without_rollback(attempt, options, lkg)
    raise ReleaseFailed(f"release {env.name}", outcome.summary(), f"run `shipyard explain {env.name}` for the chain edge -> "
                        "load balancer -> targets -> tasks", outcome)


def _checks(aws: Aws, env: Environment, image: Image, options: ReleaseOptions, lkg: history.ReleaseRecord | None,
            others: WorkloadImages) -> list[str]:
    """The guards (they refuse, or note why someone went ahead) for every image of the set, then the wake of a
    sleeping environment."""
    notes = [n for n in (vulnerability_guard(aws, env, image, options.allow_vulnerable),
                         *(vulnerability_guard(aws, env.workload_view(name), own, options.allow_vulnerable)
                           for name, (own, _) in others.items() if own is not None),
                         budget_guard(aws, env, options.override_budget)) if n]
    ui.info(f"{env.name}: releasing {image.reference}" + (f" (last known good {lkg.digest[:19]})" if lkg else ""))
    woken = awake.wake(aws, env, hold=options.lease)
    if woken is not None:
        notes.append("woke the environment for the release")
        ui.info(f"{env.name}: it was asleep outside its awake hours ({env.awake}); woke it for the release "
                f"({env.desired_count} tasks); " + (f"it sleeps again {env.wake_hours:g} h after the release ends (wake_hours)"
                                                    if woken.sleeps_at else woken.text(env)))
        unsettled = settle_after_wake(aws, env, task_definition_of(aws, env, env.names.task_family), timeout=options.rollout_timeout)
        if unsettled:
            notes.append(f"the woken environment did not settle: {unsettled}")
            ui.info(f"{env.name}: released anyway, though the woken environment did not settle: {unsettled}")
    return notes


def _without_rollback(attempt: Attempt, options: ReleaseOptions, lkg: history.ReleaseRecord | None) -> str:
    """Why no automatic rollback followed a failed release that rolled out, and what runs now."""
    if attempt.moved_back:
        return ("ECS moved the traffic back to the previous revision" +
                (", which runs" if lkg else "; nothing was released before it, so nothing serves until a release passes"))
    why = ("--no-rollback" if not options.auto_rollback else "no earlier release to return to" if lkg is None
           else "it is the last known good digest itself")
    return f"no automatic rollback ({why}): {attempt.digest[:19]} runs"


def _roll_back(aws: Aws, assembly: EnvironmentAssembly, outcome: Outcome, good: Image, url: str, options: ReleaseOptions,
               good_workloads: WorkloadImages) -> None:
    """The automatic rollback to the last known good digest, unless a contract migration since forbids it."""
    env, failed = assembly.environment, outcome.attempt
    try:
        migrations.guard_rollback(history.read(aws, env), good.digest, env.names.database)
    except Refused as refused:
        raise ReleaseFailed(f"release {env.name}", f"{outcome.summary()}; no automatic rollback: {refused.what}",
                            refused.hint, outcome) from None
    ui.info(f"{env.name}: release failed ({'; '.join(failed.reasons)}); rolling back to {good.digest}")
    outcome.rollback = Attempt(good.digest, workloads=_digests(good_workloads))
    outcome.rolled_back_to = good.digest
    try:
        deploy_digest(aws, assembly, good, url, options, outcome.rollback, judge_without_url=failed.unreachable,
                      workloads=good_workloads)
    except (KeyboardInterrupt, Interrupted) as exc:
        _interrupted(aws, env, Kind.ROLLBACK, outcome.rollback, exc)
    history.append(aws, env, _record(good.digest, outcome.rollback.verdict, Kind.ROLLBACK,
                                     "; ".join([f"automatic rollback after {failed.digest[:19]} failed", *outcome.rollback.reasons]),
                                     workloads=outcome.rollback.workloads))


def _interrupted(aws: Aws, env: Environment, kind: Kind, attempt: Attempt, cause: BaseException) -> NoReturn:
    """Ctrl-C or SIGTERM: record what was interrupted and say what state it left; exit 130."""
    attempt.verdict = Verdict.INTERRUPTED
    history.append(aws, env, _record(attempt.digest, Verdict.INTERRUPTED, kind, f"interrupted during {attempt.step}",
                                     workloads=attempt.workloads))
    left = attempt.step.left_behind(attempt.digest, stack_continues=isinstance(cause, Interrupted))
    raise Interrupted(f"{kind} {env.name}", f"interrupted during {attempt.step} of {attempt.digest[:19]}; {left}",
                      f"release again, or `shipyard rollback {env.name}` to return to the last known good image") from None


def _record(digest: str, verdict: Verdict, kind: Kind, note: str, phases: list[PhaseResult] | None = None, *,
            workloads: dict[str, str]) -> history.ReleaseRecord:
    phases = phases or []
    schema = next((p.schema_version for p in reversed(phases) if p.schema_version), "")
    contracts = tuple(name for p in phases for name in p.applied if migrations.is_contract(name))
    return history.ReleaseRecord(digest=digest, time=history.now(), verdict=verdict, kind=kind,
                                 commit=os.environ.get("GITHUB_SHA", ""), actor=os.environ.get("GITHUB_ACTOR", ""), note=note[:300],
                                 schema=schema, contracts=contracts, workloads=dict(workloads))


def deploy_digest(aws: Aws, assembly: EnvironmentAssembly, image: Image, url: str, options: ReleaseOptions,
                  attempt: Attempt, *, judge_without_url: bool = False, workloads: WorkloadImages | None = None) -> Attempt:
    """Write the digest, update the service stack, then judge the rollout and the health gate; fills `attempt`.

    judge_without_url: the health URL was unreachable before (a rollback after such a failure); if it still is,
    the URL says nothing about the image, and ECS and the load balancer's target health alone decide.
    """
    env = assembly.environment
    stack = assembly.stack(env.names.service_stack)
    started = time.monotonic()
    busy = aws.cloudformation(stack.region).stack(stack.name)
    if busy is not None and busy.status.endswith("_IN_PROGRESS"):  # e.g. an interrupted release: CloudFormation went on
        ui.info(f"{stack.name}: {busy.status}; waiting for it to finish before releasing")
        wait_for_stack(aws, stack, timeout=options.rollout_timeout)
    since = str(datetime.datetime.now(datetime.UTC))  # a worker's tasks stopped after this are the release's to judge
    attempt.step = Step.DIGEST_WRITE
    moved = set()  # the workloads whose image this release changes (the others keep running what they ran)
    for name, (own, _) in (workloads or {}).items():  # the whole set moves in the one stack update
        parameter, wanted = env.workload_view(name).names.image_parameter, own.reference if own else NO_IMAGE
        if aws.ssm(env.region).get(parameter) != wanted:
            moved.add(name)
        aws.ssm(env.region).put(parameter, wanted)
    aws.ssm(env.region).put(env.names.image_parameter, image.reference)
    # Same template, re-resolved: only the SSM-resolved image (and what depends on it) changes. CloudFormation waits
    # for the ECS deployment; one that runs past the bound is cancelled and rolled back.
    attempt.step = Step.STACK_UPDATE
    judges = SetJudge(aws, env, workloads or {}, moved, options, since=since)
    judges.start()
    try:
        return _judged(aws, env, stack, url, options, attempt, judges, judge_without_url=judge_without_url, started=started)
    finally:
        judges.stop()


def _judged(aws: Aws, env: Environment, stack: StackArtifact, url: str, options: ReleaseOptions, attempt: Attempt, judges: SetJudge,
            *, judge_without_url: bool, started: float) -> Attempt:
    """The stack update with [service]'s gate in its bake and the workloads judged beside it; then the verdict."""
    bake_gate = BakeGate(aws, env, url, options, attempt, judge_without_url)
    applied = apply_stack(aws, stack, change_set_type="UPDATE", parameters={}, timeout=options.rollout_timeout,
                          use_previous_template=True, cancel_after_timeout=True, on_wait=bake_gate)
    attempt.timings[Step.STACK_UPDATE] = time.monotonic() - started
    serving = bake_gate.phases(time.monotonic())
    attempt.timings.update(serving)
    gate = bake_gate.result
    if gate is not None and not gate.passed:
        return gate_failed(attempt, gate, url, options, judge_without_url)
    if applied.cancelled_after is not None:
        attempt.reasons.append(f"the stack update did not complete within {applied.cancelled_after:.0f}s; cancelled, "
                               f"CloudFormation rolled it back ({applied.status})")
    elif not applied.succeeded:
        attempt.reasons.append(f"stack {applied.status}" + (f": {applied.cause.one_line()}" if applied.cause else ""))
    if attempt.reasons:
        return attempt

    mark = time.monotonic()
    attempt.step = Step.ECS_ROLLOUT
    rollout = wait_for_rollout(aws, env, task_definition_of(aws, env, env.names.task_family), timeout=options.rollout_timeout)
    if not serving:  # a phase of its own for a rolling service; blue/green finished it within the stack update
        attempt.timings[Step.ECS_ROLLOUT] = time.monotonic() - mark
    if rollout:
        attempt.reasons.extend(rollout)
        return attempt

    if gate is None:  # no bake to run it in (a rolling service): the gate follows the rollout
        mark = time.monotonic()
        attempt.step = Step.HEALTH_GATE
        gate = run_gate(aws, url, options, f"{env.name}: health gate on {url}")
        attempt.timings[Step.HEALTH_GATE] = time.monotonic() - mark
        attempt.timings["verdict"] = time.monotonic() - started
        if not gate.passed:
            return gate_failed(attempt, gate, url, options, judge_without_url)
    attempt.reasons += judges.finish()
    if judges.judged_at:  # the set's verdict is its last member's
        attempt.timings["verdict"] = max(attempt.timings.get("verdict", 0.0), max(judges.judged_at.values()))
    if not attempt.reasons:
        attempt.verdict = Verdict.RELEASED
    return attempt


def workload_images(aws: Aws, env: Environment, workloads: tuple[Workload, ...]) -> WorkloadImages:
    """Each workload's image in its own repository: the one given, the one it runs where none is (its directory did not
    change), or none (a workload the set returns to before it existed)."""
    found: WorkloadImages = {}
    for workload in workloads:
        view = env.workload_view(workload.name)
        ref = workload.ref or (aws.ssm(env.region).get(view.names.image_parameter) or NO_IMAGE)
        if ref == NO_IMAGE and workload.ref is None:
            raise UsageError(f"workload {workload.name}", f"has no image released in {env.name} yet",
                             f"release one with it: --workload {workload.name}=REF (up builds it from its directory)")
        found[workload.name] = (None if ref == NO_IMAGE else resolve(aws, view, ref), workload)
    return found


def _digests(images: WorkloadImages) -> dict[str, str]:
    """The set as the history records it: each workload's digest, or none."""
    return {name: own.digest if own else NO_IMAGE for name, (own, _) in images.items()}


def rollback(aws: Aws, assembly: EnvironmentAssembly, options: ReleaseOptions, *, health_path: str,
             to: str | None = None, steps: int = 1, workloads: tuple[Workload, ...] = (), service: str | None = None) -> Outcome:
    """Release a previous good digest from the history, with the rest of the set it was released with; or (service)
    a previous good image of that one workload, the rest of the set keeping what it runs."""
    env = assembly.environment
    records = history.read(aws, env)
    if service is not None:
        view = env.workload_view(service)
        running = aws.ssm(env.region).get(view.names.image_parameter) or NO_IMAGE
        good = list(dict.fromkeys(r.workloads[service] for r in records
                                  if r.verdict is Verdict.RELEASED and r.workloads.get(service, NO_IMAGE) != NO_IMAGE))
        target = _rollback_target(env, f"workload {service}", good, running.rsplit("@", 1)[-1], to, steps)
        primary = current_digest(aws, env)
        if primary is None:
            raise Refused(f"environment {env.name}", "has no release of [service] yet, which the set needs")
        return release(aws, assembly, primary, options, health_path=health_path, kind=Kind.ROLLBACK,
                       workloads=tuple(replace(w, ref=target if w.name == service else None) for w in workloads))
    good = history.good_digests(records)
    target = _rollback_target(env, f"environment {env.name}", good, current_digest(aws, env), to, steps)
    migrations.guard_rollback(records, target, env.names.database)
    released = next(r for r in records if r.digest == target and r.verdict is Verdict.RELEASED)
    return release(aws, assembly, target, options, health_path=health_path, kind=Kind.ROLLBACK,
                   workloads=_as_released(workloads, released))


def _rollback_target(env: Environment, what: str, good: list[str], current: str | None, to: str | None, steps: int) -> str:
    """The good digest a rollback releases: --to, or the one `steps` back from what runs."""
    if to:
        if to not in good:
            raise Refused(what, f"{to} was never released successfully in {env.name}; known good: "
                          f"{', '.join(d[:19] for d in good) or 'none'}")
        return to
    candidates = [d for d in good if d != current]
    if len(candidates) < steps:
        raise Refused(what, f"has no earlier good release in {env.name} to roll back to",
                      "release a known good image with `shipyard release`")
    return candidates[steps - 1]


def _as_released(workloads: tuple[Workload, ...], record: history.ReleaseRecord) -> tuple[Workload, ...]:
    """The workloads at the images a release record names (none for a workload the set did not have yet)."""
    return tuple(replace(w, ref=record.workloads.get(w.name, NO_IMAGE)) for w in workloads)


def current_digest(aws: Aws, env: Environment) -> str | None:
    value = aws.ssm(env.region).get(env.names.image_parameter)
    return value.split("@", 1)[1] if value and "@" in value else None


def _last_known_good(source_aws: Aws, src: Environment, dst: Environment) -> history.ReleaseRecord:
    """SOURCE's last known good set, which promote copies where no --digest names it."""
    # SOURCE's release history is an SSM parameter of its own account, which no other account can read: CI's
    # production job (production's deploy role) passes --digest, and reads staging only through its registry.
    check_account(source_aws, src.account, src.name,
                  hint=f"without --digest, promote reads {src.name}'s release history, which only account {src.account} "
                       f"can read: pass --digest (CI's {dst.name} job reads {src.name} only through its registry)")
    lkg = history.last_known_good(history.read(source_aws, src))
    if lkg is None:
        raise Refused(f"environment {src.name}", "has no successful release to promote", f"release to {src.name} first, or pass --digest")
    return lkg


def promote(source_aws: Aws, source: EnvironmentAssembly, target_aws: Aws, target: EnvironmentAssembly,
            options: ReleaseOptions, *, health_path: str, digest: str | None = None, workloads: tuple[Workload, ...] = (),
            service: str | None = None) -> Outcome:
    """Release to TARGET the exact set that is last known good in SOURCE (or DIGEST, and each workload's given digest),
    copied registry to registry. service: that workload's image alone (DIGEST, or its image in SOURCE's last known
    good set); the rest of TARGET's set keeps what it runs."""
    from shipyard.release.copy import copy_image

    src, dst = source.environment, target.environment
    if service is not None:
        running = current_digest(target_aws, dst)
        if running is None:
            raise UsageError(f"environment {dst.name}", "has no release of [service] yet, which the set needs",
                             f"promote the whole set first: shipyard promote {src.name} {dst.name}")
        if digest is None:
            digest = _last_known_good(source_aws, src, dst).workloads.get(service)
            if digest is None:
                raise Refused(f"--service {service}", f"has no image in {src.name}'s last known good set",
                              f"release it to {src.name} first, or pass --digest")
        own = copy_image(source_aws, src.workload_view(service), target_aws, dst.workload_view(service), digest.rsplit("@", 1)[-1])
        ui.info(f"{dst.name}: {service} {own.reference} matches {src.name}'s digest byte for byte")
        return release(target_aws, target, running, options, health_path=health_path, kind=Kind.PROMOTE,
                       workloads=tuple(replace(w, ref=own.reference if w.name == service else None) for w in workloads))
    if digest is None:
        lkg = _last_known_good(source_aws, src, dst)
        digest = lkg.digest
        workloads = tuple(w if w.ref else _as_released((w,), lkg)[0] for w in workloads)
    image = copy_image(source_aws, src, target_aws, dst, digest)
    ui.info(f"{dst.name}: {image.reference} matches {src.name}'s digest byte for byte")
    copied = []
    for workload in workloads:
        if workload.ref in (None, NO_IMAGE):
            raise UsageError(f"workload {workload.name}", f"has no digest to promote from {src.name}",
                             f"pass --workload {workload.name}=sha256:... (CI passes each workload's digest), or release it to {src.name}")
        own = copy_image(source_aws, src.workload_view(workload.name), target_aws, dst.workload_view(workload.name),
                         workload.ref.rsplit("@", 1)[-1])
        copied.append(replace(workload, ref=own.reference))
    return release(target_aws, target, image.reference, options, health_path=health_path, kind=Kind.PROMOTE, workloads=tuple(copied))
