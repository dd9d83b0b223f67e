"""`shipyard preview deploy|list|destroy|prune`: preview environments inside [previews]' base environment.

deploy: the name made safe (naming.preview_name), the plan (slot, expiry, the cap) from the previews that exist, the
images (built here on the embedded AWS; given by digest on AWS, as the pipeline pushes them), the one stack (where the
app has a database, [service]'s task makes the preview's and migrates it before it starts), the site files under
pv/<name>/, the health gate of each web workload through the base's distribution, and the checks that keep a preview
in its place. destroy takes all of it away again: stack, site files (every version), the images it pushed that
nothing else runs, and its database. docs/previews.md.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shipyard import naming, ui
from shipyard.app.local_images import build_local_image
from shipyard.aws import Aws, AwsError, Target
from shipyard.blueprint.preview_database import COMMAND, DROP_SQL, SQL_VARIABLE
from shipyard.blueprint.preview_stack import image_parameter
from shipyard.checks.preview_checks import PreviewCheck, check_previews
from shipyard.config import Config, Environment
from shipyard.config.workloads import PRIMARY
from shipyard.cost.estimate import EnvironmentCost, Traffic, estimate_environment
from shipyard.cost.prices import for_region
from shipyard.deploy.apply import DeployFailed, apply_stack, check_account
from shipyard.deploy.site import PREVIEW_SITE_PREFIX, publish
from shipyard.deploy.state import edge_outputs, edge_url
from shipyard.errors import ShipyardError, UsageError
from shipyard.previews import Preview, format_time, plan_deploy, previews_of
from shipyard.release import awake
from shipyard.release.health import gate
from shipyard.release.one_off import run_task
from shipyard.synth import synthesize_preview

DATABASE_TASK_TIMEOUT = 300.0  # seconds: a task start, and psql's few statements


@dataclass(frozen=True)
class DeployedPreview:
    name: str
    base: str
    url: str
    stack: str
    expires: str
    created: bool  # False: an existing preview updated
    images: dict[str, str]  # workload -> repository@sha256:digest
    checks: list[PreviewCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass(frozen=True)
class DestroyedPreview:
    name: str
    stack: str
    files: int  # object versions deleted
    images: int  # images deleted
    kept_images: int  # images it ran that the base also runs, left where they are


def base_of(config: Config) -> Environment:
    if config.previews is None:
        raise UsageError(config.path.name, "has no [previews] section", "add [previews] (base = \"staging\") and deploy the "
                         "base environment once: it makes what previews share")
    return config.environment(config.previews.base)


def safe_name(given: str) -> str:
    try:
        return naming.preview_name(given)
    except ValueError as exc:
        raise UsageError("NAME", str(exc)) from None


def existing(aws: Aws, config: Config) -> list[Preview]:
    base = base_of(config)
    return previews_of(aws.cloudformation(base.region).stacks(), app=config.app.name, base=base.name)


def deploy_preview(config: Config, target: Target, given: str, *, images: dict[str, str] | None = None,
                   now: datetime | None = None) -> DeployedPreview:
    started, moment = time.monotonic(), now or datetime.now(UTC)
    base, name = base_of(config), safe_name(given)
    aws = Aws(target, base.account)
    check_account(aws, base.account, base.name)
    foundation = _base_outputs(aws, config, base)
    plan = plan_deploy(existing(aws, config), name, cap=config.previews.cap,
                       expires_after_days=config.previews.expires_after_days, now=moment)
    given_images = images if images is not None else _build_images(aws, config, base, name)
    missing = sorted({PRIMARY, *config.workloads} - set(given_images))
    if missing:
        raise UsageError("--image", f"no image given for {', '.join(missing)}", "pass --image NAME=REPOSITORY@sha256:DIGEST for "
                         "each workload (the pipeline's build job pushes them by digest)")
    with tempfile.TemporaryDirectory(prefix="shipyard-preview-") as out:
        assembly = synthesize_preview(config, name, slot=plan.slot, expires=plan.expires, out_dir=Path(out))
        stack = assembly.stacks[0]
        outputs = {source: foundation if source == base.names.foundation_stack else _outputs(aws, base, source)
                   for source, _output in stack.parameters_from.values()}
        parameters = {parameter: outputs[source][output] for parameter, (source, output) in stack.parameters_from.items()}
        parameters |= {image_parameter(workload): reference for workload, reference in given_images.items()}
        ui.info(f"preview {name}: {'creating' if plan.new else 'updating'} {stack.name} in {base.name} ({base.account}, {base.region})")
        services = _service_views(config, base, name)
        replaced = {} if plan.new else _images_of(aws, base, stack.name)
        if not plan.new:
            _wake(aws, name, services)
        # A new preview that fails keeps what it made (no rollback), so that its database, which [service]'s task may
        # have made, is dropped by its own task before the stack goes.
        applied = apply_stack(aws, stack, change_set_type="CREATE" if plan.new else "UPDATE", parameters=parameters,
                              disable_rollback=plan.new)
        try:
            _succeeded(stack.name, applied)
        except ShipyardError:
            if plan.new:  # a preview that never came up leaves nothing behind
                _why_it_stopped(aws, base.preview(name))
                ui.info(f"preview {name}: taking away what was made of it")
                try:
                    _tear_down(aws, config, base, name, stack.name)
                except ShipyardError as teardown:
                    ui.info(f"preview {name}: could not take it away ({teardown}); `shipyard preview destroy {name}` tries again")
            raise
    _bound_outside_hours(aws, config, name, services, moment)
    # The images an update replaced go now: destroy takes away only what the preview runs when it goes.
    _delete_images(aws, config, base, {key: ref for key, ref in replaced.items() if ref not in given_images.values()})
    edge = edge_outputs(aws, base)
    prefix = f"{PREVIEW_SITE_PREFIX}{name}/"
    publish(aws, bucket=edge.site_bucket, region=base.region, distribution_id=edge.distribution_id, directory=config.site_directory,
            prefix=prefix)
    url = preview_url(aws, base, name)
    _gate(config, url.rstrip("/"), name)
    checks = check_previews(aws, base, [name])
    return DeployedPreview(name, base.name, url, stack.name, plan.expires, plan.new, dict(given_images), checks,
                           time.monotonic() - started)


def preview_url(aws: Aws, base: Environment, name: str) -> str:
    """Where viewers reach a preview: with the base's domain, on AWS, its own host (<name>.pv.<domain>, which the
    base's certificate, aliases and wildcard record already cover); otherwise under its prefix on the base's edge (on
    the embedded AWS always: its local edge answers on one address, where no such host resolves)."""
    if base.domain and aws.target.emulator is None:
        return f"https://{name}.{naming.preview_domain(base.domain)}/"
    return f"{edge_url(aws, base)}{naming.preview_path(name)}/"


def destroy_preview(config: Config, target: Target, given: str) -> DestroyedPreview:
    base, name = base_of(config), safe_name(given)
    aws = Aws(target, base.account)
    check_account(aws, base.account, base.name)
    preview = next((p for p in existing(aws, config) if p.name == name), None)
    stack_name = base.preview(name).names.prefix
    images = _images_of(aws, base, stack_name) if preview else {}
    if preview is not None:
        _tear_down(aws, config, base, name, stack_name)
    files = _delete_files(aws, base, name)
    deleted, kept = _delete_images(aws, config, base, images)
    if preview is None and not files and not deleted:
        raise UsageError("NAME", f"no preview {name} in {base.name}", "shipyard preview list shows them")
    return DestroyedPreview(name, stack_name, files, deleted, kept)


def prune_previews(config: Config, target: Target, *, now: datetime | None = None) -> list[DestroyedPreview]:
    """Destroy every expired preview."""
    moment = now or datetime.now(UTC)
    base = base_of(config)
    aws = Aws(target, base.account)
    return [destroy_preview(config, target, preview.name) for preview in existing(aws, config) if preview.expired(moment)]


def list_previews(config: Config, target: Target) -> list[Preview]:
    base = base_of(config)
    return existing(Aws(target, base.account), config)


def preview_cost(config: Config) -> EnvironmentCost:
    """What one preview adds to its base environment a month, from its template, on the dated price table."""
    base = base_of(config)
    with tempfile.TemporaryDirectory(prefix="shipyard-preview-") as out:
        assembly = synthesize_preview(config, "cost", slot=0, expires=format_time(datetime.now(UTC)), out_dir=Path(out))
        return estimate_environment(f"one preview in {base.name}", base.region, False, [assembly.stacks[0].template()],
                                    for_region(base.region), Traffic.default(False), False)


def _base_outputs(aws: Aws, config: Config, base: Environment) -> dict[str, str]:
    foundation = aws.cloudformation(base.region).stack(base.names.foundation_stack)
    if foundation is None or naming.Output.LISTENER_ARN not in foundation.outputs:
        raise ShipyardError(f"environment {base.name}", "does not take previews in yet",
                            f"run `shipyard deploy {base.name}` with [previews] in {config.path.name} first")
    return foundation.outputs


def _outputs(aws: Aws, base: Environment, stack: str) -> dict[str, str]:
    found = aws.cloudformation(base.region).stack(stack)
    if found is None:
        raise ShipyardError(f"environment {base.name}", f"has no stack {stack}", f"run `shipyard deploy {base.name}` first")
    return found.outputs


def _build_images(aws: Aws, config: Config, base: Environment, name: str) -> dict[str, str]:
    """Every workload's image built from its directory and pushed to the base's repositories (embedded AWS only)."""
    if aws.target.emulator is None:
        raise UsageError("--image", "is required on AWS: CI builds and pushes a pull request's images",
                         "pass --image NAME=REPOSITORY@sha256:DIGEST for each workload")
    tag = f"{naming.PREVIEW_INFIX}-{name}-{int(time.time())}"
    built = {PRIMARY: build_local_image(aws, base, directory=config.service_directory, tag=tag, architecture=base.architecture,
                                        command=config.service.command, vulnerable=False).image.reference}
    for workload, settings in config.workloads.items():
        built[workload] = build_local_image(aws, base.workload_view(workload), directory=(config.directory / settings.directory).resolve(),
                                            tag=tag, architecture=base.architecture, command=settings.command,
                                            vulnerable=False).image.reference
    return built


def _gate(config: Config, url: str, name: str) -> None:
    """Each web workload's health path answers through the edge, as a viewer reaches it: all at once, as they start
    at once."""
    paths = [config.service.health_check_path, *(w.health_path for w in config.services.values() if w.kind == "web")]
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = list(pool.map(lambda path: (path, gate(url + path, successes=config.release.health_successes,
                                                         timeout=config.release.health_timeout)), paths))
    for path, result in results:
        if not result.passed:
            raise ShipyardError(f"preview {name}", f"{url}{path} answered {result.last} (not {config.release.health_successes} "
                                f"200s in a row within {config.release.health_timeout}s)",
                                f"shipyard preview destroy {name} takes it away; shipyard logs shows its tasks' output")


def _succeeded(stack: str, applied) -> None:
    if not applied.succeeded:
        raise DeployFailed(stack, applied.failure(), applied.cause.hint if applied.cause else "", applied.cause)


def _service_views(config: Config, base: Environment, name: str) -> list[Environment]:
    """The preview's one service (every workload's container is in its task), with [previews]' awake hours."""
    return [base.preview(name).model_copy(update={"awake": config.previews.awake if config.previews.schedule else None})]


def _wake(aws: Aws, name: str, services: list[Environment]) -> None:
    """A sleeping preview's services back to their one task before its update, which then rolls them out (as a
    release wakes a sleeping environment; _bound_outside_hours ends the wake after the deploy)."""
    for view in services:
        if awake.wake(aws, view, hold=0) is not None:
            ui.info(f"preview {name}: waking {view.names.service} (it sleeps outside {view.awake})")


def _bound_outside_hours(aws: Aws, config: Config, name: str, services: list[Environment], now: datetime) -> None:
    """Deployed outside the awake hours: it runs wake_hours (the base's), then sleeps until the hours begin."""
    schedule = config.previews.schedule
    if schedule is None or schedule.is_awake(now):
        return
    woken = [awake.bound_wake(aws, view, now) for view in services]
    ui.info(f"preview {name}: deployed outside {schedule.text}; {woken[0].text(services[0])}")


def _why_it_stopped(aws: Aws, env: Environment) -> None:
    """[service]'s last stopped task, container by container, and the last lines of the one that failed (its
    database's or its migrations' container): what the circuit breaker's message does not say. Read before the stack
    and its log groups go."""
    ecs = aws.ecs(env.region)
    stopped = ecs.tasks(env.names.cluster, ecs.task_arns(env.names.cluster, env.names.service, "STOPPED"))
    if not stopped:
        return
    task = max(stopped, key=lambda t: t.stopped_at)
    failed = next((c for c in task.containers if c.exit_code not in (None, 0) and not c.reason), None)
    ui.info(f"preview {env.name}: {env.names.service}'s task {task.id} stopped: {task.stopped_reason}; " + ", ".join(
        f"{c.name} exited {c.exit_code}" if c.exit_code is not None else f"{c.name} did not run" for c in task.containers))
    definition = ecs.task_definition(task.task_definition).container(failed.name) if failed else None
    if definition is not None:
        page = aws.logs(env.region).stream(definition.log_group, f"{definition.log_stream_prefix}/{failed.name}/{task.id}",
                                           from_head=False, limit=10)
        for event in page.events if page else ():
            ui.info(f"  {failed.name}: {event.message}")


def _drop_database(aws: Aws, env: Environment) -> None:
    """The preview's one-off task (psql as the server's master user) running DROP_SQL."""
    run = run_task(aws, env, COMMAND, task_definition=env.names.one_off_family, timeout=DATABASE_TASK_TIMEOUT,
                   environment={SQL_VARIABLE: DROP_SQL}, started_by="shipyard-preview",
                   log_group=env.names.workload(naming.ONE_OFF_LOG_PREFIX).log_group, on_line=lambda line: ui.info(f"  {line}"))
    if not run.succeeded:
        raise ShipyardError(f"preview {env.name}", f"its database task (task {run.task_id}) failed: "
                            f"{f'exit code {run.exit_code}' if run.exit_code is not None else run.stopped_reason}",
                            "its output is above; the base's database server must be running (shipyard status)")


def _tear_down(aws: Aws, config: Config, base: Environment, name: str, stack_name: str) -> None:
    """The preview's database (while its stack still holds the task that drops it), then its stack."""
    env = base.preview(name)
    if config.database is not None and aws.ecs(base.region).service_of(env.names.cluster, env.names.service) is not None:
        ui.info(f"preview {name}: dropping its database")
        _drop_database(aws, env)
    ui.info(f"preview {name}: deleting {stack_name}")
    _delete_stack(aws, base, stack_name)


def _images_of(aws: Aws, base: Environment, stack: str) -> dict[str, str]:
    found = aws.cloudformation(base.region).stack(stack)
    return {key: value for key, value in (found.parameters if found else {}).items() if key.startswith("Image")}


def _delete_stack(aws: Aws, base: Environment, name: str) -> None:
    from shipyard.deploy.apply import delete_stack
    from shipyard.synth import StackArtifact

    delete_stack(aws, StackArtifact(name=name, account=base.account, region=base.region, template_path=Path("-"), depends_on=()))


def _delete_files(aws: Aws, base: Environment, name: str) -> int:
    """Every version of the preview's site files (the bucket keeps replaced ones), and their cached copies."""
    edge = edge_outputs(aws, base)
    prefix = f"{PREVIEW_SITE_PREFIX}{name}/"
    s3 = aws.s3(base.region)
    versions = [(key, version) for key, version in s3.versions(edge.site_bucket) if key.startswith(prefix)]
    s3.delete(edge.site_bucket, versions)
    if versions:
        aws.cloudfront().invalidate(edge.distribution_id, [f"/{prefix}*"], f"{prefix}{time.time_ns()}")
    return len(versions)


def _delete_images(aws: Aws, config: Config, base: Environment, images: dict[str, str]) -> tuple[int, int]:
    """The images the preview ran, unless the base runs them too (a preview of what is released)."""
    ssm = aws.ssm(base.region)
    running = {ssm.get(base.names.image_parameter), *(ssm.get(base.names.workload(w).image_parameter) for w in config.workloads)}
    deleted = kept = 0
    for reference in images.values():
        if reference in running:
            kept += 1
            continue
        repository_uri, _, digest = reference.partition("@")
        try:
            aws.ecr(base.region).delete_images(repository_uri.split("/", 1)[1], [digest])
            deleted += 1
        except AwsError as exc:
            ui.info(f"{reference}: not deleted ({exc.what})")
    return deleted, kept

