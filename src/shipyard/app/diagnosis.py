"""Use cases that only read: status and explain."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from shipyard.app.context import EnvironmentContext, guard_production
from shipyard.app.releases import require_workload, workloads_of
from shipyard.config import Environment
from shipyard.deploy.state import health_url
from shipyard.diagnose import service_logs, task_exec
from shipyard.diagnose.explain import Link, explain
from shipyard.diagnose.status import StatusReport, status


def read_status(ctx: EnvironmentContext) -> StatusReport:
    return status(ctx.aws, ctx.assembly, tuple(w.name for w in workloads_of(ctx.config)), tuple(ctx.config.jobs))


def watch_status(ctx: EnvironmentContext, show: Callable[[StatusReport], None], *, every: float | None) -> None:
    """Show the status once, or every `every` seconds until Ctrl-C."""
    while True:
        show(read_status(ctx))
        if every is None:
            return
        time.sleep(every)


def workload_env(ctx: EnvironmentContext, service: str | None) -> Environment:
    """The environment as `service` sees it (--service NAME), or as [service] does."""
    require_workload(ctx.config, service)
    return ctx.env.workload_view(service) if service else ctx.env


def explain_environment(ctx: EnvironmentContext, given_health_url: str | None, *, service: str | None = None) -> list[Link]:
    workload_env(ctx, service)  # a name that is no workload is a usage error before anything is read
    path = (ctx.config.services[service].health_path if service in ctx.config.services else None) if service else ctx.config.service.health_check_path
    url = health_url(ctx.aws, ctx.env, given_health_url, path) if path else None
    return explain(ctx.aws, ctx.assembly, url, workload=service, job=service in ctx.config.jobs)


def show_logs(ctx: EnvironmentContext, show: Callable[[service_logs.LogEvent], None], on_mode: Callable[[str], None], *,
              since: str, text: str | None, task: str | None, follow: bool, service: str | None = None) -> int:
    """The service's log events since `since` (and, following, new ones until Ctrl-C); the number shown."""
    start = datetime.now(UTC) - service_logs.parse_since(since)
    shown = 0

    def counted(event: service_logs.LogEvent) -> None:
        nonlocal shown
        shown += 1
        show(event)

    if not follow:
        for event in service_logs.read(ctx.aws, workload_env(ctx, service), start=start, text=text, task=task):
            counted(event)
        return shown
    with contextlib.suppress(KeyboardInterrupt):  # the way a follow ends: not an interruption of work
        service_logs.follow(ctx.aws, workload_env(ctx, service), start=start, text=text, task=task, on_event=counted, on_mode=on_mode)
    return shown


def exec_in_task(ctx: EnvironmentContext, command: list[str], *, task: str | None, yes: bool,
                 service: str | None = None) -> task_exec.ExecSession:
    """A command, or a shell, in a running task; production asks first (a shell there is a change of its own kind)."""
    guard_production([ctx.env], yes=yes, action="open an ECS Exec session in")
    emulator = ctx.aws.target.emulator
    return task_exec.execute(ctx.aws, workload_env(ctx, service), emulator.session_plugin if emulator else None, command, task, ctx.aws.target.profile)
