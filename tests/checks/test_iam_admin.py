from shipyard.checks.rules.iam_admin import RULE

from .helpers import violations


def test_scoped_policy_passes():
    good = {"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}]}}}}
    assert violations(RULE, good) == []


def test_star_on_star_and_admin_policy_fail():
    bad = {"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
               {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
           "R": {"Type": "AWS::IAM::Role", "Properties": {
               "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
               "Policies": [{"PolicyName": "all", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}]}}]}}}
    assert sorted(v.resource for v in violations(RULE, bad)) == ["P", "R", "R"]
