from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class EcsExecInProduction(Rule):
    id = "SY-W504"
    severity = Severity.WARNING
    category = Category.SERVICE
    short = "ECS Exec into production tasks, or into tasks shipyard.toml keeps it out of"
    long = ("Production runs with ECS Exec off unless its environment sets ecs_exec = true (then this warns); live, "
            "a service with enableExecuteCommand on where shipyard.toml says off fails verify: a shell into the tasks "
            "is a decision written in shipyard.toml, not a switch flipped through the API.")
    rationale = "ECS Exec gives whoever holds ecs:ExecuteCommand a shell beside the service's data and secrets."

    def check(self, view: StackView):
        if not view.production:
            return
        for logical_id, props in view.resources("AWS::ECS::Service"):
            if props.get("EnableExecuteCommand") is True:
                yield Violation(logical_id, "EnableExecuteCommand is true in production (ecs_exec = true)")

    verify_title = "service: ECS Exec only where shipyard.toml allows it"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        service = live.service
        if service is None:
            return LiveFinding(False, f"{live.env.names.cluster}/{live.env.names.service}", "service not found")
        allowed = bool(live.env.ecs_exec)
        return LiveFinding(allowed or not service.exec_enabled, service.arn,
                           f"enableExecuteCommand is {service.exec_enabled}; shipyard.toml's ecs_exec is {allowed}")


RULE = EcsExecInProduction()
