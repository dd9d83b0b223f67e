from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class CloudFrontAccessLogs(Rule):
    id = "SY-E110"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Production distribution without access logs (CloudFront standard logging v2)"
    long = ("CloudFront's access logs record every viewer request: in production (or where edge_logs is on) the "
            "distribution's ACCESS_LOGS delivery source has a delivery, and live it writes to a CloudWatch Logs group "
            "(whose retention SY-E601 checks).")
    rationale = "Without the edge's own log, a request WAF let through or a 4xx storm at the edge leaves no trace."

    def check(self, view: StackView):
        sources = {logical_id: props.get("Name") for logical_id, props in view.resources("AWS::Logs::DeliverySource")
                   if props.get("LogType") == "ACCESS_LOGS"}
        # A delivery names its source by name, or by Ref (which is the name).
        delivered = [props.get("DeliverySourceName") for _, props in view.resources("AWS::Logs::Delivery")]
        for logical_id, name in sources.items():
            if name not in delivered and {"Ref": logical_id} not in delivered:
                yield Violation(logical_id, f"delivery source {name} has no delivery")
        # The distribution's us-east-1 stack is the one with alarms on CloudFront's metrics.
        edge_alarms = [logical_id for logical_id, props in view.resources("AWS::CloudWatch::Alarm")
                       if props.get("Namespace") == "AWS/CloudFront"]
        if view.production and edge_alarms and not sources:
            yield Violation(edge_alarms[0], "production's edge delivers no CloudFront access logs")

    verify_title = "distribution: access logs delivered (standard logging v2)"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        arn = f"arn:aws:cloudfront::{live.aws.account}:distribution/{live.distribution_id}"
        if not (live.env.edge_logs or live.env.is_production):
            return LiveFinding(True, arn, "not asked for (edge_logs is off)")
        deliveries = live.aws.logs("us-east-1").deliveries_of(arn)
        groups = [d.destination for d in deliveries if ":log-group:" in d.destination]
        if not deliveries:
            return LiveFinding(False, arn, "no log delivery of the distribution's access logs")
        return LiveFinding(bool(groups), arn, f"delivered to {', '.join(d.destination for d in deliveries)}")


RULE = CloudFrontAccessLogs()
