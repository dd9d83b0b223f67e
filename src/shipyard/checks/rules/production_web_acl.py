from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class ProductionWebAcl(Rule):
    id = "SY-E105"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Production distribution without a WAF web ACL"
    long = ("In an environment marked production (named production/prod, or with deletion protection), every "
            "CloudFront distribution must carry a web ACL (waf = true), so AWS managed rules and the rate limit "
            "stand in front of both the site and the API.")
    rationale = "Production takes real traffic; the managed rule groups and rate limit are its first line of defence."

    def check(self, view: StackView):
        if not view.production:
            return
        for logical_id, props in view.resources("AWS::CloudFront::Distribution"):
            if not (props.get("DistributionConfig") or {}).get("WebACLId"):
                yield Violation(logical_id, f"environment {view.environment} is production but the distribution has no web ACL")

    verify_title = "web ACL only where WAF is on"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        acl = live.distribution.web_acl
        resource = f"distribution {live.distribution_id}"
        if not live.env.waf:
            return LiveFinding(not acl, resource, f"unexpected web ACL {acl}" if acl else "no web ACL (waf = false)")
        if not acl:
            return LiveFinding(False, resource, "no web ACL attached")
        if live.web_acl is None:
            return LiveFinding(False, acl, "the attached web ACL does not exist")
        managed = [r["Name"] for r in live.web_acl.rules if "ManagedRuleGroupStatement" in (r.get("Statement") or {})]
        return LiveFinding(bool(managed), acl,
                           f"{len(live.web_acl.rules)} rules, managed: {', '.join(managed)}" if managed else "no managed rule groups")


RULE = ProductionWebAcl()
