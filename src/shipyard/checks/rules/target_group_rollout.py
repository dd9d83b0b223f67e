from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation

# The AWS defaults, which apply when a template leaves a setting out.
_DEFAULTS = {"deregistration": 300, "interval": 30, "healthy": 5}


class TargetGroupRollout(Rule):
    id = "SY-W503"
    severity = Severity.WARNING
    category = Category.SERVICE
    short = "Target group settings make a rollout slower than the budget"
    long = ("The deregistration delay and the time a new target needs to turn healthy (health-check interval x "
            "healthy threshold) must stay within the limits in shipyard.toml [checks] (max_deregistration_delay, "
            "max_time_to_healthy; 30 s each by default). Every rollout wave waits for both.")
    rationale = "AWS's defaults (300 s drain, 5 x 30 s to healthy) turn a one-minute release into a fifteen-minute one."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ElasticLoadBalancingV2::TargetGroup"):
            attributes = {a.get("Key"): a.get("Value") for a in props.get("TargetGroupAttributes", []) or []}
            delay = int(attributes.get("deregistration_delay.timeout_seconds", _DEFAULTS["deregistration"]))
            healthy = int(props.get("HealthCheckIntervalSeconds", _DEFAULTS["interval"])) * int(
                props.get("HealthyThresholdCount", _DEFAULTS["healthy"]))
            if delay > view.limits.max_deregistration_delay:
                yield Violation(logical_id, f"deregistration delay {delay}s exceeds {view.limits.max_deregistration_delay}s")
            if healthy > view.limits.max_time_to_healthy:
                yield Violation(logical_id, f"a new target needs {healthy}s to turn healthy; the budget is "
                                            f"{view.limits.max_time_to_healthy}s")

    no_live_check = "its budget is time, which every release measures and prints (release's time breakdown)"


RULE = TargetGroupRollout()
