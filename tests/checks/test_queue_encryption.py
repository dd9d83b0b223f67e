"""SY-E701: every queue encrypted at rest."""

from shipyard.checks.rules.queue_dead_letters import RULE as DEAD_LETTERS
from shipyard.checks.rules.queue_encryption import RULE as ENCRYPTION
from shipyard.checks.rules.queue_policy import RULE as POLICY

from .helpers import violations
from .queue_fixtures import TLS_ONLY, policy, queues


def test_the_blueprints_queues_pass_every_rule():
    resources = {**queues(), **policy(TLS_ONLY)}
    assert [violations(rule, resources) for rule in (ENCRYPTION, POLICY, DEAD_LETTERS)] == [[], [], []]


def test_a_queue_without_sse_or_a_kms_key_fails():
    [found] = violations(ENCRYPTION, queues(SqsManagedSseEnabled=False))
    assert found.resource == "Work" and "unencrypted" in found.message
    assert violations(ENCRYPTION, queues(SqsManagedSseEnabled=False, KmsMasterKeyId="alias/aws/sqs")) == []
