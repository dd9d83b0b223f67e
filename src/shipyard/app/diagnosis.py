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
    # The embedded AWS has no CloudFront edge to probe; there only a given URL is checked.
    url = given_health_url
    if url is None and not ctx.aws.target.is_local:
        url = health_url(ctx.aws, ctx.env, None, ctx.config.service.health_check_path)
    return explain(ctx.aws, ctx.assembly, url)
