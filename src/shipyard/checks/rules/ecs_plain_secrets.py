from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.config.catalogue import looks_like_credential


class EcsPlainSecrets(Rule):
    id = "SY-E501"
    severity = Severity.ERROR
    category = Category.SERVICE
    short = "Secret passed to a container as a plain environment value"
    long = ("Container environment variables whose names look like secrets (PASSWORD, TOKEN, API_KEY, ...) or whose "
            "values look like credentials must come from Secrets Manager or SSM through the task definition's "
            "Secrets, never as plain Environment values.")
    rationale = "Plain environment values are visible to anyone who can describe the task definition."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ECS::TaskDefinition"):
            for container in props.get("ContainerDefinitions", []) or []:
                for variable in container.get("Environment", []) or []:
                    name, value = str(variable.get("Name", "")), variable.get("Value")
                    if looks_like_credential(name, value):
                        yield Violation(logical_id, f"container {container.get('Name')} gets {name} as a plain value")

    no_live_check = "a task definition revision is immutable and only CloudFormation registers the service's: the template is what runs"


RULE = EcsPlainSecrets()
