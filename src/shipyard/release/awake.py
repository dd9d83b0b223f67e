"""An environment with awake hours: whether it sleeps now, when that changes, and waking it for a release.

Its two scheduled actions move the scalable target's bounds (to 0..0 at night, back to the configured minimum and
maximum in the morning), and Application Auto Scaling moves the service's desired count into them. Sleeping is
therefore read from the scalable target, not guessed from the clock. A release to a sleeping environment
restores the daytime bounds itself; the next scheduled sleep puts it to sleep again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shipyard.aws import Aws
from shipyard.config import Environment


def bounds(aws: Aws, env: Environment) -> tuple[int, int] | None:
    """(minimum, maximum) of the service's scalable target, or None before it exists."""
    return aws.autoscaling(env.region).service_bounds(env.names.cluster, env.names.service)


def asleep(aws: Aws, env: Environment) -> bool:
    return env.schedule is not None and (bounds(aws, env) or (1, 1))[1] == 0


def describe(env: Environment, sleeping: bool, now: datetime | None = None) -> str | None:
    """'asleep until Mon 07:00 (Mon-Fri 07:00-20:00 Europe/Berlin)', or None for a service that always runs."""
    schedule = env.schedule
    if schedule is None:
        return None
    change = schedule.next_change(now or datetime.now(UTC), awake=not sleeping)
    return f"{'asleep until' if sleeping else 'awake until'} {change:%a %H:%M} ({schedule.text})"


def wake(aws: Aws, env: Environment) -> bool:
    """Restore the daytime bounds of a sleeping environment; True when it was asleep."""
    if not asleep(aws, env):
        return False
    aws.autoscaling(env.region).set_service_bounds(env.names.cluster, env.names.service, env.desired_count, env.max_count)
    return True
