from shipyard.checks.rules.cloudfront_viewer_https import RULE

from .helpers import violations


def _distribution(default: str, api: str) -> dict:
    return {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "DefaultCacheBehavior": {"ViewerProtocolPolicy": default},
        "CacheBehaviors": [{"PathPattern": "/api/*", "ViewerProtocolPolicy": api}]}}}}


def test_https_passes():
    assert violations(RULE, _distribution("redirect-to-https", "https-only")) == []


def test_allow_all_fails_per_behaviour():
    found = violations(RULE, _distribution("redirect-to-https", "allow-all"))
    assert len(found) == 1 and "/api/*" in found[0].message
