from shipyard.checks.rules.s3_public_access import RULE

from .helpers import violations

BLOCK = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}


def test_private_bucket_passes():
    good = {"B": {"Type": "AWS::S3::Bucket", "Properties": {"PublicAccessBlockConfiguration": BLOCK}},
            "P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}}
    assert violations(RULE, good) == []


def test_public_acl_missing_block_and_public_policy_fail():
    bad = {"B": {"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "PublicRead",
                                                           "PublicAccessBlockConfiguration": {**BLOCK, "BlockPublicPolicy": False}}},
           "P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [
               {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}}}}
    found = violations(RULE, bad)
    assert [v.resource for v in found] == ["B", "B", "P"]
    assert "PublicRead" in found[0].message and "BlockPublicPolicy" in found[1].message
