"""Thin commands and the one error boundary that maps failures to exit codes."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from shipyard import __version__, ui
from shipyard.config import DEFAULT_CONFIG, Config, load_config
from shipyard.errors import ExitCode, ShipyardError

app = typer.Typer(
    name="shipyard",
    help="Secure two-environment AWS platform for one containerized web service and its static site.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class _State:
    config_path: Path = Path(DEFAULT_CONFIG)
    debug: bool = False

    def config(self) -> Config:
        return load_config(self.config_path)


state = _State()

EnvironmentsArg = Annotated[Optional[list[str]], typer.Argument(help="environments (default: all in shipyard.toml)")]


def _version(value: bool) -> None:
    if value:
        print(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SHIPYARD_CONFIG", help="path to shipyard.toml")] = Path(DEFAULT_CONFIG),
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")] = False,
) -> None:
    state.config_path = config
    state.debug = debug


@app.command()
def validate() -> None:
    """Check shipyard.toml only; nothing else runs."""
    config = state.config()
    envs = ", ".join(f"{e.name} ({e.account}, {e.region})" for e in config.environments.values())
    print(f"{config.path}: valid; environments: {envs}")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="repository to scaffold (default: the current directory)")] = Path("."),
    app_name: Annotated[Optional[str], typer.Option("--app", help="application name")] = None,
    repository: Annotated[Optional[str], typer.Option("--repository", help="GitHub repository owner/repo")] = None,
    region: Annotated[Optional[str], typer.Option("--region", help="AWS region")] = None,
    staging_account: Annotated[Optional[str], typer.Option("--staging-account", help="12-digit account id of staging")] = None,
    production_account: Annotated[Optional[str], typer.Option("--production-account", help="12-digit account id of production")] = None,
    alert_email: Annotated[Optional[list[str]], typer.Option("--alert-email", help="production alert address (repeatable)")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
) -> None:
    """Scaffold shipyard.toml and the CI/deploy workflows (asks for what flags do not give, on a terminal)."""
    import tomllib

    from shipyard.commands import interactive
    from shipyard.config import parse_config
    from shipyard.errors import UsageError
    from shipyard.scaffold import Answers, render, write

    given = {"--app": app_name, "--repository": repository, "--region": region, "--staging-account": staging_account,
             "--production-account": production_account}
    for flag, value in list(given.items()):
        if value is None:
            if not interactive():
                raise UsageError(flag, "is required when not running on a terminal")
            given[flag] = typer.prompt(flag.lstrip("-").replace("-", " "))
    answers = Answers(given["--app"], given["--repository"], given["--region"], given["--staging-account"],
                      given["--production-account"], tuple(alert_email or ()))
    # Validate the answers exactly as shipyard will read them, before writing anything.
    parse_config(tomllib.loads(render(answers)["shipyard.toml"]), directory / "shipyard.toml")
    for path in write(directory, answers, force=force):
        print(f"wrote {path}")
    print("next: add service/ and site/, then `shipyard check` and `shipyard up`; see docs/pipeline.md")


@app.command()
def synth(
    environments: EnvironmentsArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output directory (default: cdk.out beside shipyard.toml)")] = None,
) -> None:
    """Write one CloudFormation cloud assembly per environment."""
    from shipyard.synth import synthesize

    config = state.config()
    selected = config.select(environments)
    started = time.perf_counter()
    assemblies = synthesize(config, selected, out or config.directory / "cdk.out")
    rows = [(a.environment.name, s.name, s.region, s.resource_count, os.path.relpath(s.template_path))
            for a in assemblies for s in a.stacks]
    ui.table("stacks (deploy order)", ["environment", "stack", "region", "resources", "template"], rows)
    ui.info(f"synthesized {len(rows)} stacks for {len(assemblies)} environments in {time.perf_counter() - started:.1f}s")


@app.command()
def check(
    environments: EnvironmentsArg = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or sarif")] = "table",
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="error or warning (default: checks.fail_on)")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write json/sarif here instead of stdout")] = None,
) -> None:
    """Policy checks on every stack: cdk-nag AwsSolutions, cfn-lint, shipyard's own rules."""
    from shipyard.checks import report
    from shipyard.checks.engine import failing, run_checks
    from shipyard.errors import UsageError

    if output_format not in ("table", "json", "sarif"):
        raise UsageError("--format", f"{output_format!r} is not a format; use table, json or sarif")
    if fail_on not in (None, "error", "warning"):
        raise UsageError("--fail-on", f"{fail_on!r} is not a severity; use error or warning")
    config = state.config()
    started = time.perf_counter()
    findings = run_checks(config, config.select(environments), config.directory / "cdk.out")
    if output_format == "table":
        report.table(findings)
    else:
        text = report.as_json(findings) if output_format == "json" else report.as_sarif(findings)
        if output:
            output.write_text(text)
        else:
            sys.stdout.write(text)
    blocking = failing(findings, fail_on or config.checks.fail_on)
    suppressed = sum(1 for f in findings if f.suppressed)
    ui.info(f"{len(findings)} findings: {len(blocking)} failing at --fail-on {fail_on or config.checks.fail_on}, "
            f"{suppressed} suppressed with reasons ({time.perf_counter() - started:.1f}s)")
    if blocking:
        raise typer.Exit(int(ExitCode.FAILURE))


AwsFlag = Annotated[bool, typer.Option("--aws", help="use real AWS (default credentials, or --profile)")]
ProfileOption = Annotated[Optional[str], typer.Option("--profile", help="AWS profile to use (implies --aws)")]
EndpointOption = Annotated[Optional[str], typer.Option(
    "--endpoint", envvar="SHIPYARD_ENDPOINT", help="embedded AWS endpoint printed by `shipyard local`")]
EnvironmentArg = Annotated[str, typer.Argument(help="environment name from shipyard.toml")]


def _setup(environment: str, use_aws: bool, profile: str | None, endpoint: str | None):
    from shipyard.commands import assembly_for, resolve_target, session

    config = state.config()
    env = config.environment(environment)
    target = resolve_target(use_aws=use_aws, profile=profile, endpoint=endpoint)
    return config, env, assembly_for(config, env), session(target, env)


@app.command()
def local(port: Annotated[Optional[int], typer.Option("--port", help="port on 127.0.0.1 (default 4566, or the next free one)")] = None) -> None:
    """Run the embedded AWS on 127.0.0.1 until Ctrl-C."""
    from shipyard.localaws.server import DEFAULT_PORT, EmbeddedAws, port_free

    chosen = port
    if chosen is None:
        chosen = DEFAULT_PORT
        while not port_free(chosen):
            chosen += 1
        if chosen != DEFAULT_PORT:
            ui.info(f"port {DEFAULT_PORT} is busy; using {chosen}")
    with EmbeddedAws(chosen) as aws:
        print(f"embedded AWS listening on {aws.endpoint}")
        print("point shipyard, the AWS CLI or boto3 at it with:")
        for key, value in {"SHIPYARD_ENDPOINT": aws.endpoint, **aws.environment()}.items():
            print(f"  export {key}={value}")
        print("accounts are chosen per request; shipyard picks each environment's own. Ctrl-C stops it.")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            ui.info("stopping the embedded AWS")


@app.command()
def plan(environment: EnvironmentArg, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Show what `deploy` would change (exit 0: nothing, 3: changes pending)."""
    from shipyard.deploy.execute import preview

    _, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    previews = preview(aws, assembly)
    rows = [(p.stack.name, c.action, c.logical_id, c.resource_type, c.replacement or "-", c.why or "-")
            for p in previews for c in p.changes]
    if rows:
        ui.table(f"changes to {env.name}", ["stack", "action", "resource", "type", "replacement", "why"], rows)
    print("deploy order: " + " -> ".join(f"{p.stack.name} ({p.change_set_type.lower() if p.changes else 'no change'})" for p in previews))
    pending = sum(len(p.changes) for p in previews)
    print(f"{pending} resource changes pending" if pending else f"{env.name} is up to date: no changes")
    if pending:
        print(_cost_change(aws, env, assembly))
    if pending:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))


def _cost_change(aws, env, assembly) -> str:
    from shipyard.cost.estimate import Traffic, footprint, price, total
    from shipyard.cost.prices import for_region
    from shipyard.deploy.state import deployed_templates

    prices, traffic = for_region(env.region), Traffic.default(env.is_production)
    before = total(price(footprint(deployed_templates(aws, assembly)), prices, traffic))
    after = total(price(footprint([s.template() for s in assembly.stacks]), prices, traffic))
    return f"monthly cost: {before:.2f} -> {after:.2f} USD ({after - before:+.2f}; `shipyard cost {env.name}` for the lines)"


@app.command()
def cost(
    environments: EnvironmentsArg = None,
    compare: Annotated[Optional[str], typer.Option("--compare", help="'reference': price the reference design side by side")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    requests: Annotated[Optional[float], typer.Option("--requests", help="millions of requests a month (default: production 10, others 0.5)")] = None,
    transfer_gb: Annotated[Optional[float], typer.Option("--transfer-gb", help="GB served a month (default: production 50, others 2)")] = None,
    lcu: Annotated[Optional[float], typer.Option("--lcu", help="average load balancer capacity units (default: production 1, others 0.1)")] = None,
    log_gb: Annotated[Optional[float], typer.Option("--log-gb", help="GB of logs a month (default: production 5, others 1)")] = None,
) -> None:
    """Monthly cost of each environment, priced from its synthesized templates."""
    import dataclasses
    import json as json_

    from shipyard.cost.estimate import Traffic, estimate_environment
    from shipyard.cost.prices import PRICES_DATE, for_region
    from shipyard.errors import UsageError
    from shipyard.synth import synthesize

    if compare not in (None, "reference"):
        raise UsageError("--compare", f"{compare!r} is not a comparison; use reference")
    if output_format not in ("table", "json"):
        raise UsageError("--format", f"{output_format!r} is not a format; use table or json")
    config = state.config()
    selected = config.select(environments)
    prices = {env.name: for_region(env.region) for env in selected}  # an unknown region fails before the synth
    results = []
    for assembly in synthesize(config, selected, config.directory / "cdk.out"):
        env = assembly.environment
        base = Traffic.default(env.is_production)
        traffic = dataclasses.replace(base, **{k: v for k, v in (("requests_millions", requests), ("transfer_gb", transfer_gb),
                                                                 ("lcu", lcu), ("log_gb", log_gb)) if v is not None})
        results.append(estimate_environment(env.name, env.region, env.is_production, [s.template() for s in assembly.stacks],
                                            prices[env.name], traffic, compare == "reference"))
    if output_format == "json":
        print(json_.dumps({"prices_date": PRICES_DATE, "environments": [dataclasses.asdict(r) for r in results]}, indent=2))
        return
    for result in results:
        ui.table(f"{result.environment} ({result.region}): monthly estimate, USD, prices of {PRICES_DATE}",
                 ["item", "detail", "USD/month"], [(line.item, line.detail, f"{line.monthly:.2f}") for line in result.lines])
        summary = f"{result.environment}: {result.total:.2f} USD/month"
        if result.reference_total is not None:
            summary += (f"; reference design {result.reference_total:.2f} USD/month on the same table "
                        f"({100 * result.total / result.reference_total:.0f}% of it)")
        print(summary)
        ui.table(f"{result.environment}: options that cut cost without cutting protection", ["option", "USD/month", "in this blueprint"],
                 [(o.option, f"{o.monthly:.2f}", "yes" if o.applied else "no") for o in result.savings])


@app.command()
def deploy(
    environment: EnvironmentArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm production changes and stack replacement")] = False,
    recover: Annotated[bool, typer.Option("--recover", help="continue a failed update rollback before deploying")] = False,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Deploy an environment's stacks in dependency order through change sets."""
    from shipyard.commands import confirm
    from shipyard.deploy.execute import DeployOptions
    from shipyard.deploy.execute import deploy as run_deploy

    _, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    _confirm_production(env, yes, f"deploy to {env.name} (account {env.account})")
    started = time.perf_counter()
    results = run_deploy(aws, assembly, DeployOptions(recover=recover, confirm=lambda q: confirm(q, yes=yes)))
    ui.table(f"deployed {env.name}", ["stack", "outcome", "changes", "seconds"],
             [(r.stack, r.outcome, r.changes, f"{r.seconds:.1f}") for r in results])
    changed = [r for r in results if r.outcome != "unchanged"]
    ui.info(f"{env.name}: {'no changes; nothing to do' if not changed else f'{len(changed)} stacks changed'} "
            f"({time.perf_counter() - started:.1f}s)")


def _confirm_production(env, yes: bool, action: str) -> None:
    from shipyard.commands import confirm
    from shipyard.errors import UsageError

    if env.is_production and not confirm(f"{action}?", yes=yes):
        raise UsageError(f"environment {env.name}", "is production; changes need confirmation", "pass --yes to confirm")


@app.command()
def verify(environment: EnvironmentArg, use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Check the live environment through AWS's APIs (exit 1 on any failure)."""
    from shipyard.deploy.verify import verify as run_verify

    config, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    results = run_verify(aws, assembly, config.app.repository)
    _print_verify(env.name, results)
    if not all(r.passed for r in results):
        raise typer.Exit(int(ExitCode.FAILURE))


def _print_verify(name: str, results) -> None:
    ui.table(f"verify {name}", ["check", "result", "resource", "detail"],
             [(r.name, "pass" if r.passed else "FAIL", r.resource, r.detail) for r in results])


@app.command("publish-site")
def publish_site(
    environment: EnvironmentArg,
    directory: Annotated[Optional[Path], typer.Argument(help="static files (default: site.directory)")] = None,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Upload the static site (changed files only) and invalidate what changed."""
    from shipyard.deploy.site import publish_environment

    config, env, _, aws = _setup(environment, use_aws, profile, endpoint)
    with ui.progress(f"publishing {env.name}") as advance:
        sync, invalidation = publish_environment(aws, env, directory or config.site_directory, advance)
    ui.info(f"{env.name}: {len(sync.uploads)} uploaded, {len(sync.deletes)} deleted, {sync.unchanged} unchanged"
            + (f"; invalidation {invalidation} for {', '.join(sync.invalidation_paths)}" if invalidation else "; nothing to invalidate"))


@app.command()
def destroy(
    environment: EnvironmentArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm (not enough for production: type its name)")] = False,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Delete an environment's stacks in reverse order; lists what is retained."""
    from shipyard.commands import confirm, interactive
    from shipyard.deploy.destroy import destroy as run_destroy
    from shipyard.deploy.destroy import retained_resources
    from shipyard.errors import UsageError

    _, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    kept = retained_resources(assembly)
    if env.is_production:
        typed = typer.prompt(f"type the environment name ({env.name}) to delete it") if interactive() else ""
        if typed != env.name:
            raise UsageError(f"environment {env.name}", "is production; its name was not typed, nothing was deleted")
    elif not confirm(f"delete every stack of {env.name}?", yes=yes):
        raise UsageError(f"environment {env.name}", "deletion not confirmed; nothing was deleted", "pass --yes")
    deleted = run_destroy(aws, assembly)
    ui.info(f"{env.name}: deleted {', '.join(deleted) or 'nothing (no stacks existed)'}")
    if kept:
        ui.table("retained (delete by hand when no longer needed)", ["stack", "resource", "type", "why"],
                 [(k.stack, k.logical_id, k.resource_type, k.why) for k in kept])


@app.command()
def up(
    use_aws: AwsFlag = False, profile: ProfileOption = None,
    keep: Annotated[bool, typer.Option("--keep", help="keep the embedded AWS running for exploration until Ctrl-C")] = False,
    port: Annotated[Optional[int], typer.Option("--port", help="embedded AWS port (default: a free one)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm production changes (real AWS)")] = False,
) -> None:
    """Deploy every environment, publish the site and verify it; on the embedded AWS unless --aws."""
    from shipyard.up import run_up

    config = state.config()
    ok = run_up(config, use_aws=use_aws or bool(profile), profile=profile, keep=keep, port=port, yes=yes)
    if not ok:
        raise typer.Exit(int(ExitCode.FAILURE))


HealthUrlOption = Annotated[Optional[str], typer.Option(
    "--health-url", help="health URL to gate on (default: https://<distribution><health path>; required on the embedded AWS)")]


def _release_options(config, health_url, rollout_timeout, health_timeout, no_rollback=False, allow_vulnerable=None,
                     override_budget=None):
    from shipyard.release.release import ReleaseOptions

    return ReleaseOptions(health_url=health_url, rollout_timeout=rollout_timeout, health_timeout=health_timeout,
                          health_successes=config.release.health_successes, auto_rollback=not no_rollback,
                          allow_vulnerable=allow_vulnerable, override_budget=override_budget)


def _report_outcome(env_name: str, outcome) -> None:
    for label, attempt in (("release", outcome.attempt), ("rollback", outcome.rollback)):
        if attempt is None:
            continue
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in attempt.timings.items())
        ui.info(f"{env_name}: {label} of {attempt.digest[:19]}: {attempt.verdict} ({timings})")


RolloutTimeout = Annotated[Optional[float], typer.Option("--rollout-timeout", help="seconds to wait for the ECS rollout")]
HealthTimeout = Annotated[Optional[float], typer.Option("--health-timeout", help="seconds for the health gate")]


def _run_release(environment, action, *, health_url, rollout_timeout, health_timeout, **options):
    from shipyard.release.release import ReleaseFailed

    config = state.config()
    opts = _release_options(config, health_url, rollout_timeout or config.release.rollout_timeout,
                            health_timeout or config.release.health_timeout, **options)
    try:
        outcome = action(config, opts)
    except ReleaseFailed as exc:
        _report_outcome(environment, exc.outcome)
        raise
    _report_outcome(environment, outcome)
    print(f"{environment}: released {outcome.attempt.digest}")


@app.command()
def release(
    environment: EnvironmentArg,
    image: Annotated[str, typer.Option("--image", help="repo@sha256:..., sha256:... or a tag in this environment's repository")],
    health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None,
    no_rollback: Annotated[bool, typer.Option("--no-rollback", help="leave a failed release in place")] = False,
    allow_vulnerable: Annotated[Optional[str], typer.Option("--allow-vulnerable", help="reason to release despite HIGH/CRITICAL findings")] = None,
    override_budget: Annotated[Optional[str], typer.Option("--override-budget", help="reason to release to production while the budget alarm is in ALARM")] = None,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release an image: digest -> image parameter -> service stack -> rollout -> health gate -> LKG or rollback."""
    from shipyard.release.release import release as run_release

    _, _env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    _run_release(environment, lambda config, opts: run_release(aws, assembly, image, opts, health_path=config.service.health_check_path),
                 health_url=health_url, rollout_timeout=rollout_timeout, health_timeout=health_timeout, no_rollback=no_rollback,
                 allow_vulnerable=allow_vulnerable, override_budget=override_budget)


@app.command()
def promote(
    source: Annotated[str, typer.Argument(help="environment whose last known good digest is promoted")],
    target: Annotated[str, typer.Argument(help="environment that receives it")],
    digest: Annotated[Optional[str], typer.Option("--digest", help="promote this digest instead of SOURCE's last known good")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="confirm a production release")] = False,
    health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None,
    override_budget: Annotated[Optional[str], typer.Option("--override-budget", help="reason to release while the budget alarm is in ALARM")] = None,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release to TARGET the exact digest that is last known good in SOURCE, copied between registries."""
    from shipyard.commands import assembly_for, session
    from shipyard.release.release import promote as run_promote

    config, env, assembly, aws = _setup(target, use_aws, profile, endpoint)
    _confirm_production(env, yes, f"release to {env.name}")
    src = config.environment(source)
    source_aws = session(aws.target, src)
    source_assembly = assembly_for(config, src)
    _run_release(target, lambda config_, opts: run_promote(source_aws, source_assembly, aws, assembly, opts,
                                                           health_path=config_.service.health_check_path, digest=digest),
                 health_url=health_url, rollout_timeout=rollout_timeout, health_timeout=health_timeout,
                 override_budget=override_budget)


@app.command()
def rollback(
    environment: EnvironmentArg,
    to: Annotated[Optional[str], typer.Option("--to", help="a digest released successfully before")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="how many good releases back")] = 1,
    health_url: HealthUrlOption = None, rollout_timeout: RolloutTimeout = None, health_timeout: HealthTimeout = None,
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Release a previous good digest from the history, with the same verdict rules."""
    from shipyard.release.release import rollback as run_rollback

    _, _env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    _run_release(environment, lambda config, opts: run_rollback(aws, assembly, opts, health_path=config.service.health_check_path,
                                                                to=to, steps=steps),
                 health_url=health_url, rollout_timeout=rollout_timeout, health_timeout=health_timeout)


@app.command()
def status(
    environment: EnvironmentArg,
    watch: Annotated[bool, typer.Option("--watch", help="refresh every few seconds until Ctrl-C")] = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None,
) -> None:
    """Current and last known good digest, deployments, tasks, targets, alarms, releases, endpoint."""
    import json as json_

    from shipyard.release.status import status as read_status

    _, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    while True:
        report = read_status(aws, assembly)
        if output_format == "json":
            print(json_.dumps(report, indent=2))
        else:
            print(f"{env.name} ({report['account']}, {report['region']})  endpoint {report['endpoint']}")
            print(f"  image            {report['current'] or 'none released'}")
            print(f"  last known good  {report['last_known_good'] or 'none'}")
            print(f"  tasks            {report['running']} running / {report['desired']} desired / {report['pending']} pending")
            print(f"  alarms in ALARM  {', '.join(report['alarms_in_alarm']) or 'none'}")
            ui.table("deployments", ["id", "status", "rollout", "running", "desired", "failed", "task definition"],
                     [(d["id"], d["status"], d["rolloutState"], d["runningCount"], d["desiredCount"], d["failedTasks"],
                       str(d["taskDefinition"]).rsplit("/", 1)[-1]) for d in report["deployments"]])
            ui.table("targets", ["target", "state", "reason"], [(t["id"], t["state"], t["reason"]) for t in report["targets"]])
            ui.table("last releases", ["time", "kind", "verdict", "digest", "note"],
                     [(r["time"], r["kind"], r["verdict"], r["digest"][:19], r["note"]) for r in report["releases"]])
        if not watch:
            return
        time.sleep(3)


@app.command()
def explain(environment: EnvironmentArg, health_url: HealthUrlOption = None,
            use_aws: AwsFlag = False, profile: ProfileOption = None, endpoint: EndpointOption = None) -> None:
    """Why the environment is unhealthy: walks edge -> load balancer -> targets -> tasks and names the first broken link."""
    from shipyard.release.release import health_url as default_health_url
    from shipyard.release.status import explain as run_explain

    config, env, assembly, aws = _setup(environment, use_aws, profile, endpoint)
    url = health_url if health_url or aws.target.is_local else default_health_url(aws, env, None, config.service.health_check_path)
    findings = run_explain(aws, assembly, url)
    broken = [f for f in findings if f.broken]
    for finding in findings:
        mark = "BROKEN" if finding.broken else "ok"
        print(f"[{mark:6}] {finding.link}: {finding.detail}")
        if finding.cause:
            print(f"         likely cause: {finding.cause}")
        if finding.hint:
            print(f"         hint: {finding.hint}")
    if broken:
        print(f"first broken link: {broken[0].link}: {broken[0].detail.splitlines()[0]}")
        raise typer.Exit(int(ExitCode.FAILURE))
    print(f"{env.name}: every link from the edge to the tasks is healthy")


@app.command("local-image")
def local_image(
    environment: EnvironmentArg,
    tag: Annotated[str, typer.Argument(help="image tag (e.g. a commit SHA)")],
    fault: Annotated[Optional[str], typer.Option("--fault", help="crash, unhealthy or stuck: how the rollout simulator treats it")] = None,
    vulnerable: Annotated[bool, typer.Option("--vulnerable", help="register HIGH and CRITICAL scan findings")] = False,
    endpoint: EndpointOption = None,
) -> None:
    """Push a synthetic image to the embedded AWS's ECR (it runs no containers); prints its digest."""
    from shipyard.errors import UsageError
    from shipyard.localaws.images import push
    from shipyard.localaws.rollout import FAULTS

    if fault is not None and fault not in FAULTS:
        raise UsageError("--fault", f"{fault!r} is not a fault; use {', '.join(FAULTS)}")
    config, env, _, aws = _setup(environment, False, None, endpoint)
    image = push(aws, env, tag=tag, architecture=config.service.architecture, fault=fault,
                 findings={"HIGH": 2, "CRITICAL": 1} if vulnerable else {})
    print(image.reference)


def run() -> None:
    """Console-script entry point: the single error boundary."""
    try:
        code = app(standalone_mode=False)
        # Without standalone mode click returns typer.Exit's code instead of exiting.
        if isinstance(code, int) and code:
            sys.exit(code)
    except ShipyardError as exc:
        if state.debug:
            traceback.print_exc()
        ui.error(exc.one_line(), exc.hint)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        ui.error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        ui.error("aborted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(int(ExitCode.BAD_INPUT))
        if state.debug:
            raise
        ui.error(f"unexpected error: {exc!r}", "run again with --debug and report the traceback")
        sys.exit(int(ExitCode.FAILURE))
