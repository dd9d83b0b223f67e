"""Commands that build and look after an environment's stacks: plan, deploy, verify, publish-site, destroy, up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shipyard import render
from shipyard.app import adopting, infrastructure
from shipyard.app.target import Choice
from shipyard.app.up import up as run_up
from shipyard.cli_options import (
    EnvironmentArg,
    YesFlag,
    app,
    command,
    config,
    context,
    exit_with,
)
from shipyard.errors import ExitCode, UsageError


@command()
def plan(environment: EnvironmentArg, target: Choice) -> None:
    """Show what `deploy` would change (exit 0: nothing, 3: changes pending)."""
    report = infrastructure.plan(context(environment, target))
    render.plan(report)
    exit_with(int(ExitCode.CHANGES_PENDING) if report.pending else 0)


@command()
def deploy(environment: EnvironmentArg, target: Choice, yes: YesFlag = False,
           recover: Annotated[bool, typer.Option("--recover", help="continue a failed update rollback before deploying")] = False,
           dns_wait: Annotated[Optional[float], typer.Option(
               "--dns-wait", min=1, max=720, help="minutes to wait for DNS validation records made by hand (dns = \"external\"; default 30)")] = None) -> None:
    """Deploy an environment's stacks in dependency order through change sets."""
    render.deployed(infrastructure.deploy_environment(context(environment, target), yes=yes, recover=recover, dns_wait_minutes=dns_wait))


@command()
def adopt(environment: EnvironmentArg, target: Choice, yes: YesFlag = False,
          from_copilot: Annotated[bool, typer.Option("--from-copilot", help="the resources come from the Copilot app of the "
                                                     "workspace beside shipyard.toml (the only source today)")] = False,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="show the moves and refusals; change nothing, write nothing")] = False) -> None:
    """Move the resources of a deployed Copilot environment that hold data (ECR repositories, the site's bucket, log
    groups) into shipyard's stacks: not copied, not deleted (CloudFormation's Retain, then resource import)."""
    if not from_copilot:
        raise UsageError("--from-copilot", "is required: Copilot is the one source adopt knows", "shipyard adopt ENV --from-copilot")
    render.adopted(adopting.adopt(config(), environment, target.target(), yes=yes, dry_run=dry_run))


@command()
def verify(environment: EnvironmentArg, target: Choice,
           drift: Annotated[bool, typer.Option("--drift/--no-drift", help="run CloudFormation's drift detection on every "
                                               "stack (SY-E901; several minutes on AWS)")] = True) -> None:
    """Check the live environment through AWS's APIs (exit 1 on any failure)."""
    results = infrastructure.verify_environment(context(environment, target), drift=drift)
    render.verified(environment, results)
    exit_with(0 if all(r.passed for r in results) else 1)


@command("publish-site")
def publish_site(environment: EnvironmentArg, target: Choice,
                 directory: Annotated[Optional[Path], typer.Argument(help="static files (default: site.directory)")] = None) -> None:
    """Upload the static site (changed files only) and invalidate what changed."""
    render.published(infrastructure.publish_site(context(environment, target), directory))


@command()
def destroy(environment: EnvironmentArg, target: Choice,
            yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm (not enough for production: type its name)")] = False) -> None:
    """Delete an environment's stacks in reverse order; lists what is retained."""
    render.destroyed(infrastructure.destroy_environment(context(environment, target), yes=yes))


@app.command()
def up(use_aws: Annotated[bool, typer.Option("--aws", help="deploy to real AWS (default credentials, or --profile)")] = False,
       profile: Annotated[Optional[str], typer.Option("--profile", help="AWS profile to use (implies --aws)")] = None, yes: YesFlag = False,
       keep: Annotated[bool, typer.Option("--keep", help="keep the embedded AWS running for exploration until Ctrl-C")] = False,
       port: Annotated[Optional[int], typer.Option("--port", help="embedded AWS port (default: a free one)")] = None) -> None:
    """Deploy every environment, publish the site and verify it; on the embedded AWS unless --aws."""
    report = run_up(config(), use_aws=use_aws or bool(profile), profile=profile, port=port, yes=yes, keep=keep, on_ready=render.up)
    exit_with(0 if report.passed else 1)
