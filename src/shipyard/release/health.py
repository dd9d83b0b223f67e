"""The health gate: the health URL, reached through the edge, must answer 200 N times in a row."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class GateResult:
    passed: bool
    streak: int
    attempts: int
    last: str  # the last answer: "200", "503", or the connection error
    timeout: float = 0.0  # how long it was allowed to take


def gate(url: str, *, successes: int, timeout: float, interval: float = 2.0,
         on_answer: Callable[[int, str], None] = lambda streak, last: None) -> GateResult:
    """Ask until `successes` 200s in a row or the timeout; on_answer(streak, last) after each answer."""
    deadline = time.monotonic() + timeout
    streak = attempts = 0
    last = "no answer"
    while True:
        attempts += 1
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "shipyard-health-gate"}),
                                        timeout=10) as response:
                last = str(response.status)
        except urllib.error.HTTPError as exc:
            last = str(exc.code)
        except (urllib.error.URLError, OSError) as exc:
            last = f"unreachable: {getattr(exc, 'reason', exc)}"
        streak = streak + 1 if last == "200" else 0
        on_answer(streak, last)
        if streak >= successes:
            return GateResult(True, streak, attempts, last, timeout)
        if time.monotonic() + interval > deadline:
            return GateResult(False, streak, attempts, last, timeout)
        time.sleep(interval)
