from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, statements

_SUB = "token.actions.githubusercontent.com:sub"


def _federated(statement) -> str:
    principal = statement.get("Principal")
    value = principal.get("Federated") if isinstance(principal, dict) else None
    return str(value or "")


class OidcTrustSubject(Rule):
    id = "SY-E301"
    severity = Severity.ERROR
    category = Category.IDENTITY
    short = "GitHub OIDC trust policy with a missing, wildcard or ForAllValues subject"
    long = ("A role trusting token.actions.githubusercontent.com must pin the token's sub with StringEquals to one "
            "repository and environment (repo:<owner>/<repo>:environment:<env>): no wildcard, no StringLike, and "
            "no ForAllValues/ForAnyValue operator (which is vacuously true for a missing key).")
    rationale = "Without an exact subject, any repository on GitHub (or any branch of this one) can deploy."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::IAM::Role"):
            for statement in statements(props.get("AssumeRolePolicyDocument")):
                federated = _federated(statement)
                if "token.actions.githubusercontent.com" not in federated and "GitHub" not in federated:
                    continue
                conditions = statement.get("Condition") or {}
                set_operators = [op for op in conditions if op.startswith(("ForAllValues", "ForAnyValue"))]
                if set_operators:
                    yield Violation(logical_id, f"trust policy uses {', '.join(set_operators)}")
                subject = (conditions.get("StringEquals") or {}).get(_SUB)
                if any(_SUB in (conditions.get(op) or {}) for op in conditions if op != "StringEquals"):
                    yield Violation(logical_id, "sub is matched with an operator other than StringEquals")
                elif subject is None:
                    yield Violation(logical_id, "trust policy has no StringEquals condition on the token's sub")
                elif any("*" in s or "?" in s for s in (subject if isinstance(subject, list) else [subject])):
                    yield Violation(logical_id, f"sub {subject!r} contains a wildcard")


RULE = OidcTrustSubject()
