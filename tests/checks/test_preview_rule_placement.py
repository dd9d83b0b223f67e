"""SY-E204: a preview's listener rule comes after every base rule, requires its name in the header, and matches only
its own /pv/<name>/ paths. Its live half is in tests/release/test_previews_local.py (a rule moved before a base rule)."""

import copy

from shipyard.checks.rules.preview_rule_placement import RULE

from .helpers import violations


def _rule(priority: int = 41001, paths: tuple[str, ...] = ("/pv/pr-7/api/*",), name: str = "pr-7") -> dict:
    return {"Rule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
        "Priority": priority, "ListenerArn": "arn:listener", "Actions": [{"Type": "forward", "TargetGroupArn": "tg"}],
        "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(paths)}},
                       {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "x-shipyard-preview", "Values": [name]}}]}}}


def test_a_preview_rule_after_the_base_on_its_own_paths_passes():
    assert violations(RULE, _rule()) == []
    base = {"Base": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
        "Priority": 1, "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]}}}
    assert violations(RULE, base) == []  # the base's own rules are not previews'


def test_a_preview_rule_placed_before_the_base_or_matching_beyond_its_prefix_fails():
    [early] = violations(RULE, _rule(priority=5))
    assert early.resource == "Rule" and "priority 5 comes before the base's rules" in early.message
    [wide] = violations(RULE, _rule(paths=("/pv/pr-7/api/*", "/api/*")))
    assert "matches /api/*" in wide.message
    pathless = copy.deepcopy(_rule())
    pathless["Rule"]["Properties"]["Conditions"] = pathless["Rule"]["Properties"]["Conditions"][1:]
    assert "matches every path" in violations(RULE, pathless)[0].message
