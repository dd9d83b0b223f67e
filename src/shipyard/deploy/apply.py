"""Apply one stack change and wait for CloudFormation's verdict: the one stack-update path.

`deploy` (every stack of an environment, from its template) and `release`
(the service stack, re-resolving the image parameter) both go through
apply_stack(): create a change set, execute it, stream its events, wait with a
bound, and return the outcome with the root cause of a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shipyard import ui
from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.deploy.changeset import TEMPLATE_INLINE_LIMIT, create_change_set
from shipyard.deploy.root_cause import RootCause, root_cause
from shipyard.errors import ConfigError, ExitCode, ShipyardError
from shipyard.synth import StackArtifact

SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
FAILURE = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
                     "CREATE_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"})
STACK_TIMEOUT = 3600.0
# Set when Ctrl-C reaches the main thread while stacks are waited for on other threads (side_by_side.py).
stop_requested = threading.Event()


class AccountMismatch(ShipyardError):
    """The credentials reach another account than the environment's: a guard refuses (exit 4), nothing changed. Not bad
    input: shipyard.toml and the command were valid, and AWS was asked who the caller is."""

    exit_code = ExitCode.REFUSED


class DeployFailed(ShipyardError):
    def __init__(self, where: str, what: str, hint: str = "", cause: RootCause | None = None) -> None:
        super().__init__(where, what, hint)
        self.cause = cause


class Interrupted(ShipyardError):
    exit_code = ExitCode.INTERRUPTED


class StackTimeout(ShipyardError):
    """CloudFormation still works on the stack after the wait's bound."""

    def __init__(self, stack: str, status: str, timeout: float) -> None:
        super().__init__(stack, f"still {status} after {timeout:.0f}s",
                         "CloudFormation is still working; rerun the command to keep waiting")
        self.status, self.timeout = status, timeout


class Change(StrEnum):
    """The outcome of one stack change."""

    CREATED = "created"
    UPDATED = "updated"
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Applied:
    """What one stack change came to."""

    stack: str
    change_set_type: str  # CREATE | UPDATE
    outcome: Change
    status: str  # the stack's status at the end ("" when nothing was executed)
    changes: int
    seconds: float
    cause: RootCause | None = None
    cancelled_after: float | None = None  # the update ran past its bound and was cancelled (then rolled back)

    @property
    def succeeded(self) -> bool:
        return self.outcome is not Change.FAILED

    def failure(self) -> str:
        """One line: the final status and the root cause behind it."""
        cause = self.cause
        return f"{self.status}: " + (f"{cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}" if cause
                                     else "CloudFormation gave no resource-level reason")


def check_account(aws: Aws, expected: str, environment: str, *, hint: str | None = None) -> None:
    caller = aws.caller_account()
    if caller != expected:
        raise AccountMismatch(
            f"environment {environment}",
            f"the caller is in account {caller}, but shipyard.toml puts {environment} in account {expected}; nothing was changed",
            hint or f"use credentials for account {expected} (e.g. AWS_PROFILE) or fix environments.{environment}.account",
        )


def check_network(aws: Aws, env: Environment) -> None:
    """An existing VPC ([environments.<env>.network]) is as shipyard.toml describes it, before anything is made in it:
    each subnet in the VPC, in its zone with its range; the public ones routed to an internet gateway (the tasks pull
    images and reach AWS's APIs through it), the private ones not (the load balancer and database stay unreachable
    from the internet)."""
    network = env.network
    if network is None:
        return
    ec2 = aws.ec2(env.region)
    listed = {("public_subnets", s.id): s for s in network.public_subnets} | {("private_subnets", s.id): s for s in network.private_subnets}
    try:
        found = {s.id: s for s in ec2.subnets([i for _, i in listed])}
    except ShipyardError as exc:
        raise ConfigError(f"environments.{env.name}.network", f"AWS does not describe its subnets ({exc.what}); nothing was changed",
                          "list the subnets `aws ec2 describe-subnets --filters Name=vpc-id,Values=<vpc>` shows") from None
    routed = ec2.internet_routed(network.vpc_id, [i for _, i in listed])
    problems = []
    for (kind, subnet_id), subnet in listed.items():
        live = found.get(subnet_id)
        if live is None or live.vpc != network.vpc_id:
            problems.append(f"{kind}: {subnet_id} is not a subnet of {network.vpc_id}")
        elif (live.zone, live.cidr) != (subnet.zone, subnet.cidr):
            problems.append(f"{kind}: {subnet_id} is {live.cidr} in {live.zone}, not {subnet.cidr} in {subnet.zone}")
        elif (subnet_id in routed) != (kind == "public_subnets"):
            problems.append(f"{kind}: {subnet_id} " + ("has no route to an internet gateway" if kind == "public_subnets" else
                                                        "routes to an internet gateway, so it is not private"))
    if problems:
        raise ConfigError(f"environments.{env.name}.network", "; ".join(problems) + "; nothing was changed",
                          "describe each subnet as `aws ec2 describe-subnets` shows it, tasks in public and the load balancer "
                          "and database in private subnets")


def apply_stack(aws: Aws, stack: StackArtifact, *, change_set_type: str, parameters: dict[str, str],
                timeout: float = STACK_TIMEOUT, use_previous_template: bool = False,
                inline_limit: int = TEMPLATE_INLINE_LIMIT, cancel_after_timeout: bool = False,
                on_wait: Callable[[str], None] | None = None, resources_to_import: list[dict] | None = None,
                disable_rollback: bool = False) -> Applied:
    """Create and execute a change set, stream its events until a final status, and explain a failure.

    cancel_after_timeout: an update still in progress after `timeout` is cancelled (CancelUpdateStack) and
    CloudFormation's rollback is awaited, so the caller gets a failed outcome instead of a stack left mid-way.
    on_wait(status): called on every poll while the stack is in progress (a release's health gate runs there).
    disable_rollback: a failure keeps what the change made, for the caller to take apart in its own order.
    """
    started = time.monotonic()
    # An import goes into a stack that exists, or makes one (shipyard adopt); a creation never finds one.
    existed = change_set_type == "UPDATE" or (change_set_type == "IMPORT" and aws.cloudformation(stack.region).stack(stack.name) is not None)
    changes = create_change_set(aws, stack, change_set_type, parameters, inline_limit=inline_limit,
                                use_previous_template=use_previous_template, resources_to_import=resources_to_import)
    if changes.empty:
        ui.info(f"{stack.name}: no changes")
        return Applied(stack.name, change_set_type, Change.UNCHANGED, "", 0, time.monotonic() - started)
    ui.info(f"{stack.name}: {change_set_type.lower()} ({len(changes.changes)} resource changes)")
    cloudformation = aws.cloudformation(stack.region)
    seen = cloudformation.newest_event(stack.name) if existed else set()
    cloudformation.execute_change_set(changes.change_set_id, disable_rollback=disable_rollback)
    cancelled_after = None
    try:
        status = wait_for_stack(aws, stack, timeout=timeout, since=seen, total=len(changes.changes), on_wait=on_wait)
    except StackTimeout as late:
        if not (cancel_after_timeout and late.status == "UPDATE_IN_PROGRESS"):
            raise
        cancelled_after = timeout
        ui.info(f"{stack.name}: update still in progress after {timeout:.0f}s; cancelling it (CancelUpdateStack)")
        cloudformation.cancel_update(stack.name)
        status = wait_for_stack(aws, stack, since=seen)
    seconds = time.monotonic() - started
    if status in SUCCESS:
        outcome = {"CREATE": Change.CREATED, "IMPORT": Change.IMPORTED}.get(change_set_type, Change.UPDATED)
        return Applied(stack.name, change_set_type, outcome, status, len(changes.changes), seconds)
    cause = root_cause(stack.name, cloudformation.events(stack.name), cloudformation.events)
    return Applied(stack.name, change_set_type, Change.FAILED, status, len(changes.changes), seconds, cause, cancelled_after)


def delete_stack(aws: Aws, stack: StackArtifact, *, timeout: float = STACK_TIMEOUT) -> None:
    """Delete a stack and wait; a failure is explained by its root cause."""
    cloudformation = aws.cloudformation(stack.region)
    seen = cloudformation.newest_event(stack.name)
    cloudformation.delete_stack(stack.name)
    status = wait_for_stack(aws, stack, timeout=timeout, since=seen)
    if status != "DELETE_COMPLETE":
        cause = root_cause(stack.name, cloudformation.events(stack.name))
        raise DeployFailed(stack.name, f"{status}: {cause.one_line() if cause else 'no reason given'}",
                           cause.hint if cause else "", cause)


def wait_for_stack(aws: Aws, stack: StackArtifact, *, timeout: float = STACK_TIMEOUT, since: set[str] | None = None,
                   total: int | None = None, on_wait: Callable[[str], None] | None = None) -> str:
    """Stream new events until the stack reaches a final status; return it. since=None: only events from now on.

    total: how many resources the operation touches, for the live line on a terminal.
    """
    cloudformation = aws.cloudformation(stack.region)
    seen: set[str] = set(since or ())
    if since is None:
        seen = cloudformation.newest_event(stack.name)
    deadline = time.monotonic() + timeout
    longest = aws.target.lasts(2 if on_wait else 5, at_least=0.25)  # between two looks, once the first few found nothing
    delay = min(0.5, longest)
    try:
        with ui.stack_progress(stack.name, total) as record:
            while True:
                state = cloudformation.stack(stack.name)
                status = "DELETE_COMPLETE" if state is None else state.status
                if state is not None:
                    fresh = cloudformation.events(stack.name, after=seen)
                    for event in reversed(fresh):
                        seen.add(event.event_id)
                        record(event)
                if not status.endswith("_IN_PROGRESS") and (status in SUCCESS or status in FAILURE or status == "DELETE_COMPLETE"):
                    return status
                if time.monotonic() > deadline:
                    raise StackTimeout(stack.name, status, timeout)
                if on_wait is not None:
                    on_wait(status)
                if stop_requested.wait(delay):
                    raise KeyboardInterrupt
                delay = min(delay * 1.5, longest)
    except KeyboardInterrupt:
        raise Interrupted(stack.name, "interrupted while CloudFormation works on it; the operation continues in AWS",
                          "run the same command again: it waits for the stack and then carries on") from None
