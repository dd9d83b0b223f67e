"""`shipyard verify`: every rule's live half, run against the deployed environment through AWS's APIs.

The checks live with their rules (checks/rules, one file each: the static check over the template and the live
check of the same property); this module only runs them. A result carries the rule's id, so a finding reads the
same before and after deploy; an AWS error while checking is that check's failure, named, not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.checks.rules import RULES
from shipyard.checks.rules.stack_drift import RULE as DRIFT_RULE
from shipyard.config import AppConfig
from shipyard.deploy.state import deployed_edge, edge_url
from shipyard.synth import EnvironmentAssembly

LIVE_RULES = [rule for rule in RULES if rule.verify_title]


@dataclass(frozen=True)
class LiveResult:
    id: str
    name: str
    passed: bool
    resource: str
    detail: str


def verify(aws: Aws, assembly: EnvironmentAssembly, app: AppConfig, *, drift: bool = True) -> list[LiveResult]:
    """Every live check; drift: CloudFormation's drift detection of every stack too (minutes on AWS)."""
    env = assembly.environment
    edge = deployed_edge(aws, env)
    live = LiveEnvironment(aws, assembly, app, distribution_id=edge.distribution_id if edge else "",
                           distribution_domain=edge.domain if edge else "", edge_url=edge_url(aws, env) if edge else "")
    results = []
    for rule in LIVE_RULES:
        if rule is DRIFT_RULE and not drift:
            continue
        try:
            finding = rule.verify(live)
        except AwsError as exc:
            finding = LiveFinding(False, exc.where, exc.what)
        results.append(LiveResult(rule.id, rule.verify_title, finding.passed, finding.resource, finding.detail))
    return results
