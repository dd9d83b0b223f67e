from shipyard.checks.rules.cloudfront_s3_origin_oac import RULE

from .helpers import violations


def _distribution(origin: dict) -> dict:
    return {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Origins": [origin]}}}}


def test_oac_passes():
    assert violations(RULE, _distribution({"Id": "s3", "S3OriginConfig": {"OriginAccessIdentity": ""},
                                           "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]}})) == []


def test_oai_or_nothing_fails():
    assert "legacy origin access identity" in violations(RULE, _distribution(
        {"Id": "s3", "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E1"}}))[0].message
    assert "no access control" in violations(RULE, _distribution({"Id": "s3", "S3OriginConfig": {}}))[0].message
