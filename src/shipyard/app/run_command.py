"""`shipyard run ENV -- COMMAND`: a one-off task of the environment, its log streamed, its exit code returned."""

from __future__ import annotations

from shipyard.app.context import EnvironmentContext, guard_production
from shipyard.deploy.apply import check_account
from shipyard.errors import UsageError
from shipyard.release import lock
from shipyard.release.images import resolve
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
