"""`shipyard up`: every environment deployed, its site published and verified, in one command.

On the embedded AWS by default (nothing leaves this machine); with --aws on
real accounts. All environments are synthesized in one process first,
production is confirmed before anything changes, and the environments are
brought up side by side (side_by_side.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from shipyard import ui
from shipyard.app import target as targets
from shipyard.app.context import guard_production, preflight
from shipyard.aws import Aws
from shipyard.config import Config
from shipyard.deploy.apply import stop_requested
from shipyard.deploy.execute import SERIAL, DeployOptions, deploy
from shipyard.deploy.site import publish_environment
from shipyard.deploy.state import deployed_edge
from shipyard.deploy.verify import LiveResult, verify
from shipyard.side_by_side import run_graph
from shipyard.synth import EnvironmentAssembly, synthesize


@dataclass(frozen=True)
class EnvironmentUp:
    environment: str
    account: str
    region: str
    stacks: str
    endpoint: str
    site: str
    failed_checks: list[LiveResult]
    checks: int


@dataclass
class UpReport:
    target: str
    environments: list[EnvironmentUp] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    total: float = 0.0

    @property
    def passed(self) -> bool:
        return all(not e.failed_checks for e in self.environments)


def up(config: Config, *, use_aws: bool, profile: str | None, port: int | None, yes: bool,
       keep: bool, on_ready: Callable[[UpReport], None] = lambda report: None) -> UpReport:
    """Deploy, publish and verify every environment; on_ready(report) runs before --keep serves."""
    started = time.perf_counter()
    assemblies = synthesize(config, config.select(None), config.directory / "cdk.out")
    if use_aws:
        guard_production([a.environment for a in assemblies], yes=yes, action="`up --aws` changes")
    report = UpReport(target="")
    report.timings["synth"] = time.perf_counter() - started
    with (nullcontext(None) if use_aws else targets.embedded_aws(port)) as server:
        target = targets.real(profile) if server is None else targets.embedded(server.endpoint)
        if server is not None:
            ui.info(f"embedded AWS on {server.endpoint}")
        report.target = target.describe()
        mark = time.perf_counter()
        preflight(config, assemblies, target, site=True)
        report.timings["checks"] = time.perf_counter() - mark

        def bring_up(assembly: EnvironmentAssembly) -> EnvironmentUp:
            env = assembly.environment
            aws = Aws(target, env.account)
            mark = time.perf_counter()
            results = deploy(aws, assembly, DeployOptions(confirm=lambda question: yes or server is not None))
            report.timings[f"deploy {env.name}"] = time.perf_counter() - mark
            mark = time.perf_counter()
            sync, _ = publish_environment(aws, env, config.site_directory, public_dotfiles=tuple(config.site.public_dotfiles))
            report.timings[f"publish {env.name}"] = time.perf_counter() - mark
            mark = time.perf_counter()
            checks = verify(aws, assembly, config.app)
            report.timings[f"verify {env.name}"] = time.perf_counter() - mark
            edge = deployed_edge(aws, env)
            outcomes = ", ".join(sorted({r.outcome for r in results}))
            return EnvironmentUp(
                env.name, env.account, env.region, f"{len(results)} ({outcomes})", f"https://{edge.domain if edge else '?'}",
                f"{len(sync.uploads)} uploaded, {sync.unchanged} unchanged", [c for c in checks if not c.passed], len(checks))

        # Environments live in separate accounts and share nothing: side by side on AWS.
        report.environments = run_graph(assemblies, key=lambda a: a.environment.name, after=lambda a: (), run=bring_up,
                                        stop=stop_requested, at_once=SERIAL if target.is_local else None)
        report.total = time.perf_counter() - started
        on_ready(report)
        if keep and server is not None:
            targets.serve_until_interrupted(server)
    return report
