from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


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

    verify_title = "web ACL: managed rules block, rate limit as configured"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        from shipyard.blueprint.firewall import MANAGED_RULE_GROUPS  # imported here: the blueprint loads CDK

        resource = live.distribution.web_acl or f"distribution {live.distribution_id}"
        if not live.env.waf:
            return LiveFinding(True, resource, "no web ACL (waf = false)")
        if live.web_acl is None:
            return LiveFinding(False, resource, "no web ACL attached")
        rules = list(live.web_acl.rules)
        problems = self.findings_on("AWS::WAFv2::WebACL", {"Rules": rules})
        present = {(r.get("Statement") or {}).get("ManagedRuleGroupStatement", {}).get("Name") for r in rules}
        problems += [f"managed rule group {group} is missing" for group in MANAGED_RULE_GROUPS if group not in present]
        limits = [r["Statement"]["RateBasedStatement"].get("Limit") for r in rules if "RateBasedStatement" in (r.get("Statement") or {})]
        if limits and live.env.waf_rate_limit not in limits:
            problems.append(f"rate limit is {limits[0]}, not waf_rate_limit {live.env.waf_rate_limit}")
        return LiveFinding(not problems, resource,
                           "; ".join(problems) or f"managed rules block, rate limit {live.env.waf_rate_limit} per 5 min")


RULE = WebAclRulesBlock()
