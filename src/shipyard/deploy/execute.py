"""Carry out a plan: change sets executed in dependency order, events streamed, a verdict per stack.

The only module of the deploy stage that changes stacks. It refuses before any
change when the caller is in the wrong account, and it explains a failure by
its root cause (explain.py), not by the cascade of cancellations behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shipyard import ui
from shipyard.aws import Aws
from shipyard.deploy.changeset import StackChanges, changes_of_new_stack, create_change_set, delete_change_set, resolve_parameters
from shipyard.deploy.explain import RootCause, root_cause
from shipyard.deploy.plan import Action, Plan, StackState, StackStep, plan_environment
from shipyard.deploy.state import read_stack, read_states, stack_events
from shipyard.errors import ExitCode, ShipyardError
from shipyard.synth import EnvironmentAssembly, StackArtifact

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
FAILURE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
           "CREATE_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"}
STACK_TIMEOUT = 3600.0


class AccountMismatch(ShipyardError):
    exit_code = ExitCode.BAD_INPUT


class DeployFailed(ShipyardError):
    def __init__(self, where: str, what: str, hint: str = "", cause: RootCause | None = None) -> None:
        super().__init__(where, what, hint)
        self.cause = cause


class Interrupted(ShipyardError):
    exit_code = ExitCode.INTERRUPTED


@dataclass(frozen=True)
class StackResult:
    stack: str
    outcome: str  # created | updated | unchanged
    changes: int
    seconds: float


@dataclass
class DeployOptions:
    recover: bool = False
    confirm: Callable[[str], bool] = field(default=lambda question: False)
    stack_timeout: float = STACK_TIMEOUT
    inline_limit: int | None = None


def check_account(aws: Aws, expected: str, environment: str) -> None:
    caller = aws.caller_account()
    if caller != expected:
        raise AccountMismatch(
            f"environment {environment}",
            f"the caller is in account {caller}, but shipyard.toml puts {environment} in account {expected}; nothing was changed",
            f"use credentials for account {expected} (e.g. AWS_PROFILE) or fix environments.{environment}.account",
        )


def guard_local_types(aws: Aws, assembly: EnvironmentAssembly) -> None:
    """The embedded AWS must never skip a resource type silently."""
    if not aws.target.is_local:
        return
    from shipyard.localaws.server import register_handlers, unsupported_types

    # The embedded AWS (this process's or `shipyard local`'s) runs the same handlers.
    register_handlers()

    for stack in assembly.stacks:
        missing = unsupported_types(stack.template())
        if missing:
            raise ShipyardError(stack.name, f"the embedded AWS has no CloudFormation handler for {', '.join(missing)}; "
                                "nothing was deployed", "add a handler in shipyard/localaws/handlers")


def prepare(aws: Aws, assembly: EnvironmentAssembly) -> tuple[Plan, dict[str, StackState | None]]:
    """Guards first (no change is made when they fail), then the plan and the states it was made from."""
    guard_local_types(aws, assembly)
    check_account(aws, assembly.environment.account, assembly.environment.name)
    states = read_states(aws, assembly)
    return plan_environment(assembly, states), states


def preview(aws: Aws, assembly: EnvironmentAssembly) -> list[StackChanges]:
    """What a deploy would change, stack by stack; change sets it makes are deleted again."""
    plan, states = prepare(aws, assembly)
    outputs_of = {name: state.outputs for name, state in states.items() if state}
    previews = []
    for step in plan.steps:
        if step.action in (Action.CREATE, Action.RECREATE) or any(src not in outputs_of for src, _ in step.stack.parameters_from.values()):
            previews.append(changes_of_new_stack(step.stack) if step.action is not Action.UPDATE
                            else StackChanges(step.stack, "UPDATE", (), None))
            continue
        if step.action is not Action.UPDATE:
            raise ShipyardError(step.stack.name, f"cannot preview: {step.why}", _guidance(step))
        changes = create_change_set(aws, step.stack, "UPDATE", resolve_parameters(step.stack, outputs_of))
        if changes.change_set_id:
            delete_change_set(aws, step.stack, changes.change_set_id)
        previews.append(changes)
    return previews


def deploy(aws: Aws, assembly: EnvironmentAssembly, options: DeployOptions) -> list[StackResult]:
    plan, _ = prepare(aws, assembly)
    if plan.blocked:
        step = plan.blocked[0]
        raise ShipyardError(step.stack.name, step.why, _guidance(step))
    outputs_of: dict[str, dict[str, str]] = {}
    results = []
    for step in plan.steps:
        results.append(_deploy_step(aws, step, outputs_of, options))
        state = read_stack(aws, step.stack.name, step.stack.region)
        outputs_of[step.stack.name] = state.outputs if state else {}
    return results


def _guidance(step: StackStep) -> str:
    if step.action is Action.RECOVER:
        return (f"run `shipyard deploy {step.stack.environment} --recover`, or "
                f"aws cloudformation continue-update-rollback --stack-name {step.stack.name} --region {step.stack.region}")
    return f"inspect it with aws cloudformation describe-stack-events --stack-name {step.stack.name} --region {step.stack.region}"


def _deploy_step(aws: Aws, step: StackStep, outputs_of: dict[str, dict[str, str]], options: DeployOptions) -> StackResult:
    stack = step.stack
    started = time.monotonic()
    action = step.action
    if action is Action.WAIT:
        ui.info(f"{stack.name}: {step.status}; waiting for it to finish before changing it")
        status = wait_for_stack(aws, stack, options, since=None)
        action = Action.CREATE if status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE") else Action.UPDATE
        if status == "ROLLBACK_COMPLETE":
            action = Action.RECREATE
    if action is Action.RECOVER:
        if not options.recover:
            raise ShipyardError(stack.name, step.why, _guidance(step))
        ui.info(f"{stack.name}: continuing the failed update rollback")
        aws.call("cloudformation", "ContinueUpdateRollback", stack.region, StackName=stack.name)
        wait_for_stack(aws, stack, options, since=None)
        action = Action.UPDATE
    if action is Action.RECREATE:
        if not options.confirm(f"{stack.name} is in ROLLBACK_COMPLETE after a failed first create. Delete it and create it again?"):
            raise ShipyardError(stack.name, "is in ROLLBACK_COMPLETE and was not replaced",
                                "rerun and confirm, or pass --yes; it holds no resources")
        delete_stack(aws, stack, options)
        action = Action.CREATE

    parameters = resolve_parameters(stack, outputs_of)
    change_set_type = "CREATE" if action is Action.CREATE else "UPDATE"
    kwargs = {"inline_limit": options.inline_limit} if options.inline_limit else {}
    changes = create_change_set(aws, stack, change_set_type, parameters, **kwargs)
    if changes.empty:
        ui.info(f"{stack.name}: no changes")
        return StackResult(stack.name, "unchanged", 0, time.monotonic() - started)
    ui.info(f"{stack.name}: {change_set_type.lower()} ({len(changes.changes)} resource changes)")
    seen = {e["EventId"] for e in stack_events(aws, stack.name, stack.region)} if change_set_type == "UPDATE" else set()
    aws.call("cloudformation", "ExecuteChangeSet", stack.region, ChangeSetName=changes.change_set_id)
    status = wait_for_stack(aws, stack, options, since=seen)
    if status not in SUCCESS:
        events = stack_events(aws, stack.name, stack.region)
        cause = root_cause(stack.name, events, lambda stack_id: stack_events(aws, stack_id, stack.region))
        what = f"{status}: " + (f"{cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}" if cause
                                else "CloudFormation gave no resource-level reason")
        raise DeployFailed(stack.name, what, cause.hint if cause else "", cause)
    return StackResult(stack.name, "created" if change_set_type == "CREATE" else "updated", len(changes.changes),
                       time.monotonic() - started)


def delete_stack(aws: Aws, stack: StackArtifact, options: DeployOptions) -> None:
    """Delete a stack and wait; a failure is explained by its root cause."""
    seen = {e["EventId"] for e in stack_events(aws, stack.name, stack.region)}
    aws.call("cloudformation", "DeleteStack", stack.region, StackName=stack.name)
    status = wait_for_stack(aws, stack, options, since=seen)
    if status != "DELETE_COMPLETE":
        cause = root_cause(stack.name, stack_events(aws, stack.name, stack.region))
        raise DeployFailed(stack.name, f"{status}: {cause.one_line() if cause else 'no reason given'}",
                           cause.hint if cause else "", cause)


def wait_for_stack(aws: Aws, stack: StackArtifact, options: DeployOptions, since: set[str] | None) -> str:
    """Stream new events until the stack reaches a terminal status; return it."""
    seen: set[str] = set(since or ())
    if since is None:
        seen = {e["EventId"] for e in stack_events(aws, stack.name, stack.region)}
    deadline = time.monotonic() + options.stack_timeout
    delay = 0.5
    try:
        while True:
            state = read_stack(aws, stack.name, stack.region)
            status = "DELETE_COMPLETE" if state is None else state.status
            if state is not None:
                fresh = [e for e in stack_events(aws, stack.name, stack.region) if e["EventId"] not in seen]
                for event in reversed(fresh):
                    seen.add(event["EventId"])
                    ui.stack_event(stack.name, event)
            if not status.endswith("_IN_PROGRESS") and (status in SUCCESS or status in FAILURE or status == "DELETE_COMPLETE"):
                return status
            if time.monotonic() > deadline:
                raise ShipyardError(stack.name, f"still {status} after {options.stack_timeout:.0f}s",
                                    "CloudFormation is still working; rerun the command to keep waiting")
            time.sleep(delay)
            delay = min(delay * 1.5, 5)
    except KeyboardInterrupt:
        raise Interrupted(stack.name, "interrupted while CloudFormation works on it; the operation continues in AWS",
                          "run the same command again: it waits for the stack and then carries on") from None
