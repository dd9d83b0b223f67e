"""SY-E901 has only its live half (a template cannot drift from itself); what it leaves out is what changes by design.
Its live half is exercised against the embedded AWS's drift detection in tests/deploy/test_verify_tampers.py."""

from shipyard.aws.cloudformation import ResourceDrift
from shipyard.checks.rules.stack_drift import RULE, owned_elsewhere

from .helpers import violations


def _drift(kind: str, physical: str = "") -> ResourceDrift:
    return ResourceDrift("Logical", physical, kind, "MODIFIED", ())


def test_the_static_half_finds_nothing():
    assert violations(RULE, {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {}}}) == []


def test_what_releases_and_ecs_change_is_not_drift():
    assert owned_elsewhere(_drift("AWS::SSM::Parameter", "/shipyard/webapp/staging/image"), "/Value")
    assert owned_elsewhere(_drift("AWS::ElasticLoadBalancingV2::ListenerRule"), "/Actions/0/ForwardConfig/TargetGroups/1/Weight")
    assert owned_elsewhere(_drift("AWS::ApplicationAutoScaling::ScalableTarget"), "/MinCapacity")


def test_anything_else_is_drift():
    assert not owned_elsewhere(_drift("AWS::SSM::Parameter", "/shipyard/webapp/staging/other"), "/Value")
    assert not owned_elsewhere(_drift("AWS::SSM::Parameter", "/shipyard/webapp/staging/image"), "/Type")
    assert not owned_elsewhere(_drift("AWS::ElasticLoadBalancingV2::ListenerRule"), "/Actions/0/Type")
    assert not owned_elsewhere(_drift("AWS::Logs::LogGroup"), "/RetentionInDays")
