"""Carry out a plan: every stack of an environment changed in dependency order, a verdict per stack.

It refuses before any change when the target cannot build a resource type or
the caller is in the wrong account, and it explains a failure by its root
cause (root_cause.py), not by the cascade of cancellations behind it. Each
stack change goes through apply.apply_stack, the path releases use too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from shipyard import ui
from shipyard.aws import Aws
from shipyard.aws.cloudformation import Stack
from shipyard.deploy.apply import (
    STACK_TIMEOUT,
    Change,
    DeployFailed,
    StackTimeout,
    apply_stack,
    check_account,
    check_network,
    delete_stack,
    stop_requested,
    wait_for_stack,
)
from shipyard.deploy.changeset import TEMPLATE_INLINE_LIMIT, StackChanges, changes_of_new_stack, create_change_set, resolve_parameters
from shipyard.deploy.dns_records import DNS_WAIT, ValidationWatch
from shipyard.deploy.plan import Action, Plan, StackStep, plan_environment
from shipyard.deploy.state import read_states
from shipyard.errors import ShipyardError
from shipyard.side_by_side import run_graph
from shipyard.synth import EnvironmentAssembly, StackArtifact

# The embedded AWS does its work in this process, where threads only contend for the interpreter;
# side by side pays off where the waiting happens on AWS's side.
SERIAL = 1


@dataclass(frozen=True)
class StackResult:
    stack: str
    outcome: Change  # created, updated or unchanged (a failure raises)
    changes: int
    seconds: float


@dataclass
class DeployOptions:
    recover: bool = False
    confirm: Callable[[str], bool] = field(default=lambda question: False)
    stack_timeout: float = STACK_TIMEOUT
    inline_limit: int = TEMPLATE_INLINE_LIMIT
    dns_wait: float = DNS_WAIT  # external DNS: how long to wait for hand-made validation records


def guard_resource_types(aws: Aws, assembly: EnvironmentAssembly) -> None:
    """A target that cannot build a resource type (the embedded AWS) must say so, never skip it."""
    emulator = aws.target.emulator
    if emulator is None:
        return
    for stack in assembly.stacks:
        missing = emulator.unsupported_types(stack.template())
        if missing:
            raise ShipyardError(stack.name, f"{aws.target.describe()} cannot build {', '.join(missing)}; nothing was deployed",
                                "teach the target the type (for the embedded AWS: a handler module, see docs/architecture.md)")


def prepare(aws: Aws, assembly: EnvironmentAssembly) -> tuple[Plan, dict[str, Stack | None]]:
    """Guards first (no change is made when they fail), then the plan and the states it was made from."""
    guard_resource_types(aws, assembly)
    check_account(aws, assembly.environment.account, assembly.environment.name)
    check_network(aws, assembly.environment)
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
            aws.cloudformation(step.stack.region).delete_change_set(changes.change_set_id)
        previews.append(changes)
    return previews


def deploy(aws: Aws, assembly: EnvironmentAssembly, options: DeployOptions) -> list[StackResult]:
    """Every stack of the plan; stacks that do not depend on each other side by side (service beside edge)."""
    plan, _ = prepare(aws, assembly)
    if plan.blocked:
        step = plan.blocked[0]
        raise ShipyardError(step.stack.name, step.why, _guidance(step))
    # Questions are asked here, before any stack is waited for on another thread.
    answers = {q: options.confirm(q) for q in (_recreate_question(s.stack) for s in plan.steps if s.action is Action.RECREATE)}
    confirmed = replace(options, confirm=lambda question: answers[question] if question in answers else options.confirm(question))
    outputs_of: dict[str, dict[str, str]] = {}
    env = assembly.environment

    def run(step: StackStep) -> StackResult:
        watch = None
        if env.domain and env.dns == "external":  # the stacks whose certificates wait on records made by hand
            names = {env.names.global_stack: env.certified_names, env.names.foundation_stack: (env.origin_domain,)}.get(step.stack.name)
            watch = ValidationWatch(aws, env, step.stack.name, step.stack.region, names) if names else None
        result = _deploy_step(aws, step, outputs_of, confirmed, watch)
        state = aws.cloudformation(step.stack.region).stack(step.stack.name)
        outputs_of[step.stack.name] = state.outputs if state else {}
        return result

    return run_graph(plan.steps, key=lambda s: s.stack.name, after=lambda s: s.stack.depends_on, run=run, stop=stop_requested,
                     at_once=SERIAL if aws.target.is_local else None)


def _recreate_question(stack: StackArtifact) -> str:
    return f"{stack.name} is in ROLLBACK_COMPLETE after a failed first create. Delete it and create it again?"


def _guidance(step: StackStep) -> str:
    if step.action is Action.RECOVER:
        return (f"run `shipyard deploy {step.stack.environment} --recover`, or "
                f"aws cloudformation continue-update-rollback --stack-name {step.stack.name} --region {step.stack.region}")
    return f"inspect it with aws cloudformation describe-stack-events --stack-name {step.stack.name} --region {step.stack.region}"


def _deploy_step(aws: Aws, step: StackStep, outputs_of: dict[str, dict[str, str]], options: DeployOptions,
                 watch: ValidationWatch | None) -> StackResult:
    """One stack's change. watch: the stack holds a certificate validated by records made by hand; its wait is
    bounded by dns_wait and prints the records as CloudFormation reports them."""
    try:
        return _change_stack(aws, step, outputs_of, options, watch)
    except StackTimeout as late:
        if watch is None:
            raise
        raise watch.timed_out(late.timeout) from None


def _change_stack(aws: Aws, step: StackStep, outputs_of: dict[str, dict[str, str]], options: DeployOptions,
                  watch: ValidationWatch | None) -> StackResult:
    stack = step.stack
    started = time.monotonic()
    action = step.action
    timeout = min(options.stack_timeout, options.dns_wait) if watch else options.stack_timeout
    if action is Action.WAIT:
        ui.info(f"{stack.name}: {step.status}; waiting for it to finish before changing it")
        status = wait_for_stack(aws, stack, timeout=timeout, on_wait=watch)
        action = Action.CREATE if status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE") else Action.UPDATE
        if status == "ROLLBACK_COMPLETE":
            action = Action.RECREATE
    if action is Action.RECOVER:
        if not options.recover:
            raise ShipyardError(stack.name, step.why, _guidance(step))
        ui.info(f"{stack.name}: continuing the failed update rollback")
        aws.cloudformation(stack.region).continue_update_rollback(stack.name)
        wait_for_stack(aws, stack, timeout=options.stack_timeout)
        action = Action.UPDATE
    if action is Action.RECREATE:
        if not options.confirm(_recreate_question(stack)):
            raise ShipyardError(stack.name, "is in ROLLBACK_COMPLETE and was not replaced",
                                "rerun and confirm, or pass --yes; it holds no resources")
        delete_stack(aws, stack, timeout=options.stack_timeout)
        action = Action.CREATE

    applied = apply_stack(aws, stack, change_set_type="CREATE" if action is Action.CREATE else "UPDATE",
                          parameters=resolve_parameters(stack, outputs_of), timeout=timeout,
                          inline_limit=options.inline_limit, on_wait=watch)
    if not applied.succeeded:
        raise DeployFailed(stack.name, applied.failure(), applied.cause.hint if applied.cause else "", applied.cause)
    return StackResult(stack.name, applied.outcome, applied.changes, time.monotonic() - started)
