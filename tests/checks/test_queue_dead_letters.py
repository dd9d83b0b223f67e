"""SY-E703: a dead-letter queue behind every worker queue."""

from shipyard.checks.rules.queue_dead_letters import RULE as DEAD_LETTERS

from .helpers import violations
from .queue_fixtures import queues


def test_a_worker_queue_without_a_redrive_policy_fails_but_its_dead_letter_queue_needs_none():
    resources = queues()
    del resources["Work"]["Properties"]["RedrivePolicy"]
    assert {v.resource for v in violations(DEAD_LETTERS, resources)} == {"Dead", "Work"}
    assert violations(DEAD_LETTERS, queues()) == []
