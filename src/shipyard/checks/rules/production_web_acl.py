from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


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


RULE = ProductionWebAcl()
