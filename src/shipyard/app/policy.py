"""`shipyard check`, and the policy gate that deploy, up and release pass before they change anything."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard.checks.engine import Finding, failing, gate, gated_synthesis, run_checks
from shipyard.config import UNSUPPRESSABLE_IN_PRODUCTION, Config, Environment, refusals
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
    _refuse_blocking(assemblies, gate(config, assemblies, config.directory / "cdk.out"))


def synthesize_gated(config: Config, environments: list[Environment]) -> list[EnvironmentAssembly]:
    """The environments synthesized and passed through the policy gate in one pass (cfn-lint of one runs while the
    next synthesizes); refused (exit 4) on unsuppressed errors, before anything changed."""
    assemblies, blocking = gated_synthesis(config, environments, config.directory / "cdk.out")
    _refuse_blocking(assemblies, blocking)
    return assemblies


def _refuse_blocking(assemblies: list[EnvironmentAssembly], blocking: list[Finding]) -> None:
    if blocking:
        lines = [f"  {f.environment} {f.stack} {f.rule} {f.resource}: {f.message}" for f in blocking]
        names = ", ".join(a.environment.name for a in assemblies)
        raise PolicyRefused(f"policy checks of {names}", lines,
                            "fix each cause (`shipyard check` explains them), or add a [[checks.suppress]] entry with its reason; "
                            f"production cannot suppress {', '.join(sorted(UNSUPPRESSABLE_IN_PRODUCTION))}")


def require_valid_config(config: Config) -> None:
    """The one config gate: what shipyard.toml alone shows the policy gate would refuse (exit 4), before any synth."""
    found = refusals(config)
    if found:
        raise PolicyRefused(str(config.path), found, "the deploy policy gate would refuse this; fix shipyard.toml")
