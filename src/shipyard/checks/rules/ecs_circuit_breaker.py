from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class EcsCircuitBreaker(Rule):
    id = "SY-E502"
    severity = Severity.ERROR
    category = Category.SERVICE
    short = "ECS service without deployment circuit breaker rollback"
    long = ("Services using the ECS deployment controller must enable the deployment circuit breaker with rollback, "
            "so a deployment whose tasks never become healthy returns to the last working task definition.")
    rationale = "Without it a failed deployment keeps replacing tasks forever while the old ones drain."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ECS::Service"):
            if (props.get("DeploymentController") or {}).get("Type", "ECS") != "ECS":
                continue
            breaker = (props.get("DeploymentConfiguration") or {}).get("DeploymentCircuitBreaker") or {}
            if breaker.get("Enable") is not True or breaker.get("Rollback") is not True:
                yield Violation(logical_id, f"DeploymentCircuitBreaker is {breaker or 'not set'}")

    verify_title = "service: circuit breaker with rollback"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        service = live.service
        if service is None:
            return LiveFinding(False, f"{live.env.names.cluster}/{live.env.names.service}", "service not found")
        return LiveFinding(service.circuit_breaker, service.arn, "enabled with rollback" if service.circuit_breaker
                           else f"deploymentCircuitBreaker is {service.circuit_breaker_setting or 'off'}")


RULE = EcsCircuitBreaker()
