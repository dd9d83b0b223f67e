from shipyard.checks.rules.cloudfront_viewer_tls import RULE

from .helpers import violations

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def _distribution(aliases=None, certificate=None) -> dict:
    config = {}
    if aliases:
        config["Aliases"] = aliases
    if certificate:
        config["ViewerCertificate"] = certificate
    return {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}}}


def test_default_domain_and_a_proper_certificate_pass():
    assert violations(RULE, _distribution()) == []
    good = {"AcmCertificateArn": CERT, "MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only"}
    assert violations(RULE, _distribution(["shop.example.com"], good)) == []
    assert violations(RULE, _distribution(["shop.example.com"], {**good, "AcmCertificateArn": {"Ref": "CertificateArn"}})) == []


def test_aliases_without_certificate_old_tls_and_a_regional_certificate_fail():
    assert "have no ACM certificate" in violations(RULE, _distribution(["shop.example.com"]))[0].message
    old = {"AcmCertificateArn": CERT, "MinimumProtocolVersion": "TLSv1", "SslSupportMethod": "sni-only"}
    assert "below TLSv1.2_2021" in violations(RULE, _distribution(["shop.example.com"], old))[0].message
    regional = {**old, "AcmCertificateArn": CERT.replace("us-east-1", "eu-west-1"), "MinimumProtocolVersion": "TLSv1.2_2021"}
    assert "us-east-1 only" in violations(RULE, _distribution(["shop.example.com"], regional))[0].message
