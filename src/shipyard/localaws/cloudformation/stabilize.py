"""CloudFormation waits for ECS (and for ACM): a stack stays IN_PROGRESS until the resources it changed settle.

AWS documents that CloudFormation reports an AWS::ECS::Service create or
update complete only once the service is stable, and that a deployment the
circuit breaker fails makes the resource fail and the stack roll back
("Amazon ECS deployment circuit breaker", ECS developer guide: "the
CloudFormation stack ... rolls back"). A deployment that never stabilizes keeps
the stack IN_PROGRESS (for hours, on AWS) until someone cancels the update.
moto applies a change set at once; this module holds the stack instead and
settles it whenever the stack is described, from the state of the service's deployment (rollout.py).

A DNS-validated certificate whose records CloudFormation does not write (no HostedZoneId) is held the same way:
the resource stays CREATE_IN_PROGRESS, its event says which record to create ("Content of DNS Record is: ..."),
and it completes once ACM issued the certificate (acm.py), or fails when ACM's validation times out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shipyard.localaws.ecs import rollout

# AWS's own wording for a deployment the circuit breaker failed, as the resource's status reason.
CIRCUIT_BREAKER_REASON = ("Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit "
                          "Breaker was triggered'.\" (HandlerErrorCode: GeneralServiceException)")
CANCELLED_REASON = "Resource update cancelled"


@dataclass
class _Waiting:
    """One resource CloudFormation waits for; state() is IN_PROGRESS, COMPLETED or FAILED."""

    logical_id: str
    resource_type: str
    physical_id: str
    state: Callable[[], str]
    failure_reason: str
    progress: tuple[str, ...] = ()  # what CloudFormation says while it waits (IN_PROGRESS events)


@dataclass
class _Hold:
    phase: str  # CREATE | UPDATE | UPDATE_ROLLBACK
    waiting: list[_Waiting]
    roll_back: Callable[[str], None] | None  # undo the change with this reason; None while rolling back


_lock = threading.RLock()
_holds: dict[str, _Hold] = {}


def reset() -> None:
    with _lock:
        _holds.clear()


def _deployment(service: Any, task_definition: str) -> Callable[[], str]:
    def state() -> str:
        found = rollout.deployment_state(service, task_definition)
        return "FAILED" if found is None else found[0]

    return state


def _in_progress(stack: Any) -> list[_Waiting]:
    from moto.ecs.models import Service

    from shipyard.localaws.acm import handlers as acm

    waiting = []
    for logical_id, resource in list(stack.resource_map._parsed_resources.items()):
        if isinstance(resource, Service):
            state = _deployment(resource, resource.task_definition)
            if state() == "IN_PROGRESS":
                waiting.append(_Waiting(logical_id, "AWS::ECS::Service", resource.physical_resource_id, state, CIRCUIT_BREAKER_REASON))
        elif isinstance(resource, acm.Certificate) and resource.awaiting_dns:
            waiting.append(_Waiting(logical_id, acm.Certificate.cloudformation_type(), resource.physical_id,
                                    resource.validation_state, acm.VALIDATION_TIMED_OUT_REASON, resource.record_reasons()))
    return waiting


def _resource_event(stack: Any, waiting: _Waiting, status: str, reason: str | None = None) -> None:
    from moto.cloudformation.models import Event

    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=waiting.logical_id,
                              physical_resource_id=waiting.physical_id, resource_type=waiting.resource_type,
                              resource_status=status, resource_status_reason=reason, resource_properties=None))


def _withdraw_last(stack: Any, logical_id: str, status: str) -> None:
    """Drop the newest event of `logical_id` if it reports `status`."""
    for index in range(len(stack.events) - 1, -1, -1):
        if stack.events[index].logical_resource_id == logical_id:
            if stack.events[index].resource_status == status:
                del stack.events[index]
            return


def hold(stack: Any, phase: str, roll_back: Callable[[str], None] | None) -> bool:
    """After moto applied a change: keep the stack IN_PROGRESS while a resource it changed settles. True if held."""
    waiting = _in_progress(stack)
    if not waiting:
        return False
    # moto already reported the resources and the stack complete; on AWS those events come later.
    verb = "UPDATE" if phase == "UPDATE_ROLLBACK" else phase
    for item in waiting:
        _withdraw_last(stack, item.logical_id, f"{verb}_COMPLETE")
        for reason in item.progress:
            _resource_event(stack, item, f"{verb}_IN_PROGRESS", reason)
    _withdraw_last(stack, stack.name, f"{phase}_COMPLETE")
    stack.status = f"{phase}_IN_PROGRESS"
    with _lock:
        _holds[stack.stack_id] = _Hold(phase, waiting, roll_back)
    return True


def settle(stack: Any) -> None:
    """Bring a held stack up to date with what it waits for: complete it, fail and roll it back, or leave it waiting."""
    with _lock:
        held = _holds.get(stack.stack_id)
        if held is None:
            return
        states = [(w, w.state()) for w in held.waiting]
        failed = [w for w, state in states if state == "FAILED"]
        if failed:
            del _holds[stack.stack_id]
            _fail(stack, held, failed[0], failed[0].failure_reason)
        elif all(state == "COMPLETED" for _, state in states):
            del _holds[stack.stack_id]
            verb = "UPDATE" if held.phase == "UPDATE_ROLLBACK" else held.phase
            for waiting in held.waiting:
                _resource_event(stack, waiting, f"{verb}_COMPLETE")
            if held.phase != "CREATE":
                stack._add_stack_event(f"{held.phase}_COMPLETE_CLEANUP_IN_PROGRESS")
            stack._add_stack_event(f"{held.phase}_COMPLETE")
            stack.status = f"{held.phase}_COMPLETE"


def cancel(stack: Any) -> bool:
    """CancelUpdateStack: only an update in progress can be cancelled; it then rolls back. False if not cancellable."""
    with _lock:
        held = _holds.get(stack.stack_id)
        if held is None or held.phase != "UPDATE":
            return False
        del _holds[stack.stack_id]
        _fail(stack, held, held.waiting[0], CANCELLED_REASON, cancelled=True)
        return True


def _fail(stack: Any, held: _Hold, waiting: _Waiting, reason: str, *, cancelled: bool = False) -> None:
    verb = "UPDATE" if held.phase == "UPDATE_ROLLBACK" else held.phase
    _resource_event(stack, waiting, f"{verb}_FAILED", reason)
    if held.roll_back is None:  # a rollback that fails leaves the stack for a person (ContinueUpdateRollback)
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=reason)
        stack.status = "UPDATE_ROLLBACK_FAILED"
        return
    held.roll_back("Stack update cancelled" if cancelled
                   else f"The following resource(s) failed to {verb.lower()}: [{waiting.logical_id}]. ")
