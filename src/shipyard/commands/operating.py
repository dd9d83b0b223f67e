"""Commands for day two: status, logs, exec, explain."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from shipyard import render, ui
from shipyard.app import diagnosis
from shipyard.app.target import Choice
from shipyard.cli_options import (
    EnvironmentArg,
    FormatOption,
    HealthUrlOption,
    ServiceOption,
    YesFlag,
    after_dashes,
    command,
    context,
    exit_with,
)


@command()
def status(environment: EnvironmentArg, target: Choice, output_format: FormatOption = "table",
           watch: Annotated[bool, typer.Option("--watch", help="refresh every few seconds until Ctrl-C")] = False) -> None:
    """Current and last known good digest, deployments, tasks, targets, alarms, releases, endpoint."""
    diagnosis.watch_status(context(environment, target), lambda report: render.status(report, output_format), every=3 if watch else None)


@command()
def logs(environment: EnvironmentArg, target: Choice,
         follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new events until Ctrl-C")] = False,
         since: Annotated[str, typer.Option("--since", help="how far back: 30s, 10m, 2h, 1d")] = "10m",
         text: Annotated[Optional[str], typer.Option("--filter", help="only events containing this text (case-sensitive)")] = None,
         task: Annotated[Optional[str], typer.Option("--task", help="only this task's events (its id, or the start of it)")] = None,
         output_format: Annotated[Literal["table", "json"], typer.Option("--format",
                                                    help="table or json (one object per line)")] = "table",
         service: ServiceOption = None) -> None:
    """The service's logs from CloudWatch Logs, oldest first, with time and task; --follow tails them live."""
    ctx = context(environment, target)
    group = diagnosis.workload_env(ctx, service).names.log_group
    shown = diagnosis.show_logs(ctx, lambda event: render.log_event(event, output_format),
                                lambda mode: ui.info(f"{environment}: following {group} ({mode}); Ctrl-C stops"),
                                since=since, text=text, task=task, follow=follow, service=service)
    if not follow:
        ui.info(f"{environment}: {shown} events since {since} ago in {group}")


@command("exec")
def exec_command(environment: EnvironmentArg, target: Choice,
                 words: Annotated[Optional[list[str]], typer.Argument(metavar="COMMAND", help="the command, after --; without one, a shell")] = None,
                 task: Annotated[Optional[str], typer.Option("--task", help="this task (its id, or the start of it); default: the newest")] = None,
                 yes: YesFlag = False, service: ServiceOption = None) -> None:
    """Run COMMAND (or a shell) in a running task through ECS Exec; the session is logged to the exec log group."""
    words, ctx = after_dashes(words or []), context(environment, target)
    if not words:
        ui.info(f"{environment}: interactive shell; everything it prints is kept in {ctx.env.names.exec_log_group}")
    session = diagnosis.exec_in_task(ctx, words, task=task, yes=yes, service=service)
    render.exec_session(environment, session, ctx.env.names.exec_log_group)
    exit_with(session.exit_code)


@command()
def explain(environment: EnvironmentArg, target: Choice, health_url: HealthUrlOption = None, service: ServiceOption = None) -> None:
    """Why the environment is unhealthy: walks edge -> load balancer -> targets -> tasks (a worker: its queues) and names
    the first broken link."""
    links = diagnosis.explain_environment(context(environment, target), health_url, service=service)
    render.explained(environment, links)
    exit_with(1 if any(link.broken for link in links) else 0)
