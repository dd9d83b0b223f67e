"""A worker's verdict: after its rollout completed, a bake in which its tasks keep running and no message reaches
its dead-letter queue.

A worker answers no health URL; what is true of it on AWS is what ECS and SQS report. Its deployment is rolling with
the circuit breaker, which fails only tasks that never reach RUNNING (ECS developer guide, "How the Amazon ECS
deployment circuit breaker detects failures"): a worker that starts, then crashes, completes its deployment and keeps
being replaced. So the bake watches it, as long as a web service's bake lasts (blueprint/service.py BAKE_TIME):
every task of the new revision must keep running, and the dead-letter queue must not grow, which is the sign of a
worker that takes messages and fails them. judge_worker is pure; watch_worker reads ECS and SQS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard import ui
from shipyard.aws import Aws
from shipyard.aws.ecs import Task
from shipyard.config import Environment

BAKE_SECONDS = 60.0  # as ECS bakes a blue/green web service (blueprint/service.py BAKE_TIME)
# The embedded AWS runs AWS's timers faster, but a worker's process starts, polls and fails at its own speed, and SQS's
# visibility timeouts pass in real seconds there: its bake never lasts less than this, in real seconds.
BAKE_AT_LEAST = 3.0


@dataclass(frozen=True)
class WorkerState:
    running: int
    desired: int
    stopped: tuple[Task, ...]  # tasks of the new revision that stopped since the release began
    dead_letters: int  # messages in the dead-letter queue now


def judge_worker(state: WorkerState, *, dead_letters_before: int, dead_letter_queue: str) -> list[str]:
    """Problems of a worker during its bake (pure): crashed tasks, fewer running than desired, dead letters added."""
    problems = []
    for task in state.stopped[:3]:
        code = next((c.exit_code for c in task.containers if c.exit_code is not None), None)
        problems.append(f"task {task.id} stopped: {task.stopped_reason or 'no reason given'}"
                        + (f" (exit code {code})" if code is not None else ""))
    if state.running < state.desired and not problems:
        problems.append(f"{state.running} of {state.desired} tasks running")
    added = state.dead_letters - dead_letters_before
    if added > 0:
        problems.append(f"{added} message(s) moved to the dead-letter queue {dead_letter_queue} during the bake: the worker "
                        "received them and failed every delivery")
    return problems


def dead_letters(aws: Aws, env: Environment) -> int:
    """Messages in the worker's dead-letter queue now (0 for one that does not exist yet)."""
    queue = aws.sqs(env.region).queue(env.names.dead_letter_queue)
    return queue.visible + queue.in_flight if queue else 0


def _previous_revision_stopped(aws: Aws, env: Environment, task_definition: str) -> None:
    """Wait (at most a bake's length) until no task of another revision of the worker is still running."""
    ecs, names = aws.ecs(env.region), env.names
    deadline = time.monotonic() + aws.target.lasts(BAKE_SECONDS, at_least=BAKE_AT_LEAST)
    while time.monotonic() < deadline:
        running = ecs.tasks(names.cluster, ecs.task_arns(names.cluster, names.service, "RUNNING"))
        stopping = ecs.tasks(names.cluster, ecs.task_arns(names.cluster, names.service, "STOPPED"))
        if not any(t.task_definition != task_definition and t.last_status != "STOPPED" for t in (*running, *stopping)):
            return
        time.sleep(aws.target.lasts(2, at_least=0.1))


def _settled_dead_letters(aws: Aws, env: Environment) -> int:
    """The dead-letter queue's count once what the previous revision failed has moved there. SQS moves a message that
    reached the redrive limit at its next receive (SQS developer guide, "Using dead-letter queues"): messages the
    previous revision failed up to the limit move when the new revision receives them, at the latest one visibility
    timeout (SQS's own clock, real seconds here too) after the previous revision stopped, plus a few polls."""
    main = aws.sqs(env.region).queue(env.names.queue)
    quiet = aws.target.lasts(5, at_least=0.5)
    deadline = time.monotonic() + (main.visibility_timeout if main else 0) + 4 * quiet
    count = dead_letters(aws, env)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = dead_letters(aws, env)
        if now == count:
            return count
        count = now
    return count


def watch_worker(aws: Aws, env: Environment, task_definition: str, *, since: str) -> list[str]:
    """The bake: problems as soon as one shows, or none once BAKE_SECONDS (on AWS's clock) passed without any.
    since: when the release began, as ECS writes a task's stoppedAt (tasks stopped before it are another story).
    The dead-letter queue is counted from the bake's start, once the previous revision's tasks have stopped and what
    they failed has settled there: that is theirs, not the new revision's."""
    ecs, names = aws.ecs(env.region), env.names
    _previous_revision_stopped(aws, env, task_definition)
    dead_letters_before = _settled_dead_letters(aws, env)
    deadline = time.monotonic() + aws.target.lasts(BAKE_SECONDS, at_least=BAKE_AT_LEAST)
    with ui.waiting(f"{env.name}: {names.service} bake (tasks running, dead-letter queue)") as show:
        while True:
            service = ecs.service_of(names.cluster, names.service)
            if service is None:
                return [f"service {names.service} does not exist"]
            stopped = ecs.tasks(names.cluster, ecs.task_arns(names.cluster, names.service, "STOPPED"))
            state = WorkerState(service.running, service.desired,
                                tuple(t for t in stopped if t.task_definition == task_definition and t.stopped_at >= since), dead_letters(aws, env))
            problems = judge_worker(state, dead_letters_before=dead_letters_before, dead_letter_queue=names.dead_letter_queue)
            if problems or time.monotonic() >= deadline:
                return problems
            show(f"{state.running}/{state.desired} tasks running, {state.dead_letters} dead letters")
            time.sleep(aws.target.lasts(5, at_least=0.25))
