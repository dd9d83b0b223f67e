from shipyard.checks.rules.bucket_policy_source_arn import RULE

from .helpers import violations


def _policy(condition: dict | None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"}
    if condition is not None:
        statement["Condition"] = condition
    return {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [statement]}}}}


def test_source_arn_passes():
    assert violations(RULE, _policy({"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/D"}})) == []


def test_missing_or_account_only_fails():
    assert len(violations(RULE, _policy(None))) == 1
    assert len(violations(RULE, _policy({"StringEquals": {"AWS:SourceAccount": "111111111111"}}))) == 1
