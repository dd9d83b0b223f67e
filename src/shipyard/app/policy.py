"""`shipyard check`: every stack of the selected environments through cdk-nag, cfn-lint and shipyard's rules."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard.checks.engine import Finding, failing, run_checks
from shipyard.config import Config


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
