"""Run the three layers over synthesized templates: cdk-nag (AwsSolutions), cfn-lint, shipyard's own rules.

cdk-nag runs as an Aspect during a synth made for checking and reports through
its CSV files; cfn-lint runs as a library against the real CloudFormation
schemas; own rules read the template JSON. Suppressions come from resource
metadata (the blueprint's, with reasons) and from shipyard.toml [checks].
"""

from __future__ import annotations

import csv
import fnmatch
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shipyard.checks.base import Limits, Severity, StackView
from shipyard.checks.rules import RULES
from shipyard.config import Config, Environment
from shipyard.synth import EnvironmentAssembly, StackArtifact, synthesize

LAYERS = ("cdk-nag", "cfn-lint", "shipyard")


@dataclass(frozen=True)
class Finding:
    layer: str
    rule: str
    severity: Severity
    environment: str
    stack: str
    resource: str  # logical id, or construct path for cdk-nag
    message: str
    template: str  # path of the synthesized template
    suppressed: str | None = None  # the reason, when suppressed


def run_checks(config: Config, environments: list[Environment], out_dir: Path,
               customize: Callable[[list[Any]], None] | None = None) -> list[Finding]:
    assemblies = synthesize(config, environments, out_dir, nag=True, customize=customize)
    findings: list[Finding] = []
    for assembly in assemblies:
        for stack in assembly.stacks:
            findings += check_stack(config, assembly, stack)
    return findings


def check_stack(config: Config, assembly: EnvironmentAssembly, stack: StackArtifact) -> list[Finding]:
    template = stack.template()
    found = [*_nag_findings(assembly, stack), *lint_findings(assembly.environment, stack, template),
             *own_findings(config, assembly.environment, stack, template)]
    return [_suppress(config, assembly.environment, template, f) for f in found]


def own_findings(config: Config, env: Environment, stack: StackArtifact, template: dict) -> Iterable[Finding]:
    limits = Limits(config.checks.max_deregistration_delay, config.checks.max_time_to_healthy)
    view = StackView(env.name, env.is_production, stack.name, template, limits)
    for rule in RULES:
        for violation in rule.check(view):
            yield Finding("shipyard", rule.id, rule.severity, env.name, stack.name, violation.resource,
                          f"{rule.short}: {violation.message}", str(stack.template_path))


def lint_findings(env: Environment, stack: StackArtifact, template: dict) -> Iterable[Finding]:
    from cfnlint.api import lint

    for match in lint(json.dumps(template), regions=[stack.region]):
        rule_id = match.rule.id
        if rule_id.startswith("I"):
            continue
        path = list(getattr(match, "path", None) or getattr(match, "path_string", "").split("/"))
        resource = str(path[1]) if len(path) > 1 and path[0] == "Resources" else "template"
        severity = Severity.ERROR if rule_id.startswith("E") else Severity.WARNING
        yield Finding("cfn-lint", rule_id, severity, env.name, stack.name, resource, match.message, str(stack.template_path))


def _nag_findings(assembly: EnvironmentAssembly, stack: StackArtifact) -> Iterable[Finding]:
    # cdk-nag names reports AwsSolutions-<stage path>-<stack>; the app's stage path is empty.
    reports = sorted(assembly.directory.glob(f"AwsSolutions-*{stack.name}-NagReport.csv"))
    if not reports:
        raise FileNotFoundError(f"cdk-nag wrote no report for {stack.name} in {assembly.directory}")
    report = reports[0]
    with report.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Compliance"] == "Compliant":
                continue
            severity = Severity.ERROR if row["Rule Level"] == "Error" else Severity.WARNING
            reason = (row.get("Exception Reason") or "no reason given") if row["Compliance"] == "Suppressed" else None
            yield Finding("cdk-nag", row["Rule ID"], severity, assembly.environment.name, stack.name, row["Resource ID"],
                          row["Rule Info"], str(stack.template_path), reason)


def _suppress(config: Config, env: Environment, template: dict, finding: Finding) -> Finding:
    if finding.suppressed:
        return finding
    resource = template.get("Resources", {}).get(finding.resource, {})
    for entry in (resource.get("Metadata", {}).get("cdk_nag", {}) or {}).get("rules_to_suppress", []):
        if entry.get("id") == finding.rule:
            return replace(finding, suppressed=entry.get("reason", ""))
    for entry in config.checks.suppress:
        if (entry.id == finding.rule and fnmatch.fnmatchcase(env.name, entry.environment)
                and (fnmatch.fnmatchcase(finding.resource, entry.resource) or fnmatch.fnmatchcase(finding.stack, entry.resource))):
            return replace(finding, suppressed=entry.reason)
    return finding


def failing(findings: list[Finding], fail_on: str) -> list[Finding]:
    """Unsuppressed findings at or above the fail_on severity."""
    levels = {Severity.ERROR} if fail_on == "error" else {Severity.ERROR, Severity.WARNING}
    return [f for f in findings if not f.suppressed and f.severity in levels]
