from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


class LogRetention(Rule):
    id = "SY-E601"
    severity = Severity.ERROR
    category = Category.LOGGING
    short = "CloudWatch log group without retention"
    long = "Every AWS::Logs::LogGroup must set RetentionInDays; log_retention_days in shipyard.toml sets it."
    rationale = "Logs kept forever cost more every month and keep personal data longer than anyone intended."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::Logs::LogGroup"):
            if not props.get("RetentionInDays"):
                yield Violation(logical_id, "no RetentionInDays: logs are kept forever")

    no_live_check = "not read live yet: a retention changed by hand alters cost and history, not who can reach what"


RULE = LogRetention()
