"""What keeps each preview in its place, read from AWS: its rules on the base's listener, and its task roles.

- Placement: a preview's listener rule comes after every base rule (its priority in the previews' band, above the
  highest base rule), matches only its own /pv/<name>/ paths and the header with its name. A rule placed before a
  base rule could decide a request the base should have answered.
- Isolation: a preview's task role allows nothing outside its own resources (every allowed resource is named under
  the preview's prefix) and keeps the explicit deny on everything not tagged as the preview's.

`preview deploy` runs both for its preview; SY-E204 and SY-E304 run them in `verify` of the base, for every preview.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard import naming
from shipyard.aws import Aws
from shipyard.blueprint.preview_workload import ISOLATION_SID
from shipyard.checks.base import as_list, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.config import Environment


@dataclass(frozen=True)
class PreviewCheck:
    title: str
    passed: bool
    detail: str


def check_previews(aws: Aws, base: Environment, names: list[str]) -> list[PreviewCheck]:
    """Both checks for the named previews of `base`."""
    problems = rule_placement(aws, base, names)
    isolation = [problem for name in names for problem in task_role_isolation(aws, base, name)]
    return [PreviewCheck("previews' rules come after the base's", not problems, "; ".join(problems) or f"{len(names)} previews in place"),
            PreviewCheck("previews' task roles reach their own resources only", not isolation,
                         "; ".join(isolation) or f"{len(names)} previews isolated")]


def rule_placement(aws: Aws, base: Environment, previews: list[str]) -> list[str]:
    """Each preview rule's problems, named by preview and priority."""
    elbv2 = aws.elbv2(base.region)
    balancer = elbv2.load_balancer(base.names.load_balancer)
    if balancer is None or not previews:
        return []
    owned = _target_groups(aws, base, previews)
    problems = []
    for listener in elbv2.listeners(balancer.arn):
        rules = [r for r in elbv2.rules(listener.arn) if r.priority is not None]
        theirs = {r.arn: owned.get(next(iter(r.target_groups), ""), _header_name(r)) for r in rules}
        base_rules = [r for r in rules if theirs[r.arn] is None]
        last_base = max((r.priority for r in base_rules), default=0)
        for rule in rules:
            name = theirs[rule.arn]
            if name is None:
                continue
            where = f"preview {name}'s rule at priority {rule.priority}"
            if rule.priority < naming.PREVIEW_RULE_FIRST or rule.priority <= last_base:
                before = [r.priority for r in base_rules if r.priority > rule.priority]
                problems.append(f"{where} comes before the base's rule at {min(before) if before else last_base}; previews' "
                                f"rules belong after every base rule (from {max(naming.PREVIEW_RULE_FIRST, last_base + 1)})")
            if rule.headers.get(naming.PREVIEW_HEADER) != (name,):
                problems.append(f"{where} does not require {naming.PREVIEW_HEADER}: {name}")
            outside = paths_outside(name, rule.paths)
            if outside:
                problems.append(f"{where} matches {outside}, outside {naming.preview_path(name)}/")
    return problems


def paths_outside(name: str, paths: tuple[str, ...] | list[str]) -> str | None:
    """What of a preview rule's path patterns lies outside the preview's prefix ("every path" where it has none)."""
    outside = [str(p) for p in paths if not str(p).startswith(naming.preview_path(name) + "/")]
    return ", ".join(outside) if outside else None if paths else "every path"


def live_finding(live: LiveEnvironment, problems: list[str], passed: str) -> LiveFinding:
    """A rule's live finding over the base's previews (passing where it has none)."""
    if not live.previews:
        return LiveFinding(True, "no previews", f"{live.env.name} has no preview environments")
    return LiveFinding(not problems, ", ".join(live.previews), "; ".join(problems) or passed)


def task_role_isolation(aws: Aws, base: Environment, preview: str) -> list[str]:
    """What a preview's task roles may do beyond its own resources."""
    prefix = base.preview(preview).names.prefix
    roles = [r.physical_id for r in aws.cloudformation(base.region).resources(prefix)
             if r.resource_type == "AWS::IAM::Role" and r.physical_id.endswith("-task")]
    problems = []
    iam = aws.iam()
    for name in roles:
        role = iam.role(name)
        if role is None:
            continue
        held = [s for document in role.inline for s in statements(document)]
        held += [s for arn in role.managed for s in statements(iam.managed_document(arn))]
        for statement in held:
            if statement.get("Effect") != "Allow":
                continue
            outside = [str(r) for r in as_list(statement.get("Resource")) if prefix not in str(r)]
            if outside:
                actions = ", ".join(as_list(statement.get("Action")))
                problems.append(f"{name} allows {actions} on {', '.join(outside)}, outside preview {preview}")
        if not any(s.get("Sid") == ISOLATION_SID and s.get("Effect") == "Deny"
                   and (s.get("Condition") or {}).get("StringNotEquals", {}).get(f"aws:ResourceTag/{naming.PREVIEW_TAG}") == preview
                   for s in held):
            problems.append(f"{name} lost its deny on resources not tagged {naming.PREVIEW_TAG}={preview}")
    return problems


def _target_groups(aws: Aws, base: Environment, previews: list[str]) -> dict[str, str]:
    """Target group ARN -> the preview whose stack holds it."""
    cloudformation = aws.cloudformation(base.region)
    return {r.physical_id: name for name in previews for r in cloudformation.resources(base.preview(name).names.prefix)
            if r.resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup"}


def _header_name(rule) -> str | None:
    """A rule that names a preview in its header is that preview's, whoever made it."""
    values = rule.headers.get(naming.PREVIEW_HEADER)
    return values[0] if values else None
