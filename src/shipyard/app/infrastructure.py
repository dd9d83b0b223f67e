"""Use cases over an environment's stacks: synth, plan, deploy, verify, publish-site, destroy."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from shipyard import ui
from shipyard.app.context import EnvironmentContext, confirm, guard_production, preflight
from shipyard.app.policy import require_valid_config
from shipyard.config import Config
from shipyard.deploy.changeset import StackChanges
from shipyard.deploy.destroy import Retained, retained_resources
from shipyard.deploy.dns_records import DNS_WAIT, DnsRecord, records_to_create
from shipyard.deploy.execute import DeployOptions, StackResult, deploy, preview
from shipyard.deploy.site import SyncPlan, publish_environment
from shipyard.deploy.verify import LiveResult, verify
from shipyard.errors import UsageError
from shipyard.synth import EnvironmentAssembly, synthesize


@dataclass(frozen=True)
class SynthReport:
    assemblies: list[EnvironmentAssembly]
    seconds: float


def synth(config: Config, names: list[str] | None, out: Path | None) -> SynthReport:
    require_valid_config(config)
    started = time.perf_counter()
    assemblies = synthesize(config, config.select(names), out or config.directory / "cdk.out")
    return SynthReport(assemblies, time.perf_counter() - started)


@dataclass(frozen=True)
class PlanReport:
    environment: str
    previews: list[StackChanges]
    cost_before: float
    cost_after: float

    @property
    def pending(self) -> int:
        return sum(len(p.changes) for p in self.previews)


def plan(ctx: EnvironmentContext) -> PlanReport:
    from shipyard.app.costing import monthly_cost_change

    previews = preview(ctx.aws, ctx.assembly)
    before, after = monthly_cost_change(ctx.aws, ctx.assembly) if any(p.changes for p in previews) else (0.0, 0.0)
    return PlanReport(ctx.env.name, previews, before, after)


@dataclass(frozen=True)
class DeployReport:
    environment: str
    stacks: list[StackResult]
    seconds: float
    dns_records: list[DnsRecord]  # dns = "external": what must exist at the domain's DNS provider


def deploy_environment(ctx: EnvironmentContext, *, yes: bool, recover: bool, dns_wait_minutes: float | None = None) -> DeployReport:
    guard_production([ctx.env], yes=yes, action="deploy to")
    started = time.perf_counter()
    preflight(ctx.config, [ctx.assembly], ctx.aws.target, site=False)
    results = deploy(ctx.aws, ctx.assembly, DeployOptions(recover=recover, confirm=lambda q: confirm(q, yes=yes),
                                                     dns_wait=dns_wait_minutes * 60 if dns_wait_minutes else DNS_WAIT))
    return DeployReport(ctx.env.name, results, time.perf_counter() - started, records_to_create(ctx.aws, ctx.env))


def verify_environment(ctx: EnvironmentContext, *, drift: bool = True) -> list[LiveResult]:
    return verify(ctx.aws, ctx.assembly, ctx.config.app, drift=drift)


@dataclass(frozen=True)
class PublishReport:
    environment: str
    sync: SyncPlan
    invalidation: str | None


def publish_site(ctx: EnvironmentContext, directory: Path | None) -> PublishReport:
    if directory is not None and not directory.resolve().is_relative_to(ctx.config.directory):
        raise UsageError(str(directory), f"is outside {ctx.config.directory}, the project; nothing was uploaded",
                         "publish a directory of the project")
    with ui.progress(f"publishing {ctx.env.name}") as advance:
        sync, invalidation = publish_environment(ctx.aws, ctx.env, directory or ctx.config.site_directory, advance,
                                                  public_dotfiles=tuple(ctx.config.site.public_dotfiles))
    return PublishReport(ctx.env.name, sync, invalidation)


@dataclass(frozen=True)
class DestroyReport:
    environment: str
    deleted: list[str]
    retained: list[Retained]


def destroy_environment(ctx: EnvironmentContext, *, yes: bool) -> DestroyReport:
    from shipyard.deploy.destroy import destroy

    env = ctx.env
    if env.is_production:
        # Deleting production takes its typed name; --yes alone is not enough.
        typed = ui.prompt(f"type the environment name ({env.name}) to delete it") if ui.interactive() else ""
        if typed != env.name:
            raise UsageError(f"environment {env.name}", "is production; its name was not typed, nothing was deleted")
    elif not confirm(f"delete every stack of {env.name}?", yes=yes):
        raise UsageError(f"environment {env.name}", "deletion not confirmed; nothing was deleted", "pass --yes")
    kept = retained_resources(ctx.assembly)
    return DestroyReport(env.name, destroy(ctx.aws, ctx.assembly), kept)
