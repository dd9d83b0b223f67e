from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


class WebAclRulesBlock(Rule):
    id = "SY-E106"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Web ACL whose managed rules only count, or without a blocking rate rule"
    long = ("Every AWS managed rule group of a web ACL must keep its own actions (OverrideAction None, no Count "
            "override), and the web ACL must hold a rate-based rule that blocks.")
    rationale = "A managed rule group set to Count, or a missing rate limit, leaves the web ACL in place but stopping nothing."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::WAFv2::WebACL"):
            rules = props.get("Rules") or []
            for rule in rules:
                statement = rule.get("Statement") or {}
                if "ManagedRuleGroupStatement" in statement:
                    override = rule.get("OverrideAction") or {}
                    if "None" not in override:
                        yield Violation(logical_id, f"managed rule group {rule.get('Name')} is overridden to {', '.join(override) or 'nothing'}")
                    counted = [r.get("Name") for r in statement["ManagedRuleGroupStatement"].get("RuleActionOverrides") or []
                               if "Count" in (r.get("ActionToUse") or {})]
                    if counted:
                        yield Violation(logical_id, f"managed rule group {rule.get('Name')} counts instead of blocking: {', '.join(counted)}")
            if not any("RateBasedStatement" in (r.get("Statement") or {}) and "Block" in (r.get("Action") or {}) for r in rules):
                yield Violation(logical_id, "no rate-based rule that blocks")


RULE = WebAclRulesBlock()
