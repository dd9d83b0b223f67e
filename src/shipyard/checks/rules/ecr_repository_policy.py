from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, grants_anyone
from shipyard.checks.live import LiveEnvironment, LiveFinding


class EcrRepositoryPolicy(Rule):
    id = "SY-E402"
    severity = Severity.ERROR
    category = Category.REGISTRY
    short = "ECR repository policy that allows any principal"
    long = "A repository policy may grant named accounts or roles only, never Principal '*'."
    rationale = "A public repository policy lets anyone pull the image, and with write actions replace what a tag points to."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ECR::Repository"):
            if grants_anyone(props.get("RepositoryPolicyText")):
                yield Violation(logical_id, "the repository policy allows Principal '*'")

    verify_title = "repository policy grants no one at large"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        name = live.env.names.repository
        policy = live.aws.ecr(live.region).repository_policy(name)
        if policy is None:
            return LiveFinding(True, name, "no repository policy")
        public = grants_anyone(policy)
        return LiveFinding(not public, name, "allows Principal '*'" if public else "grants named principals only")


RULE = EcrRepositoryPolicy()
