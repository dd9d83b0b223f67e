"""Commands that read shipyard.toml and what it synthesizes: validate, init, synth, check, cost, and local (an
embedded AWS to point other commands at)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from shipyard import render, ui
from shipyard.app import costing, importing, infrastructure, policy, scaffolding
from shipyard.app import target as targets
from shipyard.app.local import serve_until_interrupted
from shipyard.app.target import Choice
from shipyard.cli_options import (
    ANSWERS,
    EnvironmentsArg,
    FormatOption,
    app,
    command,
    config,
    exit_with,
    state,
)
from shipyard.errors import ShipyardError, UsageError


@app.command()
def validate() -> None:
    """Check shipyard.toml only (every problem in one run); nothing else runs."""
    loaded = config()
    policy.require_valid_config(loaded)
    ui.result(f"{loaded.path}: valid; environments: " + ", ".join(f"{e.name} ({e.account}, {e.region})" for e in loaded.environments.values()))


@command(groups=(ANSWERS,))
def init(
    given: dict,
    directory: Annotated[Path, typer.Argument(help="repository to scaffold (default: the current directory)")] = Path("."),
    alert_email: Annotated[Optional[list[str]], typer.Option("--alert-email", help="production alert address (repeatable)")] = None,
    database: Annotated[bool, typer.Option("--database", help="add RDS for PostgreSQL, migrations in releases and per-environment "
                                                              "sizes (docs/database.md); creates service/migrations")] = False,
    workload: Annotated[Optional[list[str]], typer.Option("--workload", metavar="NAME:KIND", help="a workload beside the "
                                                          "service (repeatable; KIND: web, backend, worker or job), with a "
                                                          "starter in NAME/")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing shipyard.toml")] = False,
    from_config: Annotated[Optional[Path], typer.Option("--from", help="regenerate the pipeline of this shipyard.toml")] = None,
    check: Annotated[bool, typer.Option("--check", help="exit 1 when the committed pipeline is stale for shipyard.toml")] = False,
    lock: Annotated[Optional[bool], typer.Option("--lock/--no-lock", help="write the hash-locked files (needs PyPI; "
                                                 "default: on for a new repository, off for --from)")] = None,
) -> None:
    """Scaffold shipyard.toml and the pipeline, regenerate the pipeline (--from), or check it is current (--check)."""
    if check:
        scaffolding.check(from_config or state.config_path)
        ui.result(f"{from_config or state.config_path}: the pipeline matches")
        return
    if from_config is not None:
        render.scaffolded(scaffolding.regenerate(from_config, lock=bool(lock)))
        return
    render.scaffolded(scaffolding.init(directory, given, tuple(alert_email or ()), force=force, lock=lock is not False,
                                       database=database, workloads=tuple(workload or ())))


import_app = typer.Typer(help="Bring an app over from another tool: its config translated, with a report of every key.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("copilot")
def import_copilot(
    directory: Annotated[Path, typer.Argument(help="the app's directory, which holds copilot/ (default: the current directory)")] = Path("."),
    account: Annotated[Optional[list[str]], typer.Option("--account", metavar="ENV=ACCOUNT", help="each environment's 12-digit "
                                                         "AWS account (repeatable; Copilot keeps them outside the workspace)")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="the app's AWS region")] = None,
    repository: Annotated[Optional[str], typer.Option("--repository", help="owner/repo that deploys (default: the Copilot "
                                                                           "pipeline's source)")] = None,
    pipeline: Annotated[bool, typer.Option("--pipeline", help="also write the pipeline, .github/workflows/pipeline.yml")] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing shipyard.toml")] = False,
    output_format: FormatOption = "table",
    use_aws: Annotated[bool, typer.Option("--aws", help="read each environment's account and region from Copilot's records "
                                                        "in the application's account (SSM parameters; default credentials)")] = False,
    profile: Annotated[Optional[str], typer.Option("--profile", help="AWS profile for --aws (implies it)")] = None,
    endpoint: Annotated[Optional[str], typer.Option("--endpoint", help="read them from an embedded AWS instead")] = None,
    app_account: Annotated[Optional[str], typer.Option("--app-account", help="the Copilot application's account "
                                                       "(default: the caller's; required with --endpoint)")] = None,
) -> None:
    """Write shipyard.toml from a Copilot workspace, and report where every manifest key went."""
    records = targets.resolve(use_aws=use_aws, profile=profile, endpoint=endpoint) if use_aws or profile or endpoint else None
    result = importing.import_copilot(directory, accounts=tuple(account or ()), region=region, repository=repository,
                                      pipeline=pipeline, force=force, records=records, app_account=app_account)
    render.imported(result, output_format)
    if result.decisions:
        raise importing.ImportUndecided(str(directory / "copilot"), result.decisions)


@app.command()
def synth(environments: EnvironmentsArg = None,
          out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output directory (default: cdk.out beside shipyard.toml)")] = None) -> None:
    """Write one CloudFormation cloud assembly per environment."""
    render.synth(infrastructure.synth(config(), environments, out))


@app.command()
def check(environments: EnvironmentsArg = None,
          output_format: Annotated[Literal["table", "json", "sarif"], typer.Option("--format", help="table, json or sarif")] = "table",
          fail_on: Annotated[Optional[Literal["error", "warning"]], typer.Option("--fail-on",
                                                        help="error or warning (default: checks.fail_on)")] = None,
          output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write json/sarif here instead of stdout")] = None) -> None:
    """Policy checks on every stack: cdk-nag AwsSolutions, cfn-lint, shipyard's own rules."""
    result = policy.check(config(), environments, fail_on)
    render.check(result, output_format, output)
    exit_with(1 if result.blocking else 0)


@command()
def cost(environments: EnvironmentsArg = None,
         compare: Annotated[Optional[str], typer.Option("--compare", help="'reference': price the reference design side by side")] = None,
         output_format: FormatOption = "table",
         requests: Annotated[Optional[float], typer.Option("--requests", help="millions of requests a month (default: production 10, others 0.5)")] = None,
         transfer_gb: Annotated[Optional[float], typer.Option("--transfer-gb", help="GB served a month (default: production 50, others 2)")] = None,
         lcu: Annotated[Optional[float], typer.Option("--lcu", help="average load balancer capacity units (default: production 1, others 0.1)")] = None,
         log_gb: Annotated[Optional[float], typer.Option("--log-gb", help="GB of logs a month (default: production 5, others 1)")] = None,
         live: Annotated[bool, typer.Option("--live", help="current prices from the AWS Price List Query API (needs --aws), cached a week")] = False,
         target: Choice = Choice()) -> None:
    """Monthly cost of each environment, priced from its synthesized templates."""
    if live and not target.real_aws:
        raise UsageError("--live", "reads the AWS Price List with your credentials", "add --aws (or --profile NAME)")
    overrides = {"requests_millions": requests, "transfer_gb": transfer_gb, "lcu": lcu, "log_gb": log_gb}
    render.costs(costing.estimate(config(), environments, compare=compare, overrides=overrides,
                                  live=target.target() if live else None), output_format)


@app.command()
def local(port: Annotated[Optional[int], typer.Option("--port", help="port on 127.0.0.1 (default 4566, or the next free one)")] = None) -> None:
    """Run the embedded AWS on 127.0.0.1 until Ctrl-C."""
    with targets.embedded_aws(port, search=True) as server:
        try:
            loaded = config()
        except ShipyardError:  # no shipyard.toml here: no environment profiles, the rest works
            loaded = None
        serve_until_interrupted(server, loaded)
