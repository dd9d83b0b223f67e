from shipyard.checks.rules.s3_deny_insecure_transport import RULE

from .helpers import violations

DENY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
READ = {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject"}


def _policy(*statements) -> dict:
    return {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": list(statements)}}}}


def test_policy_with_the_tls_deny_passes():
    assert violations(RULE, _policy(DENY, READ)) == []


def test_policy_without_it_or_with_a_narrower_deny_fails():
    assert len(violations(RULE, _policy(READ))) == 1
    assert len(violations(RULE, _policy({**DENY, "Action": "s3:GetObject"}, READ))) == 1
    assert len(violations(RULE, _policy({**DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))) == 1
