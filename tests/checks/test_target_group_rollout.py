from shipyard.checks.base import Limits
from shipyard.checks.rules.target_group_rollout import RULE

from .helpers import violations


def _group(**props) -> dict:
    return {"G": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": props}}


def test_fast_settings_pass():
    assert violations(RULE, _group(HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
                                   TargetGroupAttributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "15"}])) == []


def test_defaults_and_tighter_budget_warn():
    assert len(violations(RULE, _group())) == 2  # AWS defaults: 300 s drain, 150 s to healthy
    tight = violations(RULE, _group(HealthCheckIntervalSeconds=5, HealthyThresholdCount=2), limits=Limits(300, 5))
    assert len(tight) == 1 and "10s to turn healthy" in tight[0].message
