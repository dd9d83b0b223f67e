"""What a deploy must do to each stack, as a pure function of the assembly and the stacks' current state.

No AWS calls here: state.py reads the current state (CloudFormation's Stack), and the executors in
changeset.py / execute.py carry the plan out (plan previews, deploy applies).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shipyard.aws.cloudformation import Stack
from shipyard.synth import EnvironmentAssembly, StackArtifact


class Action(StrEnum):
    CREATE = "create"  # no stack yet
    UPDATE = "update"  # a stable stack; its change set says what changes
    RECREATE = "recreate"  # ROLLBACK_COMPLETE after a failed first create: delete it, then create (asks first)
    WAIT = "wait"  # an operation is in progress: wait for it instead of racing it, then update
    RECOVER = "recover"  # UPDATE_ROLLBACK_FAILED: continue the rollback (with --recover), then update
    BLOCKED = "blocked"  # a state shipyard will not change on its own


@dataclass(frozen=True)
class StackStep:
    stack: StackArtifact
    action: Action
    status: str | None  # current CloudFormation status, None when the stack does not exist
    why: str


@dataclass(frozen=True)
class Plan:
    environment: str
    steps: tuple[StackStep, ...]  # in deploy order

    @property
    def blocked(self) -> list[StackStep]:
        return [s for s in self.steps if s.action is Action.BLOCKED]


_STABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
           "IMPORT_ROLLBACK_COMPLETE"}


def step_for(stack: StackArtifact, state: Stack | None) -> StackStep:
    if state is None or state.status == "DELETE_COMPLETE":
        return StackStep(stack, Action.CREATE, None, "does not exist yet")
    status = state.status
    if status in _STABLE:
        return StackStep(stack, Action.UPDATE, status, "exists")
    if status == "REVIEW_IN_PROGRESS":
        # A change set was made for a new stack and never executed: it is still a create.
        return StackStep(stack, Action.CREATE, status, "has only an unexecuted change set")
    if status == "ROLLBACK_COMPLETE":
        return StackStep(stack, Action.RECREATE, status,
                         "its first create failed and rolled back; CloudFormation cannot update it, only replace it")
    if status.endswith("_IN_PROGRESS"):
        return StackStep(stack, Action.WAIT, status, "another operation is running on it")
    if status == "UPDATE_ROLLBACK_FAILED":
        return StackStep(stack, Action.RECOVER, status,
                         "an update rollback failed; it needs continue-update-rollback before it can change again")
    return StackStep(stack, Action.BLOCKED, status, f"is in {status}; {state.reason or 'fix it in the console or delete it'}")


def plan_environment(assembly: EnvironmentAssembly, states: dict[str, Stack | None]) -> Plan:
    """One step per stack, in the assembly's deploy order."""
    return Plan(
        environment=assembly.environment.name,
        steps=tuple(step_for(stack, states.get(stack.name)) for stack in assembly.stacks),
    )
