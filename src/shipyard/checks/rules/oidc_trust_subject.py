from __future__ import annotations

import json

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding

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

    verify_title = "deploy role trusts exactly this repository and environment"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        from shipyard.blueprint.identity import GITHUB_OIDC_HOST  # imported here: the blueprint loads CDK

        name = live.env.names.deploy_role
        found = live.aws.iam().trust(name)
        if found is None:
            return LiveFinding(False, name, "role not found")
        arn, document = found
        expected = live.app.subject(f"environment:{live.env.name}")
        provider = live.env.oidc_provider_arn or f"arn:aws:iam::{live.env.account}:oidc-provider/{GITHUB_OIDC_HOST}"
        trusts = statements(document)
        problems = [] if len(trusts) == 1 else [f"{len(trusts)} trust statements, not 1"]
        for statement in trusts:
            if (statement.get("Principal") or {}).get("Federated") != provider:
                problems.append(f"trusts {json.dumps(statement.get('Principal'))}, not {provider}")
            conditions = statement.get("Condition", {})
            equals = conditions.get("StringEquals", {})
            if set(conditions) - {"StringEquals"}:
                problems.append(f"uses {', '.join(sorted(set(conditions) - {'StringEquals'}))}")
            if equals.get(_SUB) != expected:
                problems.append(f"sub is {equals.get(_SUB)!r}")
            if equals.get("token.actions.githubusercontent.com:aud") != "sts.amazonaws.com":
                problems.append("aud is not sts.amazonaws.com")
        return LiveFinding(not problems, arn, "; ".join(problems) or f"StringEquals sub {expected} ({live.app.subject_format} subject format)")


RULE = OidcTrustSubject()
