"""When a schedule fires: the next occurrence of an EventBridge Scheduler expression in its time zone (Scheduler user
guide, "Schedule types on EventBridge Scheduler"). Pure; fire.py runs the clock.

rate(value unit) fires every value units from its start. cron(minutes hours day-of-month month day-of-week year) is
read by croniter after two translations: Scheduler numbers the days of the week 1-7 from Sunday where croniter counts
0-6, and '?' (no value) is croniter's '*'. The year field filters the occurrences croniter finds. 'W' (nearest
weekday) is refused: croniter does not evaluate it, and a schedule that never fires must not look like one that does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^()]+)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_SEARCH_YEARS = 5


def problem(expression: str) -> str | None:
    """Why the embedded AWS cannot fire this expression, or None."""
    cron = _CRON.match(expression)
    if cron is None:
        return None if _RATE.match(expression) else f"{expression!r} is neither rate(...) nor cron(...)"
    fields = cron[1].split()
    if len(fields) != 6:
        return f"{expression!r} has {len(fields)} fields; cron takes six"
    if "W" in fields[2]:
        return f"{expression!r}: the embedded AWS does not evaluate W (nearest weekday) in day-of-month"
    try:
        croniter(_croniter_expression(fields))
    except (ValueError, KeyError) as exc:
        return f"{expression!r}: {exc}"
    return None


def interval(expression: str) -> float | None:
    """A rate's seconds between two occurrences; None for a cron expression."""
    rate = _RATE.match(expression)
    return int(rate[1]) * _UNIT[rate[2].rstrip("s")] if rate else None


def next_after(expression: str, zone: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after` (aware), or None within the next years (a year field in the past)."""
    every = interval(expression)
    if every is not None:
        return after + timedelta(seconds=every)
    fields = _CRON.match(expression)[1].split()
    years = _years(fields[5])
    found = croniter(_croniter_expression(fields), after.astimezone(ZoneInfo(zone)))
    for _ in range(366 * 24 * 60):  # at most one occurrence a minute for a year
        occurrence = found.get_next(datetime)
        if occurrence.year > after.year + _SEARCH_YEARS:
            return None
        if years is None or occurrence.year in years:
            return occurrence
    return None


def _croniter_expression(fields: list[str]) -> str:
    minutes, hours, day_of_month, month, day_of_week, _year = fields
    return " ".join([minutes, hours, day_of_month.replace("?", "*"), month, _weekdays(day_of_week.replace("?", "*"))])


def _weekdays(field: str) -> str:
    """Scheduler's 1-7 (Sunday first) as croniter's 0-6; names and '#n' stay."""
    return re.sub(r"(?<![#\d])([1-7])(?!\d)", lambda m: str(int(m[1]) - 1), field)


def _years(field: str) -> set[int] | None:
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        low, _, high = span.partition("-")
        first = int(low) if low != "*" else 1970
        years.update(range(first, (int(high) if high else (2199 if step else first)) + 1, int(step or 1)))
    return years
