"""SY-E704: a topic that fans out to queues is encrypted at rest and TLS-only."""

from shipyard.checks.rules.topic_fan_out import RULE

from .helpers import violations

TLS_ONLY = {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def _fan_out(topic: dict | None = None, *statements) -> dict:
    return {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "app-env-placed", **(topic or {})}},
            "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}],
                                                                     "PolicyDocument": {"Statement": list(statements)}}},
            "Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
                "Protocol": "sqs", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}}}}


def test_the_blueprints_topic_passes():
    assert violations(RULE, _fan_out({"KmsMasterKeyId": "alias/aws/sns"}, TLS_ONLY)) == []


def test_an_unencrypted_topic_and_one_without_tls_fail():
    found = violations(RULE, _fan_out({}, {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}))
    assert sorted(f.message for f in found) == ["delivers to queues but is not encrypted at rest (no KmsMasterKeyId)",
                                                "its topic policy allows Principal '*'",
                                                "no topic policy denies requests without TLS (aws:SecureTransport false)"]


def test_a_topic_that_delivers_to_no_queue_is_not_this_rules():
    alerts = _fan_out({}, TLS_ONLY)
    alerts["Subscription"]["Properties"]["Protocol"] = "email"
    assert violations(RULE, alerts) == []
