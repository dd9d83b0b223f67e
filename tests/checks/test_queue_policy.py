"""SY-E702: queue policies private and TLS only."""

from shipyard.checks.rules.queue_policy import RULE as POLICY

from .helpers import violations
from .queue_fixtures import TLS_ONLY, policy


def test_a_public_grant_or_a_policy_without_the_tls_deny_fails():
    public = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}
    assert [v.message for v in violations(POLICY, policy(TLS_ONLY, public))] == ["the queue policy allows Principal '*'"]
    assert "without TLS" in violations(POLICY, policy({**public, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}))[0].message
