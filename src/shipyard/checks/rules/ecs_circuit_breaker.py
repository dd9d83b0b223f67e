from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


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


RULE = EcsCircuitBreaker()
