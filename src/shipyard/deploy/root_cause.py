"""Root cause of a failed stack operation, from its events: pure functions.

CloudFormation reports one real failure and then a cascade of "Resource
creation cancelled" / "Resource update cancelled" for everything that was in
flight. The root cause is the earliest failure of the latest operation that is
not such a cancellation; when that failure is a nested stack, the cause is
looked for inside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shipyard.aws.cloudformation import StackEvent

_CANCELLED = re.compile(r"(resource (creation|update|deletion) cancelled|cancelled by user|cancellation)", re.I)
_NESTED_FAILURE = re.compile(r"embedded stack .* was not successfully (created|updated)|nested stack", re.I)

_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"already exists", re.I),
     "a resource with this name exists outside the stack (a retained bucket or repository?); import or delete it"),
    (re.compile(r"not authorized|AccessDenied|is not authorized to perform", re.I),
     "the deploying role lacks a permission named above; deploy with a role that has it"),
    (re.compile(r"circuit breaker", re.I),
     "the service's tasks did not become healthy; run `shipyard explain ENV` for stopped tasks and target health"),
    (re.compile(r"LimitExceeded|limit exceeded|quota", re.I), "an account quota is reached; raise it in Service Quotas"),
    (re.compile(r"No export named|Export .* cannot be (deleted|updated)", re.I),
     "a stack this one imports from (or exports to) is missing or in use; deploy stacks in order with `shipyard deploy`"),
    (re.compile(r"Invalid request provided|validation", re.I), "the template asked for something the service rejects; see the message"),
]


@dataclass(frozen=True)
class RootCause:
    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    hint: str

    def one_line(self) -> str:
        return f"{self.stack}: {self.logical_id} ({self.resource_type}) {self.status}: {self.reason}"


def latest_operation(events: Sequence[StackEvent], stack_name: str) -> list[StackEvent]:
    """Events of the latest operation, oldest first. `events` is newest first, as AWS returns them."""
    chronological = list(reversed(events))
    start = 0
    for index, event in enumerate(chronological):
        if (event.logical_id == stack_name and event.resource_type == "AWS::CloudFormation::Stack"
                and event.status.endswith("_IN_PROGRESS") and "ROLLBACK" not in event.status
                and event.status != "REVIEW_IN_PROGRESS"):
            start = index
    return chronological[start:]


def root_cause(
    stack_name: str,
    events: Sequence[StackEvent],
    nested_events: Callable[[str], Sequence[StackEvent]] | None = None,
) -> RootCause | None:
    """The first real failure of the latest operation, looking inside nested stacks."""
    operation = latest_operation(events, stack_name)
    failures = [e for e in operation if e.status.endswith("_FAILED") and e.logical_id != stack_name]
    real = [e for e in failures if not _CANCELLED.search(e.reason)]
    candidates = real or failures
    if not candidates:
        stack_failures = [e for e in operation if e.logical_id == stack_name
                          and (e.status.endswith("FAILED") or "ROLLBACK" in e.status) and e.reason]
        if not stack_failures:
            return None
        first = stack_failures[0]
        return RootCause(stack_name, stack_name, "AWS::CloudFormation::Stack", first.status, first.reason, hint_for(first.reason))
    first = candidates[0]
    if first.resource_type == "AWS::CloudFormation::Stack" and nested_events is not None and first.physical_id:
        nested = first.physical_id.split("/")[1] if "/" in first.physical_id else first.physical_id
        inner = root_cause(nested, nested_events(first.physical_id), nested_events)
        if inner is not None:
            return inner
    reason = first.reason or "no reason given"
    return RootCause(stack_name, first.logical_id, first.resource_type, first.status, reason, hint_for(reason))


def hint_for(reason: str) -> str:
    for pattern, hint in _HINTS:
        if pattern.search(reason):
            return hint
    return "see the reason above; `shipyard explain ENV` checks the live environment"
