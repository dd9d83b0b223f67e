from shipyard.checks.rules.oidc_trust_subject import RULE

from .helpers import violations

PROVIDER = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"


def _role(condition: dict) -> dict:
    return {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": PROVIDER},
         "Condition": condition}]}}}}


def test_exact_subject_passes():
    assert violations(RULE, _role({"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/webapp:environment:production"}})) == []


def test_missing_wildcard_stringlike_and_forallvalues_fail():
    assert "no StringEquals" in violations(RULE, _role({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}))[0].message
    assert "wildcard" in violations(RULE, _role({"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}))[0].message
    assert "other than StringEquals" in violations(RULE, _role({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/webapp:*"}}))[0].message
    messages = [v.message for v in violations(RULE, _role({"ForAllValues:StringEquals": {"token.actions.githubusercontent.com:sub": ["x"]}}))]
    assert any("ForAllValues" in m for m in messages)
