"""One-off Fargate tasks of an environment: `shipyard run` and a release's migrations.

A one-off task runs a task definition of the environment (the service's current revision, or the one-off family
with an image of the caller's choosing) in the service's own subnets, security group and capacity, with the
command replaced. Its output is read from its CloudWatch Logs stream as it runs, and its verdict is what ECS
reports: the container's exit code, or the stopped reason when it never ran. The wait is bounded; a timeout or
Ctrl-C stops the task (StopTask) before returning.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shipyard import ui
from shipyard.aws import Aws, AwsError
from shipyard.aws.ecs import Service
from shipyard.config import Environment
from shipyard.deploy.apply import apply_stack
from shipyard.deploy.state import task_definition_of
from shipyard.errors import ExitCode, ShipyardError
from shipyard.naming import CONTAINER, NO_IMAGE, ONE_OFF_LOG_PREFIX, SERVICE_LOG_PREFIX
from shipyard.synth import EnvironmentAssembly

LOG_SETTLE = 5.0  # seconds the awslogs driver may take to deliver a stopped task's last lines


class TaskInterrupted(ShipyardError):
    exit_code = ExitCode.INTERRUPTED


@dataclass
class OneOffRun:
    task_arn: str
    exit_code: int | None = None  # None: the container never ran or never reported
    stopped_reason: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


def current_task_definition(aws: Aws, env: Environment) -> str:
    """The task definition the service runs now; refused when nothing was released yet."""
    service = _service(aws, env)
    if aws.ssm(env.region).get(env.names.image_parameter) in (None, NO_IMAGE):
        raise ShipyardError(f"environment {env.name}", "has no released image to run a task of",
                            f"release one first, or pass --digest (an image in {env.names.repository})")
    return service.task_definition


def prepare_image(aws: Aws, assembly: EnvironmentAssembly, reference: str, *, timeout: float) -> str:
    """Point the one-off family at `reference` (its SSM parameter, then the service stack): its new revision's ARN."""
    env = assembly.environment
    ssm = aws.ssm(env.region)
    if ssm.get(env.names.one_off_image_parameter) != reference:
        ssm.put(env.names.one_off_image_parameter, reference)
        # Same template, re-resolved: only the one-off task definition changes (the service's image parameter did not).
        applied = apply_stack(aws, assembly.stack(env.names.service_stack), change_set_type="UPDATE", parameters={},
                              timeout=timeout, use_previous_template=True)
        if not applied.succeeded:
            raise ShipyardError(env.names.service_stack, f"could not register a one-off task definition: {applied.failure()}")
    return task_definition_of(aws, env, env.names.one_off_family)


def run_task(aws: Aws, env: Environment, command: list[str], *, task_definition: str, timeout: float,
             environment: dict[str, str] | None = None, on_line: Callable[[str], None] = ui.info,
             started_by: str = "shipyard-run", log_group: str | None = None) -> OneOffRun:
    """Run `command` in a one-off task and wait for it to stop (at most `timeout` seconds). log_group: the task
    definition's, where it is not the environment's service log group (a preview's workloads have their own)."""
    ecs = aws.ecs(env.region)
    started = ecs.run_task(cluster=env.names.cluster, task_definition=task_definition, like=_service(aws, env), container=CONTAINER,
                           command=command, environment=environment or {}, started_by=started_by)
    if started.task_arn is None:
        raise ShipyardError(f"environment {env.name}", f"ECS did not start the task: {started.failure}")
    run = OneOffRun(started.task_arn)
    family = task_definition.rsplit("/", 1)[-1].split(":", 1)[0]  # an ARN or a family name (its latest revision)
    prefix = ONE_OFF_LOG_PREFIX if family == env.names.one_off_family else SERVICE_LOG_PREFIX
    logs = _LogReader(aws, env.region, log_group or env.names.log_group, f"{prefix}/{CONTAINER}/{run.task_id}", on_line, run.lines)
    deadline = time.monotonic() + timeout
    try:
        with ui.waiting(f"{env.name}: one-off task {run.task_id}") as show:
            while True:
                task = ecs.tasks(env.names.cluster, [run.task_arn])[0]
                logs.read()
                if task.last_status == "STOPPED":
                    run.stopped_reason = task.stopped_reason
                    container = task.container(CONTAINER)
                    run.exit_code = container.exit_code if container else None
                    logs.drain()
                    return run
                if time.monotonic() > deadline:
                    _stop(aws, env, run, f"shipyard: no verdict within {timeout:.0f}s")
                    raise ShipyardError(f"task {run.task_id}", f"did not finish within {timeout:.0f}s; it was stopped",
                                        "raise --timeout, or look at its log above")
                show(f"{(task.last_status or 'PROVISIONING').lower()}, {len(run.lines)} log lines")
                time.sleep(aws.target.lasts(1.0, at_least=0.2))
    except KeyboardInterrupt:
        _stop(aws, env, run, "shipyard: interrupted (Ctrl-C)")
        raise TaskInterrupted(f"task {run.task_id}", "interrupted; the task was stopped (StopTask)") from None


def _service(aws: Aws, env: Environment) -> Service:
    service = aws.ecs(env.region).service_of(env.names.cluster, env.names.service)
    if service is None:
        raise ShipyardError(f"environment {env.name}", "has no service to take the network settings from",
                            f"run `shipyard deploy {env.name}` first")
    return service


def _stop(aws: Aws, env: Environment, run: OneOffRun, reason: str) -> None:
    try:
        aws.ecs(env.region).stop_task(env.names.cluster, run.task_arn, reason)
    except AwsError as exc:
        ui.info(f"{env.name}: could not stop task {run.task_id}: {exc.what}")


class _LogReader:
    """The task's awslogs stream, read forward with GetLogEvents; lines go to on_line as they arrive."""

    def __init__(self, aws: Aws, region: str, group: str, stream: str, on_line: Callable[[str], None], lines: list[str]) -> None:
        self.aws, self.region, self.group, self.stream, self.on_line, self.lines = aws, region, group, stream, on_line, lines
        self.token: str | None = None

    def read(self) -> int:
        page = self.aws.logs(self.region).stream(self.group, self.stream, token=self.token)
        if page is None:  # the stream appears when the container writes its first line
            return 0
        self.token = page.next_token
        for event in page.events:
            self.lines.append(event.message)
            self.on_line(event.message)
        return len(page.events)

    def drain(self) -> None:
        """After the task stopped: read until the stream is quiet (the driver delivers the last lines late)."""
        lasts = self.aws.target.lasts
        deadline = time.monotonic() + lasts(LOG_SETTLE, at_least=1.0)
        quiet = 0
        while time.monotonic() < deadline and quiet < 2:
            quiet = quiet + 1 if self.read() == 0 else 0
            time.sleep(lasts(0.5, at_least=0.1))
