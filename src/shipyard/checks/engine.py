"""Run the three layers over synthesized templates: cdk-nag (AwsSolutions), cfn-lint, shipyard's own rules.

cdk-nag runs as an Aspect during a synth made for checking and reports through
its CSV files; cfn-lint runs as a library against the real CloudFormation
schemas; own rules read the template JSON. Suppressions come from resource
metadata (the blueprint's, with reasons) and from shipyard.toml [checks],
except for the rules an environment marked production may not suppress.

`gate` is what deploy, up and release run first: the same findings, read
from the cache when the templates were checked before (checks/cache.py).
"""

from __future__ import annotations

import csv
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from shipyard.checks.base import Limits, Severity, StackView
from shipyard.checks.cache import ResultCache, code_version, digest
from shipyard.checks.lint import Linter, LintMatch
from shipyard.checks.migration_files import check_migrations
from shipyard.checks.rules import RULES
from shipyard.config import UNSUPPRESSABLE_IN_PRODUCTION, Config, Environment
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
    """Every layer over every stack; cfn-lint of one environment runs while the next one synthesizes."""
    _, findings = _checked_synthesis(config, environments, out_dir, customize=customize, reuse=False)
    return findings + unused_suppressions(config, environments, findings) + migration_findings(config, environments)


def gated_synthesis(config: Config, environments: list[Environment], out_dir: Path) -> tuple[list[EnvironmentAssembly], list[Finding]]:
    """Synthesize the environments (with cdk-nag's reports) and gate them in one pass: (assemblies, the findings that
    stop a deploy). cfn-lint of one environment runs while the next synthesizes; an environment whose templates were
    checked before is not checked again."""
    assemblies, findings = _checked_synthesis(config, environments, out_dir, customize=None, reuse=True)
    return assemblies, failing(findings + migration_findings(config, environments), "error")


def _checked_synthesis(config: Config, environments: list[Environment], out_dir: Path, *,
                       customize: Callable[[list[Any]], None] | None, reuse: bool) -> tuple[list[EnvironmentAssembly], list[Finding]]:
    assemblies: list[EnvironmentAssembly] = []
    checking: list[tuple[EnvironmentAssembly, list]] = []
    findings: list[Finding] = []
    with Linter() as linter:
        if not reuse:
            linter.start()  # the workers' imports overlap the first synth
        for env in environments:
            assembly = synthesize(config, [env], out_dir, nag=True, customize=customize)[0]
            assemblies.append(assembly)
            cached = _environment_cache().get(_environment_key(config, assembly)) if reuse else None
            if cached is not None:
                findings += [_finding(entry) for entry in cached]
            else:
                checking.append((assembly, [linter.submit(s.template_path.read_text(), s.region) for s in assembly.stacks]))
        for assembly, lints in checking:
            found = [f for stack, lint in zip(assembly.stacks, lints, strict=True)
                     for f in check_stack(config, assembly, stack, lint.result())]
            if customize is None:
                _environment_cache().put(_environment_key(config, assembly), [asdict(f) for f in found])
            findings += found
    return assemblies, findings


def migration_findings(config: Config, environments: list[Environment]) -> list[Finding]:
    """The migration files' declared kinds against their statements (checks/migrations.py); read on every run."""
    directory = config.migrations_directory
    if directory is None or not environments:
        return []
    targets = ", ".join(e.name for e in environments)
    return [Finding("shipyard", f.rule.id, f.rule.severity, targets, "migrations", f.file.name, f"{f.rule.short}: {f.message}",
                    str(f.file)) for f in check_migrations(directory)]


# A finding of the engine itself, beside the rules of rules/ (docs/checks.md lists it with them).
UNUSED_SUPPRESSION = ("SY-W701", "A [[checks.suppress]] entry that suppresses nothing",
                      "An entry whose rule no longer fires for the environments it names hides the next real finding "
                      "of that rule; remove it (for example AwsSolutions-CFR2 once the environment turns WAF on).")


def unused_suppressions(config: Config, environments: list[Environment], findings: list[Finding]) -> list[Finding]:
    """shipyard.toml suppressions that matched no finding of the environments checked."""
    unused = []
    for number, entry in enumerate(config.checks.suppress):
        targets = [e.name for e in environments if fnmatch.fnmatchcase(e.name, entry.environment)]
        if not targets:
            continue
        used = any(f.rule == entry.id and f.suppressed == entry.reason and f.environment in targets for f in findings)
        if not used:
            unused.append(Finding("shipyard", UNUSED_SUPPRESSION[0], Severity.WARNING, ", ".join(targets), "shipyard.toml",
                                  f"checks.suppress[{number}]", f"{UNUSED_SUPPRESSION[1]}: {entry.id} matched no finding in "
                                  f"{', '.join(targets)}; remove the entry", str(config.path)))
    return unused


def gate(config: Config, assemblies: list[EnvironmentAssembly], out_dir: Path) -> list[Finding]:
    """The findings that stop a deploy or release: unsuppressed errors. Templates checked before are not checked (nor
    synthesized for checking) again."""
    findings: list[Finding] = []
    unchecked = []
    for assembly in assemblies:
        cached = _environment_cache().get(_environment_key(config, assembly))
        if cached is None:
            unchecked.append(assembly.environment)
        else:
            findings += [_finding(entry) for entry in cached]
    if unchecked:
        findings += _checked_synthesis(config, unchecked, out_dir, customize=None, reuse=False)[1]
    return failing(findings + migration_findings(config, [a.environment for a in assemblies]), "error")


def _environment_cache() -> ResultCache:
    return ResultCache("environments")


def _environment_key(config: Config, assembly: EnvironmentAssembly) -> str:
    env = assembly.environment
    templates = [f"{s.name}\n{s.region}\n{s.template_path.read_text()}" for s in assembly.stacks]
    return digest(code_version(), config.checks.model_dump_json(), env.name, str(env.is_production), *templates)


def _finding(entry: dict[str, Any]) -> Finding:
    return Finding(**{**entry, "severity": Severity(entry["severity"])})


def check_stack(config: Config, assembly: EnvironmentAssembly, stack: StackArtifact, lint: list[LintMatch]) -> list[Finding]:
    template = stack.template()
    env = assembly.environment
    found = [*_nag_findings(assembly, stack), *lint_findings(env, stack, lint), *own_findings(config, env, stack, template)]
    return [_suppress(config, env, template, f) for f in found]


def own_findings(config: Config, env: Environment, stack: StackArtifact, template: dict) -> Iterable[Finding]:
    limits = Limits(config.checks.max_deregistration_delay, config.checks.max_time_to_healthy)
    view = StackView(env.name, env.is_production, stack.name, template, limits)
    for rule in RULES:
        for violation in rule.check(view):
            yield Finding("shipyard", rule.id, rule.severity, env.name, stack.name, violation.resource,
                          f"{rule.short}: {violation.message}", str(stack.template_path))


def lint_findings(env: Environment, stack: StackArtifact, matches: list[LintMatch]) -> Iterable[Finding]:
    for rule_id, resource, message in matches:
        severity = Severity.ERROR if rule_id.startswith("E") else Severity.WARNING
        yield Finding("cfn-lint", rule_id, severity, env.name, stack.name, resource, message, str(stack.template_path))


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
    if env.is_production and finding.rule in UNSUPPRESSABLE_IN_PRODUCTION:
        # No suppression, not even one in the blueprint's metadata, turns these off in production.
        return replace(finding, suppressed=None)
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
