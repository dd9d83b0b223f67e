from shipyard.checks.rules.log_retention import RULE

from .helpers import violations


def test_retention_passes():
    assert violations(RULE, {"L": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}}) == []


def test_forever_fails():
    assert len(violations(RULE, {"L": {"Type": "AWS::Logs::LogGroup", "Properties": {}}})) == 1
