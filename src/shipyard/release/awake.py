"""An environment with awake hours: whether it sleeps now, when that changes, and waking it for a release.

Its two scheduled actions move the scalable target's bounds (to 0..0 at night, back to the configured minimum and
maximum in the morning), and Application Auto Scaling moves the service's desired count into them. Sleeping is
therefore read from the scalable target, not guessed from the clock. A release to a sleeping environment restores
the daytime bounds itself and, unless the schedule wakes it sooner, leaves a one-time scheduled action that puts it
to sleep again after wake_hours (Application Auto Scaling, "Scheduled scaling": at(...) runs once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shipyard.aws import Aws
from shipyard.config import Environment

WAKE_ENDS = "shipyard-wake-ends"  # the one-time scheduled action that ends a wake for a release


@dataclass(frozen=True)
class Woken:
    sleeps_at: datetime | None  # when the wake ends; None: the schedule woke it first, the next scheduled sleep ends it

    def text(self, env: Environment) -> str:
        if self.sleeps_at is None:
            return "the scheduled hours begin before the wake would end; the next scheduled sleep stops the tasks"
        return f"it sleeps again at {self.sleeps_at.astimezone(_zone(env)):%a %H:%M} (wake_hours = {env.wake_hours:g})"


def _zone(env: Environment):
    return env.schedule.tz if env.schedule else UTC


def bounds(aws: Aws, env: Environment) -> tuple[int, int] | None:
    """(minimum, maximum) of the service's scalable target, or None before it exists."""
    return aws.autoscaling(env.region).service_bounds(env.names.cluster, env.names.service)


def asleep(aws: Aws, env: Environment) -> bool:
    return env.schedule is not None and (bounds(aws, env) or (1, 1))[1] == 0


def wake_ends(aws: Aws, env: Environment, now: datetime | None = None) -> datetime | None:
    """When the current wake for a release ends, where one is pending."""
    at = aws.autoscaling(env.region).one_time_action(env.names.cluster, env.names.service, WAKE_ENDS)
    return at if at is not None and at > (now or datetime.now(UTC)) else None


def describe(env: Environment, sleeping: bool, now: datetime | None = None, woken_until: datetime | None = None) -> str | None:
    """'asleep until Mon 07:00 (Mon-Fri 07:00-20:00 Europe/Berlin)', or None for a service that always runs."""
    schedule = env.schedule
    if schedule is None:
        return None
    if woken_until is not None and not sleeping:
        return f"awake until {woken_until.astimezone(_zone(env)):%a %H:%M}, woken for a release ({schedule.text})"
    change = schedule.next_change(now or datetime.now(UTC), awake=not sleeping)
    return f"{'asleep until' if sleeping else 'awake until'} {change:%a %H:%M} ({schedule.text})"


def wake(aws: Aws, env: Environment, *, hold: float, now: datetime | None = None) -> Woken | None:
    """Restore the daytime bounds of a sleeping environment and bound the wake; None when it was awake.

    hold: seconds the release may still take; the wake ends wake_hours after them even if the release never says it
    ended (end_wake_after_release moves the end to wake_hours after the release's actual end)."""
    if not asleep(aws, env):
        return None
    aws.autoscaling(env.region).set_service_bounds(env.names.cluster, env.names.service, env.desired_count, env.max_count)
    return bound_wake(aws, env, (now or datetime.now(UTC)) + timedelta(seconds=hold))


def end_wake_after_release(aws: Aws, env: Environment, now: datetime | None = None) -> Woken | None:
    """A pending end of a wake counts from now, the end of a release (each release keeps a woken environment up for
    wake_hours more); None where no wake is pending."""
    now = now or datetime.now(UTC)
    if env.schedule is None or wake_ends(aws, env, now) is None:
        return None
    return bound_wake(aws, env, now)


def bound_wake(aws: Aws, env: Environment, start: datetime) -> Woken:
    """The wake ends wake_hours after `start` (a one-time scheduled action), unless the schedule wakes it first."""
    ends = start + timedelta(hours=env.wake_hours)
    if env.schedule is None or ends >= env.schedule.next_change(start, awake=False):
        # The schedule wakes it before the wake would end: its own next sleep ends the day, and an earlier end of a
        # wake would put it to sleep before the morning.
        aws.autoscaling(env.region).clear_one_time_action(env.names.cluster, env.names.service, WAKE_ENDS)
        return Woken(None)
    aws.autoscaling(env.region).set_service_bounds_at(env.names.cluster, env.names.service, name=WAKE_ENDS, at=ends,
                                                      minimum=0, maximum=0)
    return Woken(ends)
