from shipyard.checks.rules.ecs_circuit_breaker import RULE

from .helpers import violations


def _service(breaker: dict | None) -> dict:
    config = {"DeploymentCircuitBreaker": breaker} if breaker is not None else {}
    return {"S": {"Type": "AWS::ECS::Service", "Properties": {"DeploymentConfiguration": config}}}


def test_rollback_passes():
    assert violations(RULE, _service({"Enable": True, "Rollback": True})) == []


def test_missing_or_no_rollback_fails():
    assert len(violations(RULE, _service(None))) == 1
    assert len(violations(RULE, _service({"Enable": True, "Rollback": False}))) == 1
