from shipyard.checks.rules.web_acl_rules_block import RULE

from .helpers import violations

MANAGED = {"Name": "AWSManagedRulesCommonRuleSet", "OverrideAction": {"None": {}},
           "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}}
RATE = {"Name": "RateLimitPerIp", "Action": {"Block": {}}, "Statement": {"RateBasedStatement": {"Limit": 2000}}}


def _acl(*rules) -> dict:
    return {"A": {"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": list(rules)}}}


def test_blocking_managed_rules_and_rate_rule_pass():
    assert violations(RULE, _acl(MANAGED, RATE)) == []


def test_count_override_missing_rate_rule_and_counted_rules_fail():
    counted = {**MANAGED, "OverrideAction": {"Count": {}}}
    assert "overridden to Count" in violations(RULE, _acl(counted, RATE))[0].message
    assert violations(RULE, _acl(MANAGED))[0].message == "no rate-based rule that blocks"
    assert violations(RULE, _acl(MANAGED, {**RATE, "Action": {"Count": {}}}))[0].message == "no rate-based rule that blocks"
    overrides = {**MANAGED, "Statement": {"ManagedRuleGroupStatement": {
        "Name": "AWSManagedRulesCommonRuleSet", "RuleActionOverrides": [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]}}}
    assert "SizeRestrictions_BODY" in violations(RULE, _acl(overrides, RATE))[0].message
