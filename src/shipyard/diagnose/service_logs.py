"""`shipyard logs`: the service's CloudWatch Logs, oldest first, one line per event with its time and task.

Reading is FilterLogEvents over the service's streams (awslogs names them <prefix>/<container>/<task id>).
Following uses CloudWatch Logs Live Tail (StartLiveTail, a response stream of updates every second) where the
endpoint offers it, and otherwise polls FilterLogEvents from the last event seen, at an interval that grows from
one second to POLL_MAX while nothing arrives. Both stop on Ctrl-C with what was shown.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shipyard.aws import Aws
from shipyard.aws.logs import LiveTailEnded, RawEvent
from shipyard.config import Environment
from shipyard.errors import UsageError
from shipyard.naming import CONTAINER, SERVICE_LOG_PREFIX

POLL_MIN, POLL_MAX = 1.0, 5.0
LIVE_TAIL_LIMIT = 3 * 3600  # a Live Tail session ends after three hours; following starts another
_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch, as CloudWatch Logs keeps them
    task: str
    message: str
    event_id: str = ""

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    @property
    def fields(self) -> dict | None:
        """The message as a JSON object (the sample service's request logs), or None for plain text."""
        if not self.message.startswith("{"):
            return None
        try:
            value = json.loads(self.message)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def parse_since(text: str) -> timedelta:
    match = _SINCE.match(text.strip())
    if not match:
        raise UsageError("--since", f"{text!r} is not a duration", "use a number and a unit: 30s, 10m, 2h or 1d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def stream_prefix(task: str | None) -> str:
    return f"{SERVICE_LOG_PREFIX}/{CONTAINER}/{task or ''}"


def filter_pattern(text: str | None) -> str | None:
    """CloudWatch Logs' filter syntax for a phrase: in double quotes, matched as a whole, case-sensitive."""
    return None if not text else '"' + text.replace('"', '\\"') + '"'


def _event(raw: RawEvent) -> LogEvent:
    return LogEvent(raw.timestamp, raw.stream.rsplit("/", 1)[-1], raw.message, raw.event_id)


def read(aws: Aws, env: Environment, *, start: datetime, text: str | None = None, task: str | None = None) -> list[LogEvent]:
    """Every event since `start`, oldest first."""
    raw = aws.logs(env.region).filter(env.names.log_group, stream_prefix=stream_prefix(task), start_ms=int(start.timestamp() * 1000),
                                      pattern=filter_pattern(text))
    if raw is None:
        raise UsageError(f"environment {env.name}", f"has no log group {env.names.log_group}",
                         f"deploy it first: shipyard deploy {env.name}")
    # FilterLogEvents interleaves streams by time within a page, not across pages: sort once.
    return sorted((_event(e) for e in raw), key=lambda e: (e.timestamp, e.event_id))


def follow(aws: Aws, env: Environment, *, start: datetime, text: str | None, task: str | None,
           on_event: Callable[[LogEvent], None], on_mode: Callable[[str], None]) -> None:
    """Print what exists since `start`, then new events as they arrive, until Ctrl-C (KeyboardInterrupt)."""
    seen: set[str] = set()
    last = int(start.timestamp() * 1000)

    def show(event: LogEvent) -> None:
        nonlocal last
        if event.event_id and event.event_id in seen:
            return
        seen.add(event.event_id)
        last = max(last, event.timestamp)
        on_event(event)

    for event in read(aws, env, start=start, text=text, task=task):
        show(event)
    try:
        on_mode("live tail")
        for event in _live_tail(aws, env, text, task):
            show(event)
    except _NoLiveTail as reason:
        on_mode(f"polling every {POLL_MIN:g} to {POLL_MAX:g} s: {reason}")
    interval = POLL_MIN
    while True:
        time.sleep(interval)
        before = len(seen)
        for event in read(aws, env, start=datetime.fromtimestamp(last / 1000, UTC), text=text, task=task):
            show(event)
        interval = POLL_MIN if len(seen) > before else min(POLL_MAX, interval * 2)


class _NoLiveTail(Exception):
    """The endpoint does not offer StartLiveTail (or refused it): follow by polling."""


def _live_tail(aws: Aws, env: Environment, text: str | None, task: str | None) -> Iterator[LogEvent]:
    logs = aws.logs(env.region)
    arn = logs.group_arn(env.names.log_group)
    if arn is None:
        raise _NoLiveTail(f"no log group {env.names.log_group}")
    while True:
        started = time.monotonic()
        try:
            for raw in logs.live_tail(arn, stream_prefix=stream_prefix(task), pattern=filter_pattern(text)):
                yield _event(raw)
        except LiveTailEnded as ended:
            if ended.timed_out:
                continue  # a session lasts at most three hours (LIVE_TAIL_LIMIT): start the next one
            # AWS ends a session only by its timeout; a stream that simply closes will not carry new events.
            raise _NoLiveTail(f"{ended} after {time.monotonic() - started:.0f} s") from None
