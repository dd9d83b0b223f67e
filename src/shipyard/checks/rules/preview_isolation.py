from __future__ import annotations

import re

from shipyard import naming
from shipyard.blueprint.preview_workload import ISOLATION_SID
from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, referenced_id, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.checks.preview_checks import live_finding, task_role_isolation

_PREVIEW_TASK_ROLE = re.compile(rf"-{naming.PREVIEW_INFIX}-[a-z0-9-]+-task$")


class PreviewIsolation(Rule):
    id = "SY-E304"
    severity = Severity.ERROR
    category = Category.IDENTITY
    short = "Preview task role that may reach beyond the preview's own resources"
    long = (f"A preview environment's task role allows actions only on resources named under the preview, and keeps "
            f"its explicit deny ({ISOLATION_SID}) of data actions on every resource not tagged {naming.PREVIEW_TAG} = "
            "its name.")
    rationale = ("A preview runs a pull request's code inside the base environment's account: the deny is what keeps "
                 "that code away from the base's database secret, queues, parameters and files whatever else is "
                 "granted later.")

    def check(self, view: StackView):
        roles = {logical_id: props.get("RoleName", "") for logical_id, props in view.resources("AWS::IAM::Role")
                 if isinstance(props.get("RoleName"), str) and _PREVIEW_TASK_ROLE.search(props["RoleName"])}
        denied = {referenced_id(r) for _, props in view.resources("AWS::IAM::Policy")
                  for s in statements(props.get("PolicyDocument")) if s.get("Sid") == ISOLATION_SID and s.get("Effect") == "Deny"
                  for r in as_list(props.get("Roles"))}
        for logical_id, name in roles.items():
            if logical_id not in denied:
                yield Violation(logical_id, f"{name} has no {ISOLATION_SID} deny")

    verify_title = "previews' task roles reach their own resources only"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        problems = [p for name in live.previews for p in task_role_isolation(live.aws, live.env, name)]
        return live_finding(live, problems, "each role reaches its own preview only")


RULE = PreviewIsolation()
