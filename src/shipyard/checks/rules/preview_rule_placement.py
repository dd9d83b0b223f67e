from __future__ import annotations

from shipyard import naming
from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.checks.preview_checks import live_finding, paths_outside, rule_placement


class PreviewRulePlacement(Rule):
    id = "SY-E204"
    severity = Severity.ERROR
    category = Category.NETWORK
    short = "Preview listener rule that could decide a request before the base environment's rules"
    long = (f"A preview environment's rule on its base's listener comes after every base rule (priority "
            f"{naming.PREVIEW_RULE_FIRST} or above, and above the base's highest), requires the {naming.PREVIEW_HEADER} "
            "header with the preview's name, and matches only paths under /pv/<name>/.")
    rationale = ("Previews share the base environment's load balancer: a preview rule evaluated first, or matching more "
                 "than its own prefix, would take requests the base should answer and serve them unreviewed code.")

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ElasticLoadBalancingV2::ListenerRule"):
            conditions = as_list(props.get("Conditions"))
            header = next((c for c in conditions if c.get("Field") == "http-header"
                           and (c.get("HttpHeaderConfig") or {}).get("HttpHeaderName") == naming.PREVIEW_HEADER), None)
            if header is None:
                continue
            name = (as_list(header["HttpHeaderConfig"].get("Values")) or [""])[0]
            priority = props.get("Priority")
            if not isinstance(priority, int) or priority < naming.PREVIEW_RULE_FIRST:
                yield Violation(logical_id, f"preview {name}'s rule at priority {priority} comes before the base's rules "
                                            f"(previews' start at {naming.PREVIEW_RULE_FIRST})")
            outside = paths_outside(name, [v for c in conditions if c.get("Field") == "path-pattern"
                                           for v in as_list((c.get("PathPatternConfig") or {}).get("Values"))])
            if outside:
                yield Violation(logical_id, f"preview {name}'s rule matches {outside}")

    verify_title = "previews' rules come after the base's"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        return live_finding(live, rule_placement(live.aws, live.env, live.previews), "each after every base rule, on its own paths")


RULE = PreviewRulePlacement()
