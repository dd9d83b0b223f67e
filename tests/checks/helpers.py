from shipyard.checks.base import Limits, StackView


def view(resources: dict, *, production: bool = False, limits: Limits | None = None) -> StackView:
    return StackView("production" if production else "staging", production, "app-env-stack", {"Resources": resources},
                     limits or Limits())


def violations(rule, resources: dict, **kwargs) -> list:
    return list(rule.check(view(resources, **kwargs)))
