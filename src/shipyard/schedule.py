"""An environment's awake hours: `awake = "Mon-Fri 07:00-20:00 Europe/Berlin"`.

Pure: parsing, the two Application Auto Scaling cron expressions (wake and sleep, in the schedule's own time zone, so
daylight saving time is AWS's business), the hours a month the service runs, and whether it is awake at a moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SPEC = re.compile(r"^\s*(?P<days>[A-Za-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})\s+(?P<zone>\S+)\s*$")
EXAMPLE = "Mon-Fri 07:00-20:00 Europe/Berlin"
WEEKS_PER_MONTH = 730 / 168  # the estimate's 730-hour month


@dataclass(frozen=True)
class AwakeSchedule:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    zone: str
    text: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def hours_per_week(self) -> float:
        return len(self.days) * (_minutes(self.end) - _minutes(self.start)) / 60

    @property
    def awake_share(self) -> float:
        """The part of a week the service runs."""
        return self.hours_per_week / 168

    @property
    def hours_per_month(self) -> float:
        return self.hours_per_week * WEEKS_PER_MONTH

    def cron(self, at: time) -> str:
        """Application Auto Scaling's cron (minutes hours day-of-month month day-of-week year), days by name."""
        return f"cron({at.minute} {at.hour} ? * {','.join(DAYS[d].upper() for d in self.days)} *)"

    @property
    def wake_cron(self) -> str:
        return self.cron(self.start)

    @property
    def sleep_cron(self) -> str:
        return self.cron(self.end)

    def is_awake(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return local.weekday() in self.days and self.start <= local.time().replace(second=0, microsecond=0) < self.end

    def next_change(self, moment: datetime, *, awake: bool | None = None) -> datetime:
        """When it next wakes (asleep now) or next sleeps (awake now), in the schedule's time zone. awake: the service's
        own state where it is known (a release wakes it outside the hours; it runs until the next scheduled sleep),
        else the clock's."""
        zone = self.tz
        local = moment.astimezone(zone)
        awake = self.is_awake(moment) if awake is None else awake
        for offset in range(0, 8):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.days:
                continue
            candidate = datetime.combine(day, self.end if awake else self.start, tzinfo=zone)
            if candidate > local:
                return candidate
        raise AssertionError("a schedule with at least one day changes within a week")


def parse_schedule(text: str) -> AwakeSchedule:
    """The schedule, or ValueError saying what is wrong and what is valid."""
    match = _SPEC.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a schedule; write days, hours and an IANA time zone, e.g. {EXAMPLE!r}")
    days = _days(match["days"])
    start, end = _time(match["start"]), _time(match["end"])
    if _minutes(end) <= _minutes(start):
        raise ValueError(f"{text!r}: the end {match['end']} must be after the start {match['start']} on the same day")
    try:
        ZoneInfo(match["zone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r}: {match['zone']!r} is not an IANA time zone; e.g. Europe/Berlin, America/New_York, UTC") from None
    return AwakeSchedule(days=days, start=start, end=end, zone=match["zone"], text=text.strip())


def _days(spec: str) -> tuple[int, ...]:
    index = {name.lower(): number for number, name in enumerate(DAYS)}
    chosen: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first.lower() not in index or (last and last.lower() not in index):
            raise ValueError(f"{spec!r} is not a set of days; use names {'/'.join(DAYS)}, ranges (Mon-Fri) or lists (Mon,Wed)")
        a, b = index[first.lower()], index[(last or first).lower()]
        if b < a:
            raise ValueError(f"{part!r}: a day range runs from Mon towards Sun, e.g. Mon-Fri")
        chosen.update(range(a, b + 1))
    return tuple(sorted(chosen))


def _time(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"{text!r} is not a time of day; use 00:00 to 23:59")
    return time(hours, minutes)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


_CRON = re.compile(r"^cron\((?P<minute>\d+) (?P<hour>\d+) \? \* (?P<days>[A-Z,]+) \*\)$")


def schedule_of(wake_cron: str, sleep_cron: str, zone: str) -> AwakeSchedule:
    """The schedule behind a wake and a sleep action written by AwakeSchedule.cron (the estimate reads them back from
    the template), its text in shipyard.toml's form; ValueError for any other shape."""
    wake, sleep = _CRON.match(wake_cron), _CRON.match(sleep_cron)
    if not (wake and sleep) or wake["days"] != sleep["days"]:
        raise ValueError(f"scheduled actions {wake_cron!r} and {sleep_cron!r} are not an awake schedule shipyard wrote")
    days = tuple(sorted(DAYS.index(name.capitalize()) for name in wake["days"].split(",")))
    start, end = time(int(wake["hour"]), int(wake["minute"])), time(int(sleep["hour"]), int(sleep["minute"]))
    return AwakeSchedule(days, start, end, zone, f"{_day_spec(days)} {start:%H:%M}-{end:%H:%M} {zone}")


def _day_spec(days: tuple[int, ...]) -> str:
    """Mon-Fri for a run of days, Mon,Wed otherwise (as _days reads them)."""
    if days == tuple(range(days[0], days[-1] + 1)) and len(days) > 1:
        return f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
    return ",".join(DAYS[d] for d in days)
