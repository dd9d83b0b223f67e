"""Check results for people (tables), machines (JSON) and GitHub code scanning (SARIF 2.1.0)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from shipyard import __version__, ui
from shipyard.checks.base import Severity
from shipyard.checks.engine import Finding
from shipyard.checks.rules import RULES

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1}


def table(findings: list[Finding]) -> None:
    open_findings = sorted((f for f in findings if not f.suppressed),
                           key=lambda f: (f.environment, f.stack, _ORDER[f.severity], f.layer, f.rule))
    if open_findings:
        ui.table("findings (by stack and severity)", ["environment", "stack", "severity", "layer", "rule", "resource", "message"],
                 [(f.environment, f.stack, f.severity, f.layer, f.rule, f.resource, f.message) for f in open_findings])
    suppressed = sorted({(f.rule, f.layer, f.suppressed) for f in findings if f.suppressed})
    if suppressed:
        counts = {key: sum(1 for f in findings if (f.rule, f.layer, f.suppressed) == key) for key in suppressed}
        ui.table("suppressed (with their reasons)", ["rule", "layer", "findings", "reason"],
                 [(rule, layer, counts[(rule, layer, reason)], reason) for rule, layer, reason in suppressed])


def as_json(findings: list[Finding]) -> str:
    return json.dumps({"tool": "shipyard check", "version": __version__,
                       "findings": [asdict(f) for f in findings]}, indent=2) + "\n"


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def as_sarif(findings: list[Finding]) -> str:
    """One SARIF run; own rules carry their full metadata, cdk-nag and cfn-lint rules their ids."""
    own = {rule.id: rule for rule in RULES}
    rule_ids = sorted({f.rule for f in findings} | set(own))
    descriptors = []
    for rule_id in rule_ids:
        rule = own.get(rule_id)
        descriptor = {"id": rule_id, "shortDescription": {"text": rule.short if rule else rule_id}}
        if rule:
            descriptor["fullDescription"] = {"text": rule.long}
            descriptor["help"] = {"text": f"{rule.long} Why: {rule.rationale}"}
            descriptor["defaultConfiguration"] = {"level": _LEVEL[rule.severity]}
            descriptor["properties"] = {"category": rule.category.name.lower()}
        descriptors.append(descriptor)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for f in findings:
        result = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVEL[f.severity],
            "message": {"text": f"[{f.layer}] {f.environment}/{f.stack} {f.resource}: {f.message}"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": os.path.relpath(f.template).replace(os.sep, "/")}},
                "logicalLocations": [{"name": f.resource, "fullyQualifiedName": f"{f.stack}/{f.resource}", "kind": "resource"}],
            }],
        }
        if f.suppressed:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "shipyard", "version": __version__, "informationUri": "https://github.com/",
                                "rules": descriptors}},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2) + "\n"
