from shipyard.checks.rules.ecs_exec_production import RULE

from .helpers import violations


def _service(exec_enabled: bool) -> dict:
    return {"S": {"Type": "AWS::ECS::Service", "Properties": {"EnableExecuteCommand": exec_enabled}}}


def test_exec_in_production_warns():
    assert len(violations(RULE, _service(True), production=True)) == 1


def test_exec_off_in_production_or_on_in_staging_passes():
    assert violations(RULE, _service(False), production=True) == []
    assert violations(RULE, _service(True)) == []
