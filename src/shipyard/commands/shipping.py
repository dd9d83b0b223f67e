"""Commands that change what runs: release, promote, rollback, run (a one-off task), local-image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shipyard import render, ui
from shipyard.app import releases, run_command
from shipyard.app.local_images import EMBEDDED_ONLY, build_local_image
from shipyard.app.releases import Gate
from shipyard.app.target import Choice
from shipyard.cli_options import (
    GATE,
    TARGET,
    EnvironmentArg,
    OverrideBudget,
    ServiceOption,
    YesFlag,
    after_dashes,
    command,
    context,
    exit_with,
)
from shipyard.errors import UsageError

WorkloadImages = Annotated[Optional[list[str]], typer.Option(
    "--workload", metavar="NAME=REF", help="a web workload's image in its own repository (repeatable); a workload not named "
                                           "keeps the image it runs (promote: SOURCE's, or this digest)")]


@command(groups=(TARGET, GATE))
def release(environment: EnvironmentArg, target: Choice, gate: Gate,
            image: Annotated[str, typer.Option("--image", help="repo@sha256:..., sha256:... or a tag in this environment's repository")],
            workload: WorkloadImages = None,
            yes: YesFlag = False, no_rollback: Annotated[bool, typer.Option("--no-rollback", help="leave a failed release in place")] = False,
            allow_vulnerable: Annotated[Optional[str], typer.Option("--allow-vulnerable", help="reason to release despite HIGH/CRITICAL findings")] = None,
            override_budget: OverrideBudget = None, service: ServiceOption = None) -> None:
    """Release an image (and with it each workload's): digest -> image parameter -> service stack -> rollout ->
    health gate -> LKG or rollback of the set. With --service NAME, IMAGE is that workload's alone."""
    render.released(environment, releases.release(context(environment, target), image, gate, yes=yes, auto_rollback=not no_rollback,
                                                  allow_vulnerable=allow_vulnerable, override_budget=override_budget,
                                                  workload_refs=workload or [], service=service))


@command(groups=(TARGET, GATE))
def promote(source: Annotated[str, typer.Argument(help="environment whose last known good digest is promoted")],
            environment: Annotated[str, typer.Argument(metavar="TARGET", help="environment that receives it")], target: Choice, gate: Gate,
            digest: Annotated[Optional[str], typer.Option("--digest", help="promote this digest instead of SOURCE's last known good")] = None,
            workload: WorkloadImages = None, yes: YesFlag = False, override_budget: OverrideBudget = None,
            service: ServiceOption = None) -> None:
    """Release to TARGET the exact set (digest and each workload's) that is last known good in SOURCE, copied
    between registries. With --service NAME, that workload's image alone (--digest: its digest)."""
    render.released(environment, releases.promote(context(environment, target), source, gate, yes=yes, digest=digest,
                                                  override_budget=override_budget, workload_refs=workload or [], service=service))


@command(groups=(TARGET, GATE))
def rollback(environment: EnvironmentArg, target: Choice, gate: Gate,
             to: Annotated[Optional[str], typer.Option("--to", help="a digest released successfully before")] = None,
             steps: Annotated[int, typer.Option("--steps", min=1, help="how many good releases back")] = 1, yes: YesFlag = False,
             service: ServiceOption = None) -> None:
    """Release a previous good digest from the history (the set it was released with), with the same verdict rules;
    with --service NAME, a previous good image of that workload alone."""
    render.released(environment, releases.rollback(context(environment, target), gate, yes=yes, to=to, steps=steps, service=service))


@command("run")
def run_one_off(environment: EnvironmentArg, target: Choice,
                words: Annotated[Optional[list[str]], typer.Argument(metavar="COMMAND", help="the command, after --: shipyard run staging -- python migrate.py")] = None,
                digest: Annotated[Optional[str], typer.Option("--digest", help="run this image (repo@sha256:..., sha256:... or a tag) "
                                                                              "instead of the service's current one")] = None,
                job: Annotated[Optional[str], typer.Option("--job", metavar="NAME", help="run the scheduled job NAME now, as its "
                                                                                         "schedule would (no COMMAND)")] = None,
                timeout: Annotated[float, typer.Option("--timeout", min=10, max=86400, help="seconds the task may run before it is stopped")] = 900,
                yes: YesFlag = False) -> None:
    """Run a one-off task of the service's task definition with COMMAND; stream its log; exit with its exit code.
    With --job NAME, one run of that scheduled job instead; exit 0 when it succeeded."""
    if job is not None:
        if words or digest:
            raise UsageError("--job", "runs the job's own image and command; give no COMMAND and no --digest with it",
                             f"shipyard run {environment} --job {job}")
        ran = run_command.run_job_now(context(environment, target), job, timeout=timeout, yes=yes)
        (ui.info if ran.succeeded else ui.error)(f"{environment}: {job} {ran.describe()}")
        exit_with(0 if ran.succeeded else 1)
        return
    run = run_command.run_command(context(environment, target), after_dashes(words or []), digest=digest, timeout=timeout, yes=yes)
    render.one_off(environment, run)
    exit_with(run.exit_code)


@command("local-image")
def local_image(environment: EnvironmentArg, target: Choice, tag: Annotated[str, typer.Argument(help="image tag (e.g. a commit SHA)")],
                service_dir: Annotated[Optional[Path], typer.Option("--service-dir", help="build context (default: service.directory)")] = None,
                vulnerable: Annotated[bool, typer.Option("--vulnerable", help="register HIGH and CRITICAL scan findings")] = False) -> None:
    """Build the service directory into an image and push it to the embedded AWS's ECR; prints its reference."""
    if not (target.real_aws or target.endpoint):  # not "pass --aws": on AWS the pipeline builds and pushes images
        raise UsageError("local-image", "needs the embedded AWS", EMBEDDED_ONLY)
    ctx = context(environment, target)
    built = build_local_image(ctx.aws, ctx.env, directory=service_dir or ctx.config.service_directory, tag=tag,
                              architecture=ctx.env.architecture, command=ctx.config.service.command, vulnerable=vulnerable)
    ui.result(built.image.reference)
