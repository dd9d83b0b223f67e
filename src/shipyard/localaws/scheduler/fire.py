"""Schedules of the embedded AWS firing at its pace: the time from one occurrence to the next, on AWS's clock in the
schedule's time zone, lasts pace.local() of it here. A rate(5 minutes) schedule fires every 10 s at the default pace.

Firing is what Scheduler does with the target (Scheduler user guide, "Configuring a dead-letter queue" and "Retry
policy"): start an execution of a state machine target; a start that fails is retried up to MaximumRetryAttempts
(with a backoff, compressed like every AWS timer) while the event is younger than MaximumEventAgeInSeconds, then the
event goes to the dead-letter queue with Scheduler's error attributes. A DISABLED schedule does not fire; a changed
one starts over from its new expression. The schedule's role is not evaluated here (the embedded AWS enforces no
IAM policy); SY-E303 checks what it allows, in the template and live.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from shipyard.localaws.core import own_api, pace
from shipyard.localaws.scheduler import clock

TICK = 0.2
_lock = threading.Lock()
_stopping = threading.Event()
_thread: threading.Thread | None = None
# (account, region, arn) -> (the schedule's expression and zone when planned, its next occurrence on AWS's clock, when
# that occurrence is due here)
_planned: dict[tuple[str, str, str], tuple[tuple[str, str], datetime, float]] = {}


def ensure_running() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, daemon=True, name="scheduler")
            _thread.start()


def reset() -> None:
    _stopping.set()
    with _lock:
        thread = _thread
    if thread is not None:
        thread.join(timeout=2)
    _planned.clear()
    _stopping.clear()


def _loop() -> None:
    from moto.scheduler.models import scheduler_backends

    while not _stopping.wait(TICK):
        seen = set()
        for account, regions in list(scheduler_backends.items()):
            for region, backend in list(regions.items()):
                for group in list(backend.schedule_groups.values()):
                    for schedule in list(group.schedules.values()):
                        key = (account, region, schedule.arn)
                        seen.add(key)
                        if schedule.state == "ENABLED":
                            _tick(key, schedule)
        for gone in set(_planned) - seen:
            _planned.pop(gone, None)


def _tick(key: tuple[str, str, str], schedule: Any) -> None:
    plan = (schedule.schedule_expression, schedule.schedule_expression_timezone)
    planned = _planned.get(key)
    now = datetime.now(UTC)
    if planned is None or planned[0] != plan:
        occurrence = clock.next_after(plan[0], plan[1], now)
        if occurrence is not None:
            _planned[key] = (plan, occurrence, time.monotonic() + pace.local((occurrence - now).total_seconds()))
        return
    _, occurrence, due = planned
    if time.monotonic() < due:
        return
    following = clock.next_after(plan[0], plan[1], occurrence)
    if following is None:
        _planned.pop(key, None)
    else:
        _planned[key] = (plan, following, due + pace.local((following - occurrence).total_seconds()))
    threading.Thread(target=_invoke, args=(key[0], key[1], schedule, occurrence), daemon=True, name=f"fire-{schedule.name}").start()


def _invoke(account: str, region: str, schedule: Any, occurrence: datetime) -> None:
    target = schedule.target
    retry = target.get("RetryPolicy", {})
    attempts, oldest = int(retry.get("MaximumRetryAttempts", 185)) + 1, float(retry.get("MaximumEventAgeInSeconds", 86400))
    last, age, exhausted, attempt = "", 0.0, "MaximumRetryAttempts", 0
    for attempt in range(attempts):
        try:
            _start(account, region, target, schedule, occurrence)
            return
        except Exception as exc:  # whatever the target answered is the failure Scheduler records
            last = str(exc)
        backoff = min(60.0 * 2 ** attempt, 3600.0)  # on AWS's clock
        if age + backoff > oldest:
            exhausted = "MaximumEventAgeInSeconds"
            break
        age += backoff
        if _stopping.wait(pace.local(backoff)):
            return
    dead = target.get("DeadLetterConfig", {}).get("Arn")
    if dead:
        name = dead.rsplit(":", 1)[-1]
        sqs = own_api.client(account, "sqs", region)
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody=target.get("Input", "{}"),
                         MessageAttributes={
                             "ERROR_CODE": {"DataType": "String", "StringValue": "TargetInvocationFailed"},
                             "ERROR_MESSAGE": {"DataType": "String", "StringValue": last[:1000] or "unknown"},
                             "EXHAUSTED_RETRY_CONDITION": {"DataType": "String", "StringValue": exhausted},
                             "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(attempt)},
                             "TARGET_ARN": {"DataType": "String", "StringValue": target.get("Arn", "")}})


def _start(account: str, region: str, target: dict[str, Any], schedule: Any, occurrence: datetime) -> None:
    arn = target["Arn"]
    if ":states:" not in arn or ":stateMachine:" not in arn:
        raise ValueError(f"the embedded AWS's scheduler starts Step Functions state machines only, not {arn}")
    # Scheduler names no execution; Step Functions makes a unique name, as for any unnamed start.
    own_api.client(account, "stepfunctions", region).start_execution(
        stateMachineArn=arn, input=target.get("Input") or json.dumps({}),
        name=f"{schedule.name}-{occurrence.strftime('%Y%m%dT%H%M%S')}-{int(time.time() * 1000) % 100000}"[:80])
