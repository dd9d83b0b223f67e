from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding

_ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def _wildcard_grants(document) -> bool:
    return any(s.get("Effect") == "Allow" and any(a in ("*", "*:*") for a in as_list(s.get("Action")))
               and "*" in as_list(s.get("Resource")) for s in statements(document))


class IamAdmin(Rule):
    id = "SY-E302"
    severity = Severity.ERROR
    category = Category.IDENTITY
    short = "IAM role or policy with '*' action on '*' resource, or an admin managed policy"
    long = ("No role may be granted every action on every resource, inline or through a policy resource, nor the "
            "AdministratorAccess, PowerUserAccess or IAMFullAccess managed policies.")
    rationale = "A leaked deploy token or a compromised task must not be able to take over the account."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::IAM::Role"):
            for arn in as_list(props.get("ManagedPolicyArns")):
                text = str(arn)
                for name in _ADMIN_POLICIES:
                    if text.endswith(f"/{name}") or f"policy/{name}" in text:
                        yield Violation(logical_id, f"role has the {name} managed policy")
            for policy in as_list(props.get("Policies")):
                if _wildcard_grants(policy.get("PolicyDocument")):
                    yield Violation(logical_id, f"inline policy {policy.get('PolicyName')} allows '*' on '*'")
        for logical_id, props in view.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if _wildcard_grants(props.get("PolicyDocument")):
                yield Violation(logical_id, "policy allows '*' on '*'")

    verify_title = "IAM roles hold exactly what the blueprint grants"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        from shipyard.checks.drift import role_drift

        names = live.env.names
        problems = []
        for role in (names.deploy_role, names.push_role, names.task_role, names.execution_role, names.traffic_role):
            try:
                drift = role_drift(live, role)
            except LookupError:  # the push role exists only where CI pushes images (the first environment)
                continue
            problems += [f"{role}: extra {statement}" for statement in drift.extra]
            problems += [f"{role}: missing {statement}" for statement in drift.missing]
            if drift.trust_changed:
                problems.append(f"{role}: trust policy differs from the blueprint's")
        return LiveFinding(not problems, "deploy, image-push, task, execution and traffic-shift roles",
                           "; ".join(problems) or "live policies equal the synthesized ones")


RULE = IamAdmin()
