from shipyard.checks.rules.cloudfront_hsts import RULE

from .helpers import violations


def _resources(hsts: dict | None, *, reference: object = {"Ref": "Headers"}) -> dict:
    resources = {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "DefaultCacheBehavior": {"ResponseHeadersPolicyId": reference}}}}}
    if hsts is not None:
        resources["Headers"] = {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {
            "ResponseHeadersPolicyConfig": {"SecurityHeadersConfig": {"StrictTransportSecurity": hsts}}}}
    return resources


def test_a_year_with_subdomains_passes():
    assert violations(RULE, _resources({"AccessControlMaxAgeSec": 31536000, "IncludeSubdomains": True, "Override": True})) == []


def test_short_hsts_no_subdomains_or_the_managed_policy_fail():
    assert violations(RULE, _resources({"AccessControlMaxAgeSec": 86400, "IncludeSubdomains": True}))
    assert violations(RULE, _resources({"AccessControlMaxAgeSec": 31536000}))
    assert "no response-headers policy" in violations(RULE, _resources(None, reference="67f7725c-6f97-4210-82d7-5512b31e9d03"))[0].message
