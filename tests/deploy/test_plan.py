"""The pure planner: a step per stack from its current status."""

from __future__ import annotations

import pytest

from shipyard.aws.cloudformation import Stack
from shipyard.deploy.plan import Action, plan_environment, step_for


@pytest.mark.parametrize(("status", "action"), [
    (None, Action.CREATE), ("DELETE_COMPLETE", Action.CREATE), ("REVIEW_IN_PROGRESS", Action.CREATE),
    ("CREATE_COMPLETE", Action.UPDATE), ("UPDATE_COMPLETE", Action.UPDATE), ("UPDATE_ROLLBACK_COMPLETE", Action.UPDATE),
    ("ROLLBACK_COMPLETE", Action.RECREATE), ("UPDATE_IN_PROGRESS", Action.WAIT), ("CREATE_IN_PROGRESS", Action.WAIT),
    ("UPDATE_ROLLBACK_IN_PROGRESS", Action.WAIT), ("UPDATE_ROLLBACK_FAILED", Action.RECOVER),
    ("DELETE_FAILED", Action.BLOCKED), ("ROLLBACK_FAILED", Action.BLOCKED),
])
def test_step_for_status(assemblies, status, action):
    stack = assemblies["staging"].stacks[0]
    state = None if status is None else Stack(stack.name, status)
    assert step_for(stack, state).action is action


def test_plan_keeps_deploy_order_and_is_pure(assemblies):
    assembly = assemblies["production"]
    states = {assembly.stacks[0].name: Stack(assembly.stacks[0].name, "UPDATE_COMPLETE")}
    plan = plan_environment(assembly, states)
    assert [s.stack.name for s in plan.steps] == [s.name for s in assembly.stacks]
    assert [s.action for s in plan.steps] == [Action.UPDATE, *[Action.CREATE] * (len(assembly.stacks) - 1)]
    assert plan_environment(assembly, states) == plan
    assert not plan.blocked
