"""Use cases that change what runs: release, promote, rollback, and local-image on the embedded AWS."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.app.context import EnvironmentContext, assembly_for, guard_production
from shipyard.app.policy import require_policy
from shipyard.aws import Aws
from shipyard.config import Config
from shipyard.deploy.apply import check_account
from shipyard.errors import UsageError
from shipyard.release import release as flow
from shipyard.release.attempt import Outcome, ReleaseOptions, Workload


@dataclass(frozen=True)
class Gate:
    """Command-line settings every release takes; None takes shipyard.toml's [release]."""

    health_url: str | None = None
    rollout_timeout: float | None = None
    health_timeout: float | None = None
    break_lock: bool = False
    smoke: bool = False  # --smoke: a job whose image changes runs once and must succeed


def _options(config: Config, gate: Gate, **more: object) -> ReleaseOptions:
    return ReleaseOptions.of(config.release, health_url=gate.health_url, rollout_timeout=gate.rollout_timeout,
                             health_timeout=gate.health_timeout, break_lock=gate.break_lock, smoke=gate.smoke, **more)


def workloads_of(config: Config, refs: list[str] | tuple[str, ...] = ()) -> tuple[Workload, ...]:
    """The set's workloads beside [service], each at the image NAME=REF gives it (none given: the image it runs now)."""
    given: dict[str, str] = {}
    names = list(config.workloads)
    for entry in refs:
        name, _, ref = entry.partition("=")
        if name not in names or not ref:
            raise UsageError(f"--workload {entry}", f"is not NAME=REF for a workload of {config.path.name}; workloads: "
                             f"{', '.join(names) or 'none'}", "e.g. --workload admin=sha256:...")
        given[name] = ref
    return tuple(Workload(name, config.services[name].health_path if config.kind_of(name) == "web" else None, given.get(name),
                          config.kind_of(name)) for name in names)


def release(ctx: EnvironmentContext, image: str, gate: Gate, *, yes: bool, auto_rollback: bool,
            allow_vulnerable: str | None, override_budget: str | None, workload_refs: list[str] | None = None,
            service: str | None = None) -> Outcome:
    """service: release IMAGE as that workload's alone (--service NAME): [service] and the rest of the set keep what
    they run, and the release is judged, recorded and rolled back as a set all the same."""
    guard_production([ctx.env], yes=yes, action="release to")
    if service is not None:
        if workload_refs:
            raise UsageError("--service", "names the one workload IMAGE is for; --workload cannot be given with it",
                             "release the set with --image and --workload NAME=REF instead")
        require_workload(ctx.config, service)
        workload_refs = [f"{service}={image}"]
        running = flow.current_digest(ctx.aws, ctx.env)
        if running is None:
            raise UsageError(f"environment {ctx.env.name}", "has no release of [service] yet, which the set needs",
                             "release the whole set first: --image REF --workload NAME=REF")
        image = running
    workloads = workloads_of(ctx.config, workload_refs or [])
    require_policy(ctx.config, [ctx.assembly])
    options = _options(ctx.config, gate, auto_rollback=auto_rollback, allow_vulnerable=allow_vulnerable,
                       override_budget=override_budget)
    return flow.release(ctx.aws, ctx.assembly, image, options, health_path=ctx.config.service.health_check_path,
                        workloads=workloads)


def promote(ctx: EnvironmentContext, source: str, gate: Gate, *, yes: bool, digest: str | None,
            override_budget: str | None, workload_refs: list[str] | None = None, service: str | None = None) -> Outcome:
    """service: promote that workload's image alone (--service NAME); the rest of the set keeps what it runs."""
    guard_production([ctx.env], yes=yes, action="release to")
    if service is not None and workload_refs:
        raise UsageError("--service", "names the one workload to promote; --workload cannot be given with it",
                         "promote the set with --workload NAME=REF instead")
    require_workload(ctx.config, service)
    workloads = workloads_of(ctx.config, workload_refs or [])
    require_policy(ctx.config, [ctx.assembly])
    src = ctx.config.environment(source)
    # Before any copy: promote writes with the target's credentials only (the copy lands in the caller's registry),
    # reading the source's image through the source's repository policy, which names the target's deploy role.
    check_account(ctx.aws, ctx.env.account, ctx.env.name,
                  hint=f"promote runs with {ctx.env.name}'s credentials (account {ctx.env.account}): they copy into "
                       f"{ctx.env.name}'s registry and read {src.name}'s image through its repository policy; with them, "
                       f"pass --digest (as CI's {ctx.env.name} job does)")
    options = _options(ctx.config, gate, override_budget=override_budget)
    return flow.promote(Aws(ctx.aws.target, src.account), assembly_for(ctx.config, src), ctx.aws, ctx.assembly, options,
                        health_path=ctx.config.service.health_check_path, digest=digest, workloads=workloads, service=service)


def rollback(ctx: EnvironmentContext, gate: Gate, *, yes: bool, to: str | None, steps: int, service: str | None = None) -> Outcome:
    guard_production([ctx.env], yes=yes, action="roll back")
    require_workload(ctx.config, service)
    return flow.rollback(ctx.aws, ctx.assembly, _options(ctx.config, gate), health_path=ctx.config.service.health_check_path,
                         to=to, steps=steps, workloads=workloads_of(ctx.config), service=service)


def require_workload(config: Config, service: str | None) -> None:
    """--service NAME names a workload of the set, or the command is refused before anything is read."""
    known = [w.name for w in workloads_of(config)]
    if service is not None and service not in known:
        raise UsageError(f"--service {service}", f"is not a workload of {config.path.name}; workloads: {', '.join(known) or 'none'}",
                         "leave --service out for [service]")
