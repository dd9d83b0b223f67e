from __future__ import annotations

import urllib.error
import urllib.request

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding

ONE_YEAR = 31_536_000


class CloudFrontHsts(Rule):
    id = "SY-E109"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Distribution behaviour without HSTS of a year or more"
    long = ("Every cache behaviour carries a response-headers policy of the stack whose Strict-Transport-Security "
            "lasts at least a year and includes subdomains (AWS's managed SecurityHeadersPolicy omits subdomains).")
    rationale = "Without HSTS a viewer's first request can be downgraded to HTTP and intercepted."

    def check(self, view: StackView):
        policies = {logical_id: ((props.get("ResponseHeadersPolicyConfig") or {}).get("SecurityHeadersConfig") or {})
                    .get("StrictTransportSecurity") or {} for logical_id, props in view.resources("AWS::CloudFront::ResponseHeadersPolicy")}
        for logical_id, props in view.resources("AWS::CloudFront::Distribution"):
            config = props.get("DistributionConfig") or {}
            behaviors = [config.get("DefaultCacheBehavior") or {}, *(config.get("CacheBehaviors") or [])]
            for behavior in behaviors:
                reference = behavior.get("ResponseHeadersPolicyId")
                target = reference.get("Ref") if isinstance(reference, dict) else None
                hsts = policies.get(target or "", {})
                where = behavior.get("PathPattern", "default behaviour")
                if not hsts:
                    yield Violation(logical_id, f"{where}: no response-headers policy of this stack with HSTS")
                elif int(hsts.get("AccessControlMaxAgeSec", 0)) < ONE_YEAR or not hsts.get("IncludeSubdomains"):
                    yield Violation(logical_id, f"{where}: HSTS max-age {hsts.get('AccessControlMaxAgeSec')} s, includeSubDomains "
                                                f"{bool(hsts.get('IncludeSubdomains'))}; needs a year and subdomains")

    verify_title = "viewers get HSTS of a year with subdomains"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        url = live.edge_url + "/"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                header = response.headers.get("Strict-Transport-Security", "")
        except urllib.error.HTTPError as exc:
            header = exc.headers.get("Strict-Transport-Security", "")
        except OSError as exc:
            return LiveFinding(False, url, f"could not ask the edge: {exc}")
        age = next((int(part.split("=", 1)[1]) for part in header.split(";") if part.strip().startswith("max-age=")), 0)
        ok = age >= ONE_YEAR and "includesubdomains" in header.lower()
        return LiveFinding(ok, url, f"Strict-Transport-Security: {header}" if header else "no Strict-Transport-Security header")


RULE = CloudFrontHsts()
