"""Parse arguments, call one use case per command, render its result; the one error boundary."""

from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Optional

import click
import typer

from shipyard import __version__, render, ui
from shipyard.app import costing, diagnosis, infrastructure, policy, releases, run_command, scaffolding
from shipyard.app import target as targets
from shipyard.app.context import open_environment
from shipyard.app.up import up as run_up
from shipyard.config import DEFAULT_CONFIG, Config, load_config
from shipyard.errors import ExitCode, ShipyardError, UsageError
from shipyard.release.attempt import ReleaseFailed

app = typer.Typer(name="shipyard", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Secure two-environment AWS platform for one containerized web service and its static site.")


state = SimpleNamespace(config_path=Path(DEFAULT_CONFIG), debug=False)  # set by the global options

EnvironmentsArg = Annotated[Optional[list[str]], typer.Argument(help="environments (default: all in shipyard.toml)")]
EnvironmentArg = Annotated[str, typer.Argument(help="environment name from shipyard.toml")]
AwsFlag = Annotated[bool, typer.Option("--aws", help="use real AWS (default credentials, or --profile)")]
ProfileOption = Annotated[Optional[str], typer.Option("--profile", help="AWS profile to use (implies --aws)")]
EndpointOption = Annotated[Optional[str], typer.Option("--endpoint", envvar="SHIPYARD_ENDPOINT", help="embedded AWS endpoint printed by `shipyard local`")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="confirm changes to production (and stack replacement)")]
HealthUrlOption = Annotated[Optional[str], typer.Option(
    "--health-url", help="health URL to gate on (default: https://<distribution><health path>; required on the embedded AWS)")]
RolloutTimeout = Annotated[Optional[float], typer.Option("--rollout-timeout", help="seconds to wait for the ECS rollout")]
HealthTimeout = Annotated[Optional[float], typer.Option("--health-timeout", help="seconds for the health gate")]
BreakLock = Annotated[bool, typer.Option("--break-lock", help="break another release's lock whose lease has expired")]
OverrideBudget = Annotated[Optional[str], typer.Option("--override-budget", help="reason to release to production while the budget alarm is in ALARM")]


def _version(value: bool) -> None:
    if value:
        ui.result(f"shipyard {__version__}")
        raise typer.Exit


@app.callback()
def main(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SHIPYARD_CONFIG", help="path to shipyard.toml")] = Path(DEFAULT_CONFIG),
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="print every CloudFormation event on a terminal too")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")] = False,
) -> None:
    state.config_path, state.debug, ui.verbose = config, debug, verbose


def _config() -> Config:
    return load_config(state.config_path)


def _context(environment: str, use_aws: bool, profile: str | None, endpoint: str | None):
    return open_environment(_config(), environment, targets.resolve(use_aws=use_aws, profile=profile, endpoint=endpoint))


def _after_dashes(command: list[str]) -> list[str]:
    """The command given after --: options end at ENVIRONMENT, so click keeps the -- itself."""
    return command[1:] if command[:1] == ["--"] else command


def _fail_unless(ok: bool) -> None:
    if not ok:
        raise typer.Exit(int(ExitCode.FAILURE))


def _choice(flag: str, value: str | None, allowed: tuple[str | None, ...]) -> None:
    if value not in allowed:
        raise UsageError(flag, f"{value!r} is not valid; use {', '.join(a for a in allowed[:-1] if a)} or {allowed[-1]}")


@app.command()
def validate() -> None:
    """Check shipyard.toml only (every problem in one run); nothing else runs."""
    config = _config()
    policy.require_valid_config(config)
    ui.result(f"{config.path}: valid; environments: " + ", ".join(f"{e.name} ({e.account}, {e.region})" for e in config.environments.values()))


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="repository to scaffold (default: the current directory)")] = Path("."),
    app_name: Annotated[Optional[str], typer.Option("--app", help="application name")] = None,
    repository: Annotated[Optional[str], typer.Option("--repository", help="GitHub repository owner/repo")] = None,
    owner_id: Annotated[Optional[int], typer.Option("--repository-owner-id", help="the owner's numeric id (immutable OIDC subject)")] = None,
    repository_id: Annotated[Optional[int], typer.Option("--repository-id", help="the repository's numeric id (immutable OIDC subject)")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="AWS region")] = None,
    staging_account: Annotated[Optional[str], typer.Option("--staging-account", help="12-digit account id of staging")] = None,
    production_account: Annotated[Optional[str], typer.Option("--production-account", help="12-digit account id of production")] = None,
    alert_email: Annotated[Optional[list[str]], typer.Option("--alert-email", help="production alert address (repeatable)")] = None,
    database: Annotated[bool, typer.Option("--database", help="add RDS for PostgreSQL, migrations in releases and per-environment "
                                                              "sizes (docs/database.md); creates service/migrations")] = False,
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
    given = {"--app": app_name, "--repository": repository, "--repository-owner-id": owner_id, "--repository-id": repository_id,
             "--region": region, "--staging-account": staging_account, "--production-account": production_account}
    render.scaffolded(scaffolding.init(directory, given, tuple(alert_email or ()), force=force, lock=lock is not False,
                                       database=database))


@app.command()
def synth(environments: EnvironmentsArg = None,
          out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output directory (default: cdk.out beside shipyard.toml)")] = None) -> None:
    """Write one CloudFormation cloud assembly per environment."""
    render.synth(infrastructure.synth(_config(), environments, out))


@app.command()
def check(
    environments: EnvironmentsArg = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or sarif")] = "table",
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="error or warning (default: checks.fail_on)")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write json/sarif here instead of stdout")] = None,
) -> None:
    """Policy checks on every stack: cdk-nag AwsSolutions, cfn-lint, shipyard's own rules."""
    _choice("--format", output_format, ("table", "json", "sarif"))
    _choice("--fail-on", fail_on, (None, "error", "warning"))
    result = policy.check(_config(), environments, fail_on)
    render.check(result, output_format, output)
    _fail_unless(not result.blocking)


@app.command()
def local(port: Annotated[Optional[int], typer.Option("--port", help="port on 127.0.0.1 (default 4566, or the next free one)")] = None) -> None:
    """Run the embedded AWS on 127.0.0.1 until Ctrl-C."""
    with targets.embedded_aws(port, search=True) as server:
        try:
            config = _config()
        except ShipyardError:  # no shipyard.toml here: no environment profiles, the rest works
            config = None
        targets.serve_until_interrupted(server, config)


@app.command()
def plan(environment: EnvironmentArg, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Show what `deploy` would change (exit 0: nothing, 3: changes pending)."""
    report = infrastructure.plan(_context(environment, use_aws, profile, endpoint))
    render.plan(report)
    if report.pending:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


@app.command()
def cost(
    environments: EnvironmentsArg = None,
    compare: Annotated[Optional[str], typer.Option("--compare", help="'reference': price the reference design side by side")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    requests: Annotated[Optional[float], typer.Option("--requests", help="millions of requests a month (default: production 10, others 0.5)")] = None,
    transfer_gb: Annotated[Optional[float], typer.Option("--transfer-gb", help="GB served a month (default: production 50, others 2)")] = None,
    lcu: Annotated[Optional[float], typer.Option("--lcu", help="average load balancer capacity units (default: production 1, others 0.1)")] = None,
    log_gb: Annotated[Optional[float], typer.Option("--log-gb", help="GB of logs a month (default: production 5, others 1)")] = None,
    live: Annotated[bool, typer.Option("--live", help="current prices from the AWS Price List Query API (needs --aws), cached a week")] = False,
    use_aws: AwsFlag = False, profile: ProfileOption = None,
) -> None:
    """Monthly cost of each environment, priced from its synthesized templates."""
    _choice("--format", output_format, ("table", "json"))
    if live and not (use_aws or profile):
        raise UsageError("--live", "reads the AWS Price List with your credentials", "add --aws (or --profile NAME)")
    overrides = {"requests_millions": requests, "transfer_gb": transfer_gb, "lcu": lcu, "log_gb": log_gb}
    render.costs(costing.estimate(_config(), environments, compare=compare, overrides=overrides,
                                  live=targets.real(profile) if live else None), output_format)


@app.command()
def deploy(environment: EnvironmentArg, yes: YesFlag = False,
           recover: Annotated[bool, typer.Option("--recover", help="continue a failed update rollback before deploying")] = False,
           dns_wait: Annotated[Optional[float], typer.Option(
               "--dns-wait", min=1, max=720, help="minutes to wait for DNS validation records made by hand (dns = \"external\"; default 30)")] = None,
           use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Deploy an environment's stacks in dependency order through change sets."""
    render.deployed(infrastructure.deploy_environment(_context(environment, use_aws, profile, endpoint), yes=yes, recover=recover,
                                                      dns_wait_minutes=dns_wait))


@app.command()
def verify(environment: EnvironmentArg, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Check the live environment through AWS's APIs (exit 1 on any failure)."""
    results = infrastructure.verify_environment(_context(environment, use_aws, profile, endpoint))
    render.verified(environment, results)
    _fail_unless(all(r.passed for r in results))


@app.command("publish-site")
def publish_site(environment: EnvironmentArg,
                 directory: Annotated[Optional[Path], typer.Argument(help="static files (default: site.directory)")] = None,
                 use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Upload the static site (changed files only) and invalidate what changed."""
    render.published(infrastructure.publish_site(_context(environment, use_aws, profile, endpoint), directory))


@app.command()
def destroy(environment: EnvironmentArg,
            yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm (not enough for production: type its name)")] = False,
            use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Delete an environment's stacks in reverse order; lists what is retained."""
    render.destroyed(infrastructure.destroy_environment(_context(environment, use_aws, profile, endpoint), yes=yes))


@app.command()
def up(use_aws: AwsFlag = False, profile: ProfileOption = None, yes: YesFlag = False,
       keep: Annotated[bool, typer.Option("--keep", help="keep the embedded AWS running for exploration until Ctrl-C")] = False,
       port: Annotated[Optional[int], typer.Option("--port", help="embedded AWS port (default: a free one)")] = None) -> None:
    """Deploy every environment, publish the site and verify it; on the embedded AWS unless --aws."""
    report = run_up(_config(), use_aws=use_aws or bool(profile), profile=profile, port=port, yes=yes, keep=keep, on_ready=render.up)
    _fail_unless(report.passed)


@app.command()
def release(
    environment: EnvironmentArg,
    image: Annotated[str, typer.Option("--image", help="repo@sha256:..., sha256:... or a tag in this environment's repository")],
    yes: YesFlag = False, health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None, break_lock: BreakLock = False,
    no_rollback: Annotated[bool, typer.Option("--no-rollback", help="leave a failed release in place")] = False,
    allow_vulnerable: Annotated[Optional[str], typer.Option("--allow-vulnerable", help="reason to release despite HIGH/CRITICAL findings")] = None,
    override_budget: OverrideBudget = None, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release an image: digest -> image parameter -> service stack -> rollout -> health gate -> LKG or rollback."""
    ctx, gate = _context(environment, use_aws, profile, endpoint), releases.Gate(health_url, rollout_timeout, health_timeout, break_lock)
    render.released(environment, releases.release(ctx, image, gate, yes=yes, auto_rollback=not no_rollback,
                                                  allow_vulnerable=allow_vulnerable, override_budget=override_budget))


@app.command()
def promote(
    source: Annotated[str, typer.Argument(help="environment whose last known good digest is promoted")],
    target: Annotated[str, typer.Argument(help="environment that receives it")],
    digest: Annotated[Optional[str], typer.Option("--digest", help="promote this digest instead of SOURCE's last known good")] = None,
    yes: YesFlag = False, health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None, break_lock: BreakLock = False,
    override_budget: OverrideBudget = None, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release to TARGET the exact digest that is last known good in SOURCE, copied between registries."""
    ctx, gate = _context(target, use_aws, profile, endpoint), releases.Gate(health_url, rollout_timeout, health_timeout, break_lock)
    render.released(target, releases.promote(ctx, source, gate, yes=yes, digest=digest, override_budget=override_budget))


@app.command()
def rollback(
    environment: EnvironmentArg,
    to: Annotated[Optional[str], typer.Option("--to", help="a digest released successfully before")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="how many good releases back")] = 1,
    yes: YesFlag = False, health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None, break_lock: BreakLock = False,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release a previous good digest from the history, with the same verdict rules."""
    ctx, gate = _context(environment, use_aws, profile, endpoint), releases.Gate(health_url, rollout_timeout, health_timeout, break_lock)
    render.released(environment, releases.rollback(ctx, gate, yes=yes, to=to, steps=steps))


@app.command("run", context_settings={"allow_interspersed_args": False})
def run_one_off(
    environment: EnvironmentArg,
    command: Annotated[list[str], typer.Argument(help="the command, after --: shipyard run staging -- python migrate.py")],
    digest: Annotated[Optional[str], typer.Option("--digest", help="run this image (repo@sha256:..., sha256:... or a tag) "
                                                                  "instead of the service's current one")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=10, max=86400, help="seconds the task may run before it is stopped")] = 900,
    yes: YesFlag = False, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Run a one-off task of the service's task definition with COMMAND; stream its log; exit with its exit code."""
    command = _after_dashes(command)
    run = run_command.run_command(_context(environment, use_aws, profile, endpoint), command, digest=digest, timeout=timeout, yes=yes)
    render.one_off(environment, run)
    if run.exit_code != 0:
        raise typer.Exit(run.exit_code if run.exit_code is not None else int(ExitCode.FAILURE))


@app.command()
def status(environment: EnvironmentArg,
           watch: Annotated[bool, typer.Option("--watch", help="refresh every few seconds until Ctrl-C")] = False,
           output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
           use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Current and last known good digest, deployments, tasks, targets, alarms, releases, endpoint."""
    _choice("--format", output_format, ("table", "json"))
    diagnosis.watch_status(_context(environment, use_aws, profile, endpoint), lambda report: render.status(report, output_format),
                           every=3 if watch else None)


@app.command()
def logs(environment: EnvironmentArg,
         follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new events until Ctrl-C")] = False,
         since: Annotated[str, typer.Option("--since", help="how far back: 30s, 10m, 2h, 1d")] = "10m",
         text: Annotated[Optional[str], typer.Option("--filter", help="only events containing this text (case-sensitive)")] = None,
         task: Annotated[Optional[str], typer.Option("--task", help="only this task's events (its id, or the start of it)")] = None,
         output_format: Annotated[str, typer.Option("--format", help="table or json (one object per line)")] = "table",
         use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """The service's logs from CloudWatch Logs, oldest first, with time and task; --follow tails them live."""
    _choice("--format", output_format, ("table", "json"))
    ctx = _context(environment, use_aws, profile, endpoint)
    shown = diagnosis.show_logs(ctx, lambda event: render.log_event(event, output_format),
                                lambda mode: ui.info(f"{environment}: following {ctx.env.names.log_group} ({mode}); Ctrl-C stops"),
                                since=since, text=text, task=task, follow=follow)
    if not follow:
        ui.info(f"{environment}: {shown} events since {since} ago in {ctx.env.names.log_group}")


@app.command("exec", context_settings={"allow_interspersed_args": False})
def exec_command(
    environment: EnvironmentArg,
    command: Annotated[Optional[list[str]], typer.Argument(help="the command, after --; without one, a shell")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="this task (its id, or the start of it); default: the newest")] = None,
    yes: YesFlag = False, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Run COMMAND (or a shell) in a running task through ECS Exec; the session is logged to the exec log group."""
    command = _after_dashes(command or [])
    ctx = _context(environment, use_aws, profile, endpoint)
    if not command:
        ui.info(f"{environment}: interactive shell; everything it prints is kept in {ctx.env.names.exec_log_group}")
    session = diagnosis.exec_in_task(ctx, command, task=task, yes=yes)
    render.exec_session(environment, session, ctx.env.names.exec_log_group)
    if session.exit_code != 0:
        raise typer.Exit(session.exit_code)


@app.command()
def explain(environment: EnvironmentArg, health_url: HealthUrlOption = None,
            use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Why the environment is unhealthy: walks edge -> load balancer -> targets -> tasks and names the first broken link."""
    links = diagnosis.explain_environment(_context(environment, use_aws, profile, endpoint), health_url)
    render.explained(environment, links)
    _fail_unless(not any(link.broken for link in links))


@app.command("local-image")
def local_image(
    environment: EnvironmentArg,
    tag: Annotated[str, typer.Argument(help="image tag (e.g. a commit SHA)")],
    service_dir: Annotated[Optional[Path], typer.Option("--service-dir", help="build context (default: service.directory)")] = None,
    vulnerable: Annotated[bool, typer.Option("--vulnerable", help="register HIGH and CRITICAL scan findings")] = False,
    endpoint: EndpointOption = None,
) -> None:
    """Build the service directory into an image and push it to the embedded AWS's ECR; prints its reference."""
    ctx = _context(environment, False, None, endpoint)
    image = targets.build_local_image(ctx.aws, ctx.env, directory=service_dir or ctx.config.service_directory, tag=tag,
                                      architecture=ctx.env.architecture, command=ctx.config.service.command, vulnerable=vulnerable)
    ui.result(image.reference)


GLOBAL_OPTIONS = ("--config", "-c", "--debug", "--verbose")


def run() -> None:
    """Console-script entry point: the single error boundary."""
    # SIGTERM (a cancelled CI job) ends like Ctrl-C: what was running is recorded, exit 130.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        code = app(standalone_mode=False)
        # Without standalone mode click returns typer.Exit's code instead of exiting.
        if isinstance(code, int) and code:
            sys.exit(code)
    except ShipyardError as exc:
        if state.debug:
            traceback.print_exc()
        if isinstance(exc, ReleaseFailed):  # what was tried and timed, before the verdict
            render.attempts(exc.outcome)
        *first, last = exc.lines()
        for line in first:
            ui.error(line)
        ui.error(last, exc.hint)
        sys.exit(int(exc.exit_code))
    except (KeyboardInterrupt, typer.Abort):
        ui.error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # click usage errors (typer's own click, too) and anything unexpected
        if isinstance(exc, (click.ClickException, typer.TyperException)) and hasattr(exc, "show"):
            exc.show()
            if getattr(exc, "option_name", "") in GLOBAL_OPTIONS:
                ui.error(f"{exc.option_name} is a global option", f"put it before the command: shipyard {exc.option_name} ... "
                         f"{' '.join(sys.argv[1:2])} ...")
            sys.exit(int(ExitCode.BAD_INPUT))
        if state.debug:
            raise
        ui.error(f"unexpected error: {exc!r}", "run again with --debug and report the traceback")
        sys.exit(int(ExitCode.FAILURE))
