from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.naming import INTERNAL_ALARM


class AlarmActions(Rule):
    id = "SY-E602"
    severity = Severity.ERROR
    category = Category.LOGGING
    short = "Alarm that notifies nobody, or whose actions are disabled"
    long = ("Every alarm either notifies (an action on ALARM) or says in its description who reads it instead "
            f"('{INTERNAL_ALARM} ECS ...' or a composite alarm that notifies), and no alarm has its actions disabled.")
    rationale = "An alarm that fires into nothing is an outage nobody hears about; disabling actions silences it."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            if props.get("ActionsEnabled") is False:
                yield Violation(logical_id, "ActionsEnabled is false")
            elif not props.get("AlarmActions") and not str(props.get("AlarmDescription", "")).startswith(INTERNAL_ALARM):
                yield Violation(logical_id, f"no AlarmActions, and its description does not start '{INTERNAL_ALARM} ...'")

    verify_title = "alarms: each notifies or is read by what acts on it; actions enabled"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        prefix = f"{live.env.names.prefix}-"
        alarms = [alarm for region in dict.fromkeys((live.region, "us-east-1"))
                  for alarm in live.aws.cloudwatch(region).alarms_named(prefix)]
        problems = [f"{a.name}: actions disabled" for a in alarms if not a.actions_enabled]
        problems += [f"{a.name}: no action on ALARM" for a in alarms
                     if a.actions_enabled and not a.alarm_actions and not a.description.startswith(INTERNAL_ALARM)]
        if not alarms:
            problems.append("no alarms found")
        return LiveFinding(not problems, f"{len(alarms)} alarms named {prefix}*", "; ".join(problems) or "all notify or are read")


RULE = AlarmActions()
