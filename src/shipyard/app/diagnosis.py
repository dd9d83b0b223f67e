"""Use cases that only read: status and explain."""

from __future__ import annotations

import time
from collections.abc import Callable

from shipyard.app.context import EnvironmentContext
from shipyard.diagnose.explain import Link, explain
from shipyard.diagnose.status import StatusReport, status
from shipyard.release.release import health_url


def read_status(ctx: EnvironmentContext) -> StatusReport:
    return status(ctx.aws, ctx.assembly)


def watch_status(ctx: EnvironmentContext, show: Callable[[StatusReport], None], *, every: float | None) -> None:
    """Show the status once, or every `every` seconds until Ctrl-C."""
    while True:
        show(read_status(ctx))
        if every is None:
            return
        time.sleep(every)


def explain_environment(ctx: EnvironmentContext, given_health_url: str | None) -> list[Link]:
    return explain(ctx.aws, ctx.assembly, health_url(ctx.aws, ctx.env, given_health_url, ctx.config.service.health_check_path))
