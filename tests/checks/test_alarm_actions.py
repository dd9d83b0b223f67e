from shipyard.checks.rules.alarm_actions import RULE
from shipyard.naming import INTERNAL_ALARM

from .helpers import violations


def _alarm(**props) -> dict:
    return {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": props}}


def test_an_alarm_that_notifies_passes():
    assert violations(RULE, _alarm(AlarmActions=[{"Ref": "Topic"}], AlarmDescription="p95 latency")) == []


def test_an_internal_alarm_that_says_who_reads_it_passes():
    assert violations(RULE, _alarm(AlarmDescription=f"{INTERNAL_ALARM} ECS during a deployment's bake: 5xx")) == []


def test_an_alarm_that_notifies_nobody_fails():
    assert "no AlarmActions" in violations(RULE, _alarm(AlarmDescription="fast burn over 60 min"))[0].message


def test_disabled_actions_fail_even_with_an_action():
    composite = {"C": {"Type": "AWS::CloudWatch::CompositeAlarm",
                       "Properties": {"AlarmActions": [{"Ref": "Topic"}], "ActionsEnabled": False}}}
    assert violations(RULE, composite)[0].message == "ActionsEnabled is false"
