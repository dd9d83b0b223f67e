"""`shipyard run ENV -- COMMAND`: a one-off task of the environment, its log streamed, its exit code returned; `shipyard run
ENV --job NAME`: one run of a scheduled job now."""

from __future__ import annotations

from shipyard.app.context import EnvironmentContext, guard_production
from shipyard.deploy.apply import check_account
from shipyard.errors import UsageError
from shipyard.release import lock
from shipyard.release.images import resolve
from shipyard.release.job_run import JobRun, run_job
from shipyard.release.one_off import OneOffRun, current_task_definition, prepare_image, run_task


def run_command(ctx: EnvironmentContext, command: list[str], *, digest: str | None, timeout: float, yes: bool) -> OneOffRun:
    if not command:
        raise UsageError("shipyard run", "needs a command after --, e.g. shipyard run staging -- python migrate.py")
    guard_production([ctx.env], yes=yes, action="run a one-off task in")
    env = ctx.env
    check_account(ctx.aws, env.account, env.name)
    if digest is None:
        return run_task(ctx.aws, env, command, task_definition=current_task_definition(ctx.aws, env), timeout=timeout)
    image = resolve(ctx.aws, env, digest)
    # The one-off family's image goes through the service stack, which a release must not change meanwhile.
    with lock.holding(ctx.aws, env, action="run", lease=timeout + 900):
        definition = prepare_image(ctx.aws, ctx.assembly, image.reference, timeout=900)
    return run_task(ctx.aws, env, command, task_definition=definition, timeout=timeout)


def run_job_now(ctx: EnvironmentContext, job: str, *, timeout: float, yes: bool) -> JobRun:
    """--job NAME: one run of the scheduled job now, as its schedule would start it (its state machine), followed to
    its end."""
    if job not in ctx.config.jobs:
        raise UsageError(f"--job {job}", f"is not a job of {ctx.config.path.name}; jobs: {', '.join(ctx.config.jobs) or 'none'}",
                         "add a [jobs.<name>] table, or run a command with -- COMMAND")
    guard_production([ctx.env], yes=yes, action="run a job in")
    check_account(ctx.aws, ctx.env.account, ctx.env.name)
    return run_job(ctx.aws, ctx.env.workload_view(job), timeout=timeout, reason="manual")
