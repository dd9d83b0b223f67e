from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class CloudFrontViewerHttps(Rule):
    id = "SY-E104"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "CloudFront behaviour allows plain HTTP from viewers"
    long = "Every cache behaviour, the default included, must redirect viewers to HTTPS or accept HTTPS only."
    rationale = "Cookies, tokens and API payloads must never cross the internet in clear text."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::CloudFront::Distribution"):
            config = props.get("DistributionConfig") or {}
            behaviors = [("default", config.get("DefaultCacheBehavior") or {})]
            behaviors += [(b.get("PathPattern", "?"), b) for b in config.get("CacheBehaviors", []) or []]
            for path, behavior in behaviors:
                if behavior.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
                    yield Violation(logical_id, f"behaviour {path} has ViewerProtocolPolicy "
                                                f"{behavior.get('ViewerProtocolPolicy', 'unset')}")

    verify_title = "viewers are redirected to HTTPS"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        behaviors = live.distribution.behaviors
        plain = [b.path for b in behaviors if b.viewer_protocol not in ("redirect-to-https", "https-only")]
        return LiveFinding(not plain, f"distribution {live.distribution_id}",
                           f"plain HTTP allowed on {', '.join(plain)}" if plain else f"{len(behaviors)} behaviours redirect to HTTPS")


RULE = CloudFrontViewerHttps()
