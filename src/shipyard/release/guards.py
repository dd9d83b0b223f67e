"""What must hold before a release changes anything: the image's scan, and production's budget alarm.

Each guard refuses (exit 4, nothing changed) or returns a note for the release record: the reason someone gave
for going ahead anyway.
"""

from __future__ import annotations

from shipyard.aws import GLOBAL_REGION, Aws
from shipyard.config import Environment
from shipyard.errors import Refused
from shipyard.release.images import BLOCKING_SEVERITIES, Image, scan_findings


def vulnerability_guard(aws: Aws, env: Environment, image: Image, allow: str | None) -> str | None:
    counts = scan_findings(aws, env, image)
    blocking = {severity: counts[severity] for severity in BLOCKING_SEVERITIES if counts.get(severity)}
    if not blocking:
        return None
    summary = ", ".join(f"{n} {severity}" for severity, n in blocking.items())
    if allow:
        return f"released with {summary} findings: {allow}"
    raise Refused(image.reference, f"the ECR scan found {summary}; nothing was released",
                  'fix the image, or pass --allow-vulnerable "reason" (the reason is recorded)')


def budget_guard(aws: Aws, env: Environment, override: str | None) -> str | None:
    """Production releases wait while the budget alarm is in ALARM, unless overridden with a reason."""
    if not env.is_production:
        return None
    # The budget alarm watches billing metrics, which CloudWatch keeps in us-east-1 only.
    if not any(alarm.firing for alarm in aws.cloudwatch(GLOBAL_REGION).alarms([env.names.budget_alarm])):
        return None
    if override:
        return f"budget alarm in ALARM, overridden: {override}"
    raise Refused(f"environment {env.name}", f"budget alarm {env.names.budget_alarm} is in ALARM; nothing was released",
                  'look at `shipyard status` and the budget, or pass --override-budget "reason"')
