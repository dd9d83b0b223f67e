from shipyard.checks.rules.ecr_repository_policy import RULE

from .helpers import violations


def _repository(principal) -> dict:
    return {"R": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryPolicyText": {
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage"]}]}}}}


def test_named_accounts_pass_and_no_policy_passes():
    assert violations(RULE, _repository({"AWS": "arn:aws:iam::222222222222:root"})) == []
    assert violations(RULE, {"R": {"Type": "AWS::ECR::Repository", "Properties": {}}}) == []


def test_any_principal_fails():
    assert len(violations(RULE, _repository("*"))) == 1
    assert len(violations(RULE, _repository({"AWS": ["*"]}))) == 1
