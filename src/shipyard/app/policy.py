"""`shipyard check`, and the policy gate that deploy, up and release pass before they change anything."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard.checks.engine import Finding, failing, gate, run_checks
from shipyard.config import UNSUPPRESSABLE_IN_PRODUCTION, Config
from shipyard.errors import PolicyRefused
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class CheckReport:
    findings: list[Finding]
    blocking: list[Finding]
    fail_on: str
    seconds: float

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppressed)


def check(config: Config, names: list[str] | None, fail_on: str | None) -> CheckReport:
    started = time.perf_counter()
    findings = run_checks(config, config.select(names), config.directory / "cdk.out")
    threshold = fail_on or config.checks.fail_on
    return CheckReport(findings, failing(findings, threshold), threshold, time.perf_counter() - started)


def require_policy(config: Config, assemblies: list[EnvironmentAssembly]) -> None:
    """Refuse (exit 4) when what would be deployed has unsuppressed policy errors; cached when checked before."""
    blocking = gate(config, assemblies, config.directory / "cdk.out")
    if blocking:
        lines = [f"  {f.environment} {f.stack} {f.rule} {f.resource}: {f.message}" for f in blocking]
        names = ", ".join(a.environment.name for a in assemblies)
        raise PolicyRefused(f"policy checks of {names}", lines,
                            "fix each cause (`shipyard check` explains them), or add a [[checks.suppress]] entry with its reason; "
                            f"production cannot suppress {', '.join(sorted(UNSUPPRESSABLE_IN_PRODUCTION))}")


def config_policy(config: Config) -> list[str]:
    """What the policy gate would refuse that shipyard.toml alone shows, so validate says it before any synth."""
    return [f"environments.{env.name}.waf: {env.name} is production (production = true) and needs waf = true; "
            "SY-E105 refuses a production distribution without a web ACL and cannot be suppressed there"
            for env in config.environments.values() if env.production and not env.waf]
