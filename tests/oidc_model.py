"""GitHub's OIDC `sub` claim for each job of a workflow, and whether the role the job assumes trusts exactly it.

GitHub's rules (GitHub docs, "OpenID Connect reference", subject claim examples): a job that references an
environment gets `repo:OWNER/REPO:environment:NAME`; otherwise a pull_request run gets `repo:OWNER/REPO:pull_request`
and a run on a branch `repo:OWNER/REPO:ref:refs/heads/BRANCH`. A repository with immutable subject claims (the
default for repositories created or renamed since 2026-07-15; GitHub changelog 2026-04-23, "Immutable subject
claims for GitHub Actions OIDC tokens") writes `OWNER@OWNER_ID/REPO@REPO_ID` in place of `OWNER/REPO`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from shipyard.config import AppConfig

CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
_CHOICE = re.compile(r"inputs\.environment == '([^']+)' && '([^']+)'")


@dataclass(frozen=True)
class Assumption:
    job: str
    role_arn: str
    subject: str  # what GitHub puts in the job's token


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as True.
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {name: {} for name in ([on] if isinstance(on, str) else on)}


def assumptions(text: str, app: AppConfig, *, branch: str) -> list[Assumption]:
    """Every (job, role, subject) a run of this workflow can produce."""
    workflow = yaml.safe_load(text)
    events = _on(workflow)
    found = []
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if not str(step.get("uses", "")).startswith(CREDENTIALS_ACTION):
                continue
            role = str(step["with"]["role-to-assume"])
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            if environment and "${{" in str(environment):
                # An environment chosen by input: one subject per option, each paired with the role the expression picks.
                pairs = dict(_CHOICE.findall(role))
                options = events["workflow_dispatch"]["inputs"]["environment"]["options"]
                found += [Assumption(name, pairs.get(option, "<no role>"), app.subject(f"environment:{option}")) for option in options]
            elif environment:
                found.append(Assumption(name, role, app.subject(f"environment:{environment}")))
            else:
                condition = f"{step.get('if', '')} {job.get('if', '')}"
                # A job that names the events it runs on (github.event_name == 'X') runs on those only.
                running = {event for event in events if f"github.event_name == '{event}'" in condition} or set(events)
                if "pull_request" in running and f"refs/heads/{branch}" not in condition:
                    found.append(Assumption(name, role, app.subject("pull_request")))
                if running - {"pull_request"}:  # a push, a dispatch or a schedule runs on the branch
                    found.append(Assumption(name, role, app.subject(f"ref:refs/heads/{branch}")))
    return found


SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"


def fork_credentials(text: str) -> list[str]:
    """The jobs of a pull_request run from a fork that reach a credential step. GitHub gives a public fork's run no
    id-token (GitHub docs, "Automatic token authentication"); a job guarded by the head repository being this one
    does not run at all; a step guarded by the release branch does not run on a pull request."""
    workflow = yaml.safe_load(text)
    if "pull_request" not in _on(workflow):
        return []
    jobs = workflow["jobs"]

    def runs(name: str) -> bool:
        """Whether the job runs on a fork's pull request: not where its condition needs this repository, the release
        branch or another event (a dispatch, a schedule), nor after a job that does not run (a skipped need skips it)."""
        condition = str(jobs[name].get("if", ""))
        other_event = any(event != "pull_request" for event in re.findall(r"github\.event_name == '([a-z_]+)'", condition))
        if SAME_REPOSITORY in condition or "refs/heads/" in condition or other_event:
            return False
        needs = jobs[name].get("needs", [])
        return all(runs(need) for need in ([needs] if isinstance(needs, str) else needs))

    found = []
    for name, job in jobs.items():
        if not runs(name):
            continue
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith(CREDENTIALS_ACTION) and "refs/heads/" not in f"{step.get('if', '')} {job.get('if', '')}":
                found.append(name)
    return found


def trust_problems(templates: dict[str, dict], role_arn: str, subject: str) -> list[str]:
    """Why the role named by role_arn, as the templates define it, does not trust exactly `subject`."""
    role_name = role_arn.rsplit("/", 1)[-1]
    roles = [r["Properties"] for t in templates.values() for r in t["Resources"].values()
             if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == role_name]
    if not roles:
        return [f"no role {role_name} in the templates"]
    problems = []
    statements = roles[0]["AssumeRolePolicyDocument"]["Statement"]
    for statement in statements:
        conditions = statement.get("Condition", {})
        if set(conditions) != {"StringEquals"}:
            problems.append(f"{role_name} trust uses {sorted(conditions)}; only StringEquals is exact")
        trusted = conditions.get("StringEquals", {}).get("token.actions.githubusercontent.com:sub")
        if trusted != subject:
            problems.append(f"{role_name} trusts sub {trusted!r}; the job's token carries {subject!r}")
    if len(statements) != 1:
        problems.append(f"{role_name} has {len(statements)} trust statements")
    return problems
