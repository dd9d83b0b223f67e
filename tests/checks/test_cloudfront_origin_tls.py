from shipyard.checks.rules.cloudfront_origin_tls import RULE

from .helpers import violations

WITH_DOMAIN = {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Aliases": ["shop.example.com"]}}}}
NO_DOMAIN = {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {}}}}


def _origin(**endpoint) -> dict:
    return {"O": {"Type": "AWS::CloudFront::VpcOrigin", "Properties": {"VpcOriginEndpointConfig": {"Arn": "arn:lb", **endpoint}}}}


HTTPS = _origin(OriginProtocolPolicy="https-only", OriginSSLProtocols=["TLSv1.2"], HTTPSPort=443)
HTTP = _origin(OriginProtocolPolicy="http-only", HTTPPort=80)


def test_https_only_with_tls12_passes_in_production_with_a_domain():
    assert violations(RULE, {**WITH_DOMAIN, **HTTPS}, production=True) == []


def test_clear_text_to_the_origin_fails_in_production_with_a_domain():
    found = violations(RULE, {**WITH_DOMAIN, **HTTP}, production=True)
    assert [v.resource for v in found] == ["O"] and "http-only" in found[0].message and "clear text" in found[0].message


def test_match_viewer_and_old_protocols_fail():
    messages = [v.message for v in violations(RULE, {**WITH_DOMAIN, **_origin(OriginProtocolPolicy="match-viewer",
                                                                                   OriginSSLProtocols=["TLSv1", "TLSv1.2"])},
                                              production=True)]
    assert any("match-viewer" in m for m in messages) and any("less than TLSv1.2" in m for m in messages)
    assert "unset" in violations(RULE, {**WITH_DOMAIN, **_origin(OriginProtocolPolicy="https-only")}, production=True)[0].message


def test_without_a_domain_or_outside_production_http_is_not_flagged():
    assert violations(RULE, {**NO_DOMAIN, **HTTP}, production=True) == []
    assert violations(RULE, {**WITH_DOMAIN, **HTTP}) == []
