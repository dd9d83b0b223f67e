from shipyard.checks.rules.production_web_acl import RULE

from .helpers import violations


def _distribution(acl: str | None) -> dict:
    config = {"WebACLId": acl} if acl else {}
    return {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}}}


def test_production_with_acl_and_staging_without_pass():
    assert violations(RULE, _distribution({"Ref": "WebAclArn"}), production=True) == []
    assert violations(RULE, _distribution(None), production=False) == []


def test_production_without_acl_fails():
    assert len(violations(RULE, _distribution(None), production=True)) == 1
